"""`hyperscale dr drill replica-promotion`: orders flow into the primary, the primary crashes
(SIGKILL), the replica applies what it received and is promoted (read-write, following
nothing), the writer is pointed at it and orders flow again; every order whose commit the
primary acknowledged must be on the promoted replica. Replication here is asynchronous, so a
transaction committed on the primary but not yet shipped can be lost: the drill counts them.

The environment file is not changed: the drill's own order stream is the writer it repoints.
Afterwards the original topology comes back: the primary is started again, the replica is
seeded from it again (its post-promotion writes are drill data) and made read-only."""

from __future__ import annotations

import getpass
import time
import uuid
from dataclasses import dataclass

from hyperscale.clients.mysql_replica import (
    ReplicaSetup,
    disable_semi_sync,
    enable_semi_sync,
    promote_replica,
    replica_status,
    set_read_only,
)
from hyperscale.clients.order_stream import OrderStream, delete_orders, orders_of
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.drills.results import DrillReport
from hyperscale.errors import UsageError
from hyperscale.local.core import ensure_running
from hyperscale.local.services.mariadb import MariaDBService
from hyperscale.local.services.mariadb_replica import MariaDBReplicaService
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local


@dataclass(frozen=True)
class PromotionSettings:
    rate: float = 50.0
    #: Seconds of orders before the crash, and on the promoted replica after it.
    before: float = 3.0
    after: float = 2.0
    #: Semi-synchronous replication (AFTER_SYNC) for the drill: zero loss is then the design.
    semi_sync: bool = False


def replica_promotion(
    env: Environment, app: AppContext, settings: PromotionSettings, progress: Progress = quiet
) -> DrillReport:
    require_local(env, app, "the promotion drill crashes the local primary", hint="--env local")
    if not MariaDBReplicaService.applies_to(env):
        raise UsageError(MariaDBReplicaService.absent_reason(env))
    return run_drill(
        app, "replica-promotion", env.name, lambda run: _drill(run, env, app, settings), progress
    )


def _drill(run: DrillRun, env: Environment, app: AppContext, s: PromotionSettings) -> None:
    cfg = env.mysql
    os_user = getpass.getuser()
    primary, replica = MariaDBService(env, app), MariaDBReplicaService(env, app)
    with run.step("steady state: the replica follows the primary"):
        status = replica_status(replica.socket_path, os_user)
        ok = status is not None and status.io_running == "Yes" and status.sql_running == "Yes"
        if not run.check("replica replicating", ok, status.source if status else "not a replica"):
            return
    if s.semi_sync:
        with run.step("semi-synchronous replication (AFTER_SYNC)"):
            setup = ReplicaSetup(
                primary.socket_path, replica.socket_path, os_user, cfg.writer, cfg.database, ""
            )
            run.undo_later(
                "the replica back to asynchronous",
                lambda: disable_semi_sync(replica.socket_path, os_user),
            )
            if not run.check("semi-sync active on the primary", enable_semi_sync(setup)):
                return
    password = resolve_secret(app, cfg.password, env.aws)
    customer = f"dr-drill-{uuid.uuid4().hex[:8]}"
    stream = OrderStream(
        cfg.writer, cfg.user, password, cfg.database, rate=s.rate, customer=customer
    )
    with run.step(f"orders into the primary: {s.rate:g}/s for {s.before:g}s"):
        run.undo_later(
            "delete the drill's orders (on the primary; replicated)",
            lambda: delete_orders(cfg.writer, cfg.user, password, cfg.database, customer),
        )
        stream.start()
        run.sleep(s.before)
    with run.step(f"crash the primary ({cfg.writer}) with SIGKILL"):
        crashed_at = time.monotonic()
        primary.process.kill()
        run.undo_later(
            "make the replica read-only again", lambda: set_read_only(replica.socket_path, os_user)
        )
        run.undo_later("seed the replica from the primary again", lambda: ensure_running(replica))
        run.undo_later("start the primary again", lambda: ensure_running(primary))
        tally = stream.stop()
    with run.step(f"promote the replica ({cfg.reader})"):
        position = promote_replica(replica.socket_path, os_user)
        run.measure("promoted_at_gtid", position)
        run.measure("seconds_to_promote", round(time.monotonic() - crashed_at, 3))
    with run.step(f"the writer points at the promoted replica: orders for {s.after:g}s"):
        after = OrderStream(
            cfg.reader, cfg.user, password, cfg.database, rate=s.rate, customer=customer
        )
        after.start()
        run.sleep(s.after)
        written = after.stop()
        first = written.committed[0][1] if written.committed else None
        run.check(
            "the promoted replica takes writes",
            bool(written.committed) and not written.errors,
            f"{len(written.committed)} orders"
            + (f"; {written.errors[0]}" if written.errors else ""),
        )
        run.measure("rto_seconds", None if first is None else round(first - crashed_at, 3))
    with run.step("count the committed orders the promotion lost"):
        present = orders_of(cfg.reader, cfg.user, password, cfg.database, customer)
        acknowledged = [order for order, _ in tally.committed]
        lost = [order for order in acknowledged if order not in present]
        run.measure("orders_acknowledged_by_primary", len(acknowledged))
        run.measure("committed_orders_lost", len(lost))
        run.measure("replication", "semi-synchronous" if s.semi_sync else "asynchronous")
        run.check(
            "no order the primary acknowledged is lost",
            not lost,
            f"{len(lost)} of {len(acknowledged)} lost (asynchronous replication)"
            if lost
            else f"all {len(acknowledged)} on the promoted replica",
        )
