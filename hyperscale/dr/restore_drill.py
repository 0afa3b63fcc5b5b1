"""`hyperscale dr drill restore`: a backup taken while orders flow, restored into a scratch
MariaDB and verified. Measured: the RPO (what the backup missed when the primary is lost a
few seconds later: orders and seconds) and the RTO (restore + verification). Checked: every
order committed before the backup began is restored, none committed after it ended is, and
the restored orders are exactly the first N of the commit order (a consistent cut)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from hyperscale.clients.order_stream import OrderStream, StreamTally, delete_orders, orders_of
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.dr.core import backup, local_primary
from hyperscale.dr.restore import discard, restore
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.drills.results import DrillReport
from hyperscale.progress import Progress, quiet


@dataclass(frozen=True)
class RestoreDrillSettings:
    #: Orders per second, one per transaction.
    rate: float = 50.0
    #: Seconds of orders before the backup, and after it until the primary is "lost".
    before: float = 2.0
    after: float = 3.0
    keep: int = 7


def restore_drill(
    env: Environment,
    app: AppContext,
    settings: RestoreDrillSettings,
    progress: Progress = quiet,
) -> DrillReport:
    local_primary(env, app, "the restore drill backs up the local MariaDB")
    return run_drill(
        app, "restore", env.name, lambda run: _drill(run, env, app, settings), progress
    )


def _drill(run: DrillRun, env: Environment, app: AppContext, s: RestoreDrillSettings) -> None:
    cfg = env.mysql
    password = resolve_secret(app, cfg.password, env.aws)
    customer = f"dr-drill-{uuid.uuid4().hex[:8]}"
    stream = OrderStream(
        cfg.writer, cfg.user, password, cfg.database, rate=s.rate, customer=customer
    )
    with run.step(f"steady order stream: {s.rate:g} orders/s, one per transaction"):
        stream.start()
        run.undo_later("stop the order stream", stream.stop)
        run.undo_later(
            "delete the drill's orders",
            lambda: delete_orders(cfg.writer, cfg.user, password, cfg.database, customer),
        )
        run.sleep(s.before)
    with run.step("back up while orders flow"):
        backup_started = time.monotonic()
        taken = backup(env, app, keep=s.keep, max_age=None)
        backup_ended = time.monotonic()
        run.measure("backup_id", taken.manifest.id)
        run.measure("backup_seconds", round(backup_ended - backup_started, 3))
        run.measure("write_pause_seconds", taken.manifest.write_pause_seconds)
        run.measure("backup_bytes", taken.manifest.size_bytes)
    with run.step(f"orders go on for {s.after:g}s, then the primary is lost"):
        run.sleep(s.after)
        tally = stream.stop()
        lost_at = time.monotonic()
        run.check("order stream ran without errors", not tally.errors, "; ".join(tally.errors[:2]))
        run.measure("slowest_commit_ms", round(tally.slowest_commit * 1000, 1))
    with run.step("restore into a scratch MariaDB and verify"):
        restored = restore(env, app, backup_id=taken.manifest.id)
        run.undo_later("discard the scratch MariaDB", lambda: discard(env, app))
        ok = restored.verification is not None and restored.verification.ok
        differences = restored.verification.differences if restored.verification else []
        run.check(
            "verification: row counts and checksums match the manifest",
            ok,
            ", ".join(c.table for c in differences),
        )
        run.measure("restore_seconds", round(restored.restore_seconds, 3))
        run.measure("rto_seconds", round(restored.rto_seconds, 3))
    with run.step("what the restore holds of the stream"):
        address = Endpoint.model_validate(restored.address)
        present = orders_of(address, cfg.user, password, cfg.database, customer)
        _judge(run, tally, present, (backup_started, backup_ended, lost_at))


def _judge(
    run: DrillRun, tally: StreamTally, present: set[str], times: tuple[float, float, float]
) -> None:
    backup_started, backup_ended, lost_at = times
    committed = tally.committed
    restored_count = sum(1 for order_id, _ in committed if order_id in present)
    prefix = all(order_id in present for order_id, _ in committed[:restored_count])
    before = [o for o, t in committed if t < backup_started]
    after = [o for o, t in committed if t > backup_ended]
    run.check(
        "every order committed before the backup began is restored",
        all(o in present for o in before),
        f"{len(before)} committed before",
    )
    run.check(
        "no order committed after the backup ended is restored",
        not any(o in present for o in after),
    )
    run.check(
        "the restore is a consistent cut: the first N orders in commit order",
        prefix and len(present) == restored_count,
        f"{restored_count} of {len(committed)}",
    )
    missed = committed[restored_count:]
    last_restored = committed[restored_count - 1][1] if restored_count else None
    run.measure("orders_committed", len(committed))
    run.measure("orders_restored", restored_count)
    run.measure("rpo_orders", len(missed))
    # The RPO in time: from the newest order the backup holds to the loss of the primary.
    rpo = lost_at - last_restored if last_restored is not None else None
    run.measure("rpo_seconds", None if rpo is None else round(rpo, 3))
