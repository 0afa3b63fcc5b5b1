"""Servers the health tests check: one plain HTTP server and one HTTPS server whose
certificate expires in three days, each started once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.health.servers import Certificates, http_server, make_certificates


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    with http_server() as base:
        yield base


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("tls")), days=3)


@pytest.fixture(scope="module")
def tls_web(certificates: Certificates) -> Iterator[str]:
    with http_server(certificates.server_context()) as base:
        yield base
