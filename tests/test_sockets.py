"""Unix socket paths past the kernel's limit move to a short private directory."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperscale.errors import ConfigError
from hyperscale.sockets import MAX_SOCKET_PATH, socket_path


@pytest.fixture
def temporary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temporary directory of the test's own, standing in for the system's."""
    directory = Path(tempfile.mkdtemp(prefix="hs-"))
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    yield directory
    shutil.rmtree(directory)


def test_a_path_that_fits_is_kept(temporary: Path) -> None:
    wanted = Path("/srv/state/platform/supervisord.sock")
    assert socket_path(wanted) == wanted
    assert not (temporary / f"hyperscale-{os.getuid()}").exists()


def test_a_deep_path_gets_a_short_private_one_that_binds(temporary: Path) -> None:
    home = temporary / ("deep-" * 30) / "services" / "mysql-replica"
    wanted = home / "mysqld.sock"
    short = socket_path(wanted)
    assert short.name == "mysqld.sock"
    assert len(os.fsencode(short)) <= MAX_SOCKET_PATH
    assert short == socket_path(wanted)  # the same home, the same socket
    assert socket_path(temporary / ("other-" * 30) / "mysqld.sock") != short
    assert (short.parent.parent.stat().st_mode & 0o777) == 0o700
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(short))  # what the long path could not do
    with socket.socket(socket.AF_UNIX) as server, pytest.raises(OSError, match="too long"):
        server.bind(str(wanted))


def test_a_shared_directory_in_its_place_is_refused(temporary: Path) -> None:
    planted = temporary / f"hyperscale-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    with pytest.raises(ConfigError, match="not a private directory"):
        socket_path(temporary / ("deep-" * 30) / "mysqld.sock")
