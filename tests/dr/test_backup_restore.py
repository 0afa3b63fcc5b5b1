"""`hyperscale dr backup|backups|restore|verify|discard` on a real MariaDB: a backup of 100k
orders restores into a scratch server and verifies; a row changed there fails verification,
naming the table; bad input is refused in one line before anything is touched."""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import pytest

from hyperscale.dr.scratch import ScratchMariaDB
from hyperscale.dr.store import Manifest, expired
from tests.conftest import CliOutcome, invoke
from tests.dr.conftest import DrSite, seed_orders

pytestmark = pytest.mark.mysql


def _json(site: DrSite, *args: str) -> tuple[CliOutcome, dict[str, Any]]:
    outcome = invoke(site.app, "dr", *args, "--env", "local", "-o", "json")
    document = json.loads(outcome.stdout)
    assert document["exit_code"] == outcome.exit_code
    return outcome, document


def _orders(site: DrSite, port: int | None = None) -> int:
    with site.connect(port) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders")
        return int(cur.fetchone()[0])


def test_100k_orders_back_up_restore_into_scratch_and_verify_then_a_changed_row_fails(
    dr_site: DrSite,
) -> None:
    seed_orders(dr_site, 100_000, "dr-acceptance")
    outcome, document = _json(dr_site, "backup")
    assert outcome.exit_code == 0, outcome.stderr
    manifest = document["data"]["backup"]
    tables = {t["table"]: t for t in manifest["tables"]}
    assert tables["orders"]["rows"] == _orders(dr_site) >= 100_000
    assert tables["orders"]["checksum"]
    assert manifest["binlog_file"].startswith("mysql-bin.")
    assert manifest["binlog_position"] > 0
    assert manifest["size_bytes"] > 0

    listed = _json(dr_site, "backups")[1]["data"]["backups"]
    assert manifest["id"] in [b["id"] for b in listed]

    # Writes after the backup are not in the restore: the scratch holds the backup's point.
    seed_orders(dr_site, 10, "dr-after-backup")
    outcome, document = _json(dr_site, "restore")
    assert outcome.exit_code == 0, outcome.stderr
    restored = document["data"]
    assert restored["verification"]["ok"] is True
    assert restored["backup"] == manifest["id"]
    port = int(restored["address"].rsplit(":", 1)[1])
    assert _orders(dr_site, port) == tables["orders"]["rows"]

    with dr_site.connect(port) as conn, conn.cursor() as cur:
        cur.execute("UPDATE orders SET total_cents = total_cents + 1 LIMIT 1")
    outcome = invoke(dr_site.app, "dr", "verify", "--env", "local")
    assert outcome.exit_code == 1
    assert "orders" in outcome.stdout
    assert "checksum" in outcome.stdout
    outcome, document = _json(dr_site, "verify")
    assert document["data"]["verification"]["differences"] == ["orders"]

    outcome = invoke(dr_site.app, "dr", "discard", "--env", "local")
    assert outcome.exit_code == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_bad_input_is_one_line_with_the_right_code_and_touches_nothing(dr_site: DrSite) -> None:
    outcome = invoke(dr_site.app, "dr", "backup", "--env", "local")
    assert outcome.exit_code == 0, outcome.stderr
    record = ScratchMariaDB(dr_site.env, dr_site.app, 0).record_path

    outcome = invoke(dr_site.app, "dr", "restore", "--env", "local", "--backup", "nope")
    assert outcome.exit_code == 2
    assert outcome.stderr.count("\n") == 1
    assert "no backup 'nope'" in outcome.stderr
    assert not record.exists()

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        outcome = invoke(dr_site.app, "dr", "restore", "--env", "local", "--port", str(taken))
    assert outcome.exit_code == 2
    assert outcome.stderr.count("\n") == 1
    assert f"port {taken}" in outcome.stderr
    assert not record.exists()

    outcome = invoke(dr_site.app, "dr", "restore", "--env", "prod", "--in-place", "--yes")
    assert outcome.exit_code == 2
    assert "prod is protected" in outcome.stderr
    assert outcome.stderr.count("\n") == 1

    before = _orders(dr_site)
    outcome = invoke(dr_site.app, "dr", "restore", "--env", "local", "--in-place")
    assert outcome.exit_code == 2
    assert "--yes" in outcome.stderr
    outcome = invoke(dr_site.app, "dr", "restore", "--env", "local", "--in-place", "--dry-run")
    assert outcome.exit_code == 0
    assert "move its data directory aside" in outcome.stdout
    assert _orders(dr_site) == before


