"""`dr drill replica-promotion` on a real primary and replica of its own: the primary is
killed under an order stream, the replica promoted and written to, the orders the primary
acknowledged counted on it; afterwards the replica follows the primary again, read-only."""

from __future__ import annotations

import getpass
import json

import pytest

from hyperscale.clients.mysql_replica import replica_status
from hyperscale.local.services.mariadb_replica import MariaDBReplicaService
from tests.conftest import invoke
from tests.dr.conftest import DrSite
from tests.support import wait_for

pytestmark = pytest.mark.mysql


@pytest.mark.parametrize("semi_sync", [False, True], ids=["async", "semi-sync"])
def test_promotion_counts_lost_orders_and_puts_the_topology_back(
    dr_replicated_site: DrSite, semi_sync: bool
) -> None:
    site = dr_replicated_site
    outcome = invoke(
        site.app,
        "dr", "drill", "replica-promotion", "--env", "local",
        "--rate", "40", "--before", "2", "--after", "1",
        *(["--semi-sync"] if semi_sync else []),
        "-o", "json",
    )  # fmt: skip
    data = json.loads(outcome.stdout)["data"]
    figures = data["measurements"]
    checks = {c["name"]: c["ok"] for c in data["checks"]}
    assert checks["the promoted replica takes writes"], data
    assert figures["orders_acknowledged_by_primary"] >= 40
    # Asynchronous replication may lose the last transactions: the verdict says so, exactly.
    # Semi-synchronous (AFTER_SYNC) acknowledges only what the replica has: none may be lost.
    lost = figures["committed_orders_lost"]
    if semi_sync:
        assert lost == 0, data
        assert figures["replication"] == "semi-synchronous"
    assert (data["verdict"], outcome.exit_code) == (("ok", 0) if lost == 0 else ("deviated", 1))
    assert 0 < figures["seconds_to_promote"] <= figures["rto_seconds"]
    assert data["error"] is None, data

    replica = MariaDBReplicaService(site.env, site.app)
    status = wait_for(
        lambda: (
            (s := replica_status(replica.socket_path, getpass.getuser()))
            and s.io_running == "Yes"
            and s.sql_running == "Yes"
            and s
        ),
        30,
        "the replica to follow the primary again",
    )
    assert status.source == str(site.env.mysql.writer)
    with site.connect(site.env.mysql.reader.port) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.read_only")
        assert cur.fetchone()[0] == 1
    with site.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders WHERE customer_id LIKE 'dr-drill-%'")
        assert cur.fetchone()[0] == 0
