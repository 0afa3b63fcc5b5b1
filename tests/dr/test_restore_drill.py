"""`dr drill restore` on a real MariaDB: a backup taken while orders flow is restored into
scratch and verified; the RPO (orders and seconds the backup missed) and the RTO are
measured, and the restore holds every order committed before the backup began."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.dr.conftest import DrSite

pytestmark = pytest.mark.mysql


def test_restore_drill_under_an_order_stream_measures_rpo_and_rto(dr_site: DrSite) -> None:
    outcome = invoke(
        dr_site.app,
        "dr", "drill", "restore", "--env", "local",
        "--rate", "40", "--before", "1", "--after", "1.5",
        "-o", "json",
    )  # fmt: skip
    document = json.loads(outcome.stdout)
    data = document["data"]
    assert (outcome.exit_code, data["verdict"]) == (0, "ok"), data
    checks = {c["name"]: c["ok"] for c in data["checks"]}
    assert checks["every order committed before the backup began is restored"]
    assert checks["no order committed after the backup ended is restored"]
    assert checks["verification: row counts and checksums match the manifest"]
    figures = data["measurements"]
    # Orders flowed for 1.5 s after the backup: the backup missed them, and says so.
    assert figures["rpo_orders"] >= 1
    assert figures["rpo_seconds"] >= 1.0
    assert figures["orders_restored"] + figures["rpo_orders"] == figures["orders_committed"]
    assert 0 < figures["restore_seconds"] <= figures["rto_seconds"]
    assert Path(data["journal"]).is_file()
    # The drill cleans up: no scratch server left, none of its orders left on the primary.
    assert invoke(dr_site.app, "dr", "verify", "--env", "local").exit_code == 2
    with dr_site.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders WHERE customer_id LIKE 'dr-drill-%'")
        assert cur.fetchone()[0] == 0