def test_in_place_restore_brings_back_the_backup_and_keeps_the_replaced_data(
    dr_site: DrSite,
) -> None:
    outcome, document = _json(dr_site, "backup")
    assert outcome.exit_code == 0, outcome.stderr
    expected = {t["table"]: t["rows"] for t in document["data"]["backup"]["tables"]}["orders"]
    seed_orders(dr_site, 25, "dr-lost-by-restore")
    assert _orders(dr_site) == expected + 25

    outcome, document = _json(dr_site, "restore", "--in-place", "--yes")
    assert outcome.exit_code == 0, outcome.stderr
    assert document["data"]["verification"]["ok"] is True
    assert _orders(dr_site) == expected
    kept = [n for n in document["data"]["notes"] if "kept in" in n]
    assert kept


def test_retention_keeps_the_newest_count_and_drops_the_old() -> None:
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)

    def made(days_ago: float) -> Manifest:
        at = (now - dt.timedelta(days=days_ago)).isoformat()
        return Manifest(
            f"b{days_ago}",
            "local",
            "mariadb-backup",
            "hyperscale",
            at,
            at,
            "",
            0,
            "",
            1,
            "x",
            0.0,
            0.0,
        )

    backups = [made(d) for d in (0, 1, 2, 3, 20)]
    by_count = expired(backups, keep=3, max_age=None, now=now)
    assert [m.id for m in by_count] == ["b3", "b20"]
    by_age = expired(backups, keep=10, max_age=dt.timedelta(days=14), now=now)
    assert [m.id for m in by_age] == ["b20"]
    # The newest stays even when it is too old itself.
    assert expired([made(30)], keep=1, max_age=dt.timedelta(days=1), now=now) == []


def test_backup_applies_retention_and_lists_what_it_removed(dr_site: DrSite) -> None:
    first = _json(dr_site, "backup")[1]["data"]["backup"]["id"]
    outcome, document = _json(dr_site, "backup", "--keep", "1")
    assert outcome.exit_code == 0
    assert first in document["data"]["pruned"]
    listed = _json(dr_site, "backups")[1]["data"]["backups"]
    assert [b["id"] for b in listed] == [document["data"]["backup"]["id"]]


def _customers(site: DrSite, port: int) -> dict[str, int]:
    with site.connect(port) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT customer_id, COUNT(*) FROM orders WHERE customer_id LIKE 'pitr-%' GROUP BY 1"
        )
        return {str(c): int(n) for c, n in cur.fetchall()}


def test_point_in_time_recovery_replays_the_binary_logs_up_to_the_time_given(
    dr_site: DrSite,
) -> None:
    import time

    backup = _json(dr_site, "backup")[1]["data"]["backup"]
    seed_orders(dr_site, 10, "pitr-before")
    time.sleep(1.2)  # binary log times have whole seconds: a second between each side
    point = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    seed_orders(dr_site, 10, "pitr-after")

    outcome = invoke(
        dr_site.app, "dr", "restore", "--env", "local", "--until", "2001-01-01T00:00:00Z"
    )
    assert outcome.exit_code == 2
    assert "before backup" in outcome.stderr

    outcome, document = _json(dr_site, "restore", "--until", point.isoformat())
    assert outcome.exit_code == 0, outcome.stderr
    data = document["data"]
    assert data["backup"] == backup["id"]
    assert data["verification"]["ok"] is True  # the backup itself, before rolling forward
    assert data["transactions_replayed"] >= 1
    port = int(data["address"].rsplit(":", 1)[1])
    assert _customers(dr_site, port) == {"pitr-before": 10}
    assert invoke(dr_site.app, "dr", "discard", "--env", "local").exit_code == 0
