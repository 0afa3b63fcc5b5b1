"""`hyperscale dr backup` + `dr restore` (with verification) against a plain
`mariadb-dump --single-transaction | mariadb` round trip of the same data.

Run: PYTHONPATH=. .venv/bin/python benchmarks/dr_backup.py [--orders 1000000]

A MariaDB of its own is started through hyperscale's own service code (a temporary state
directory, a free loopback port, the platform schema), filled with N orders in one
INSERT ... SELECT, then:

- hyperscale: `dr backup` (mariadb-backup under a global read lock, prepared, with the
  manifest's row counts and checksums) and `dr restore` into a scratch MariaDB, which
  includes starting that server and verifying every table against the manifest;
- baseline: `mariadb-dump --single-transaction` of the platform database to a file, then
  `mariadb` loading it into an empty server that is already running (its start is not
  counted, which favours the baseline) and nothing verified.

Each side is timed as a person runs it (the CLI's start-up included). One run; figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hyperscale.clients.mysql import apply_migrations  # noqa: E402
from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.config.models import Environment  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402
from hyperscale.dr.restore import discard, free_loopback_port  # noqa: E402
from hyperscale.dr.scratch import ScratchMariaDB  # noqa: E402
from hyperscale.local import core  # noqa: E402
from hyperscale.local.core import ensure_running  # noqa: E402

#: This checkout's CLI, whatever the virtualenv has installed.
HYPERSCALE = [sys.executable, "-m", "hyperscale"]


class BaselineTarget(ScratchMariaDB):
    """An empty MariaDB (mariadb-install-db) for the baseline to load its dump into."""

    name = "mysql-baseline"


def timed(
    argv: list[str],
    env: dict[str, str],
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        argv,
        env=env,
        check=True,
        stdin=stdin,
        stdout=stdout or subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return time.monotonic() - started, done.stdout or ""


def site(work: Path) -> tuple[Environment, AppContext]:
    """The local environment on a free port, its state in ``work``."""
    environments = work / "environments"
    shutil.copytree(AppContext.from_os().environments_dir, environments)
    local = environments / "local.yaml"
    document = yaml.safe_load(local.read_text())
    port = free_loopback_port()
    document["mysql"]["writer"] = document["mysql"]["reader"] = f"127.0.0.1:{port}"
    local.write_text(yaml.safe_dump(document))
    environ = {
        **os.environ,
        "HYPERSCALE_STATE_DIR": str(work / "state"),
        "HYPERSCALE_ENVIRONMENTS_DIR": str(environments),
        "PYTHONPATH": str(ROOT),
    }
    app = AppContext(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        state_dir=work / "state",
        environments_dir=environments,
        environ=environ,
    )
    return load_environment(app, "local"), app


def seed(env: Environment, app: AppContext, socket_path: str, orders: int) -> None:
    up = core.up(env, app, ["mysql"])
    assert all(s.state.healthy for s in up.services), up.to_data()
    apply_migrations(env, app, app.services_dir / "schema" / "migrations")
    started = time.monotonic()
    # orders is an int from argparse
    insert = (
        "INSERT INTO orders (order_id, customer_id, status, total_cents, currency, created_at)"  # noqa: S608
        " SELECT UUID(), CONCAT('c-', seq MOD 5000), 'placed', seq * 7, 'EUR', NOW()"
        f" FROM seq_1_to_{int(orders)}"
    )
    user = getpass.getuser()
    subprocess.run(
        ["mariadb", f"--socket={socket_path}", f"--user={user}", env.mysql.database, "-e", insert],
        check=True,
    )
    print(f"seeded {orders} orders in {time.monotonic() - started:.1f}s")


def ours(env: Environment, app: AppContext) -> dict[str, float]:
    cli = [*HYPERSCALE, "dr"]
    backup_s, out = timed([*cli, "backup", "--env", "local", "-o", "json"], app.environ)
    manifest = json.loads(out)["data"]["backup"]
    restore_s, out = timed([*cli, "restore", "--env", "local", "-o", "json"], app.environ)
    restored = json.loads(out)["data"]
    assert restored["verification"]["ok"], restored
    discard(env, app)
    return {
        "backup_s": round(backup_s, 2),
        "write_pause_s": manifest["write_pause_seconds"],
        "size_bytes": manifest["size_bytes"],
        "restore_and_verify_s": round(restore_s, 2),
        "restore_s_inside": restored["restore_seconds"],
        "verify_s_inside": restored["verification"]["seconds"],
    }


def baseline(
    env: Environment, app: AppContext, socket_path: str, target: BaselineTarget, work: Path
) -> dict[str, float]:
    user = getpass.getuser()
    dump = work / "dump.sql"
    with dump.open("w") as handle:
        dump_s, _ = timed(
            ["mariadb-dump", f"--socket={socket_path}", f"--user={user}",
             "--single-transaction", env.mysql.database],
            app.environ, stdout=handle,
        )  # fmt: skip
    outcome = ensure_running(target)
    assert outcome.state.healthy, outcome.detail
    client = ["mariadb", f"--socket={target.socket_path}", f"--user={user}"]
    # The target's start-up made the platform's (empty) database and user, as for ours.
    with dump.open() as handle:
        load_s, _ = timed([*client, env.mysql.database], app.environ, stdin=handle)
    return {
        "dump_s": round(dump_s, 2),
        "size_bytes": dump.stat().st_size,
        "load_s": round(load_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dr-bench-"))
    env, app = site(work)
    socket_path = str(work / "state" / "services" / "mysql" / "mysqld.sock")
    target = BaselineTarget(env, app, free_loopback_port())
    try:
        seed(env, app, socket_path, args.orders)
        hs = ours(env, app)
        print(json.dumps(hs))
        base = baseline(env, app, socket_path, target, work)
        results = {
            "orders": args.orders,
            "hyperscale": hs,
            "baseline": base,
            "restore_ratio": round(base["load_s"] / hs["restore_and_verify_s"], 1),
            "round_trip_ratio": round(
                (base["dump_s"] + base["load_s"]) / (hs["backup_s"] + hs["restore_and_verify_s"]),
                1,
            ),
        }
        print(json.dumps(results, indent=2))
    finally:
        with target.process.lock():
            target.process.stop()
        discard(env, app)
        core.down(env, app, ["mysql"])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
