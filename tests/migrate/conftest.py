"""The rich Subversion repository (built once per test module) and ways to run the command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperscale.context import AppContext
from tests.conftest import CliOutcome, invoke
from tests.migrate.builders import RichRepository, build_rich

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> RichRepository:
    return build_rich(tmp_path_factory.mktemp("svn-rich"))


def migrate(app: AppContext, *args: str) -> CliOutcome:
    return invoke(app, "migrate", "svn", *args)


def migrate_json(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = migrate(app, *args, "-o", "json")
    return outcome.exit_code, json.loads(outcome.stdout)


def mapped(repo: RichRepository) -> list[str]:
    """The options that map every author (mallory through the default domain)."""
    return ["--authors", str(repo.authors_file), "--default-domain", "example.com"]


def start_migration(*args: str) -> subprocess.Popen[str]:
    """`hyperscale migrate svn` as its own process, as a user (or cron) starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "hyperscale", "migrate", "svn", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def svnserve(rich: RichRepository) -> Iterator[str]:
    """svnserve on loopback serving the rich repository's parent: a real svn:// URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    listen = ["--listen-host", "127.0.0.1", "--listen-port", str(port)]
    server = subprocess.Popen(
        ["svnserve", "--foreground", "-d", *listen, "-r", str(rich.path.parent)]
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"svn://127.0.0.1:{port}/{rich.path.name}"
    server.terminate()
    server.wait(timeout=10)
