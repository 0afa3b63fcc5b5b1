"""The guard itself: tests cannot read real credentials or leave loopback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.guard import REAL_HOME, GuardViolationError


def test_reading_real_aws_credentials_fails() -> None:
    with pytest.raises(GuardViolationError, match=r"\.aws"):
        (REAL_HOME / ".aws" / "credentials").open()


def test_reading_real_kubeconfig_fails() -> None:
    with pytest.raises(GuardViolationError, match=r"\.kube"):
        Path("~/.kube/config").expanduser().read_text()


def test_connecting_outside_loopback_fails_before_any_packet() -> None:
    with socket.socket() as sock, pytest.raises(GuardViolationError, match=r"192\.0\.2\.10"):
        sock.connect(("192.0.2.10", 443))  # TEST-NET-1: never routed


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_environment_points_sdks_away_from_real_accounts() -> None:
    assert "absent" in os.environ["KUBECONFIG"]
    assert "absent" in os.environ["AWS_SHARED_CREDENTIALS_FILE"]


def test_looking_up_a_public_name_fails() -> None:
    with pytest.raises(GuardViolationError, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)


def test_a_relative_path_to_real_credentials_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REAL_HOME)
    with pytest.raises(GuardViolationError, match=r"\.aws"):
        Path(".aws/config").read_text()
