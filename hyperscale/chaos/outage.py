"""`hyperscale chaos broker-restart` and `chaos db-failover` on the local target: a backing
service of the platform (Kafka; MariaDB, the primary) stopped under a steady order stream
through the API, kept down ``--down`` seconds, started again.

Judged: the platform's steady state before and after (hyperscale.chaos.steady); while the
service is down, every order is answered fast (202, or 503 / 409 "retry later", none hanging,
within ``--max-refusal``); once it is back, the API accepts orders again (measured); and every order
the API accepted lands in MySQL (none lost). While it runs, a guard aborts the drill (and the
service is started again at once) when the API stops answering at all.

The outage itself is hyperscale.drills.outage, the same code `dr drill broker-loss` uses.
"""

from __future__ import annotations

import getpass
import statistics
import time
from dataclasses import dataclass

from hyperscale.chaos.core import interlocked_drill, require_chaos_enabled
from hyperscale.chaos.load import (
    HTTP_ACCEPTED,
    HTTP_IN_PROGRESS,
    HTTP_UNAVAILABLE,
    RETRY_LATER,
    Answer,
    OrderLoad,
    order_load,
)
from hyperscale.chaos.results import OutagePlan
from hyperscale.chaos.steady import SteadyState, hypothesis
from hyperscale.clients.mysql_replica import replica_status
from hyperscale.clients.order_stream import orders_of
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun
from hyperscale.drills.outage import bring_back, take_down
from hyperscale.drills.results import DrillReport
from hyperscale.errors import UsageError
from hyperscale.local.services import SERVICE_TYPES, BackingService
from hyperscale.local.services.kafka import KAFKA_NODE_NAMES
from hyperscale.local.services.mariadb_replica import MariaDBReplicaService
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local
from hyperscale.targets.base import Target, VictimQuery

#: Two requests in a row with no answer (or a 5xx other than 503): the API is not coping.
UNANSWERED_IN_A_ROW = 2


@dataclass(frozen=True)
class OutageSettings:
    #: Orders per second through the API, and seconds of them before the outage.
    rate: float = 20.0
    before_s: float = 2.0
    #: Seconds the service stays down.
    down_s: float = 5.0
    #: SIGKILL (a crash) instead of a clean stop.
    crash: bool = False
    #: The slowest answer allowed while the service is down ("503 fast").
    max_refusal_s: float = 2.0
    recovery_timeout_s: float = 120.0
    dry_run: bool = False
    yes: bool = False


def broker_restart(
    env: Environment, app: AppContext, s: OutageSettings, progress: Progress = quiet
) -> OutagePlan | DrillReport:
    target = require_local(
        env,
        app,
        "broker-restart stops this machine's Kafka",
        hint="--env local; on MSK a broker restart is `aws kafka reboot-broker` (not built)",
    )
    services = [SERVICE_TYPES[KAFKA_NODE_NAMES[n]](env, app) for n in range(1, _brokers(env) + 1)]
    return _outage(env, app, target, "broker-restart", services, s, progress)


def db_failover_local(
    env: Environment, app: AppContext, s: OutageSettings, progress: Progress = quiet
) -> OutagePlan | DrillReport:
    target = require_local(
        env,
        app,
        "a MariaDB restart needs this machine's MariaDB",
        hint="--env local; an environment with an AWS account (infra:) fails its RDS over",
    )
    return _outage(env, app, target, "db-failover", [SERVICE_TYPES["mysql"](env, app)], s, progress)


def _brokers(env: Environment) -> int:
    return max(1, env.runtime.kafka_brokers)


def _outage(
    env: Environment,
    app: AppContext,
    target: Target,
    drill: str,
    services: list[BackingService],
    s: OutageSettings,
    progress: Progress,
) -> OutagePlan | DrillReport:
    require_chaos_enabled(env)
    names = ", ".join(f"{sv.name} ({sv.endpoint})" for sv in services)
    how = "SIGKILL" if s.crash else "stop (SIGTERM)"
    action = f"{how} {names} for {s.down_s:g}s, then start it again"
    running = [sv.name for sv in services if sv.process.running() is not None]
    if s.dry_run:
        return OutagePlan(env.name, drill, action, running, s.rate, s.before_s, s.down_s)
    absent = [sv.name for sv in services if sv.name not in running]
    if absent:
        raise UsageError(
            f"{', '.join(absent)} of {env.name} is not running: there is nothing to take down",
            hint=f"`hyperscale local up --env {env.name}`",
        )
    if not any(w.role == "api" for w in target.workloads()) or not target.status().deployed:
        raise UsageError(
            f"the platform is not deployed on {env.name}: the drill needs its API",
            hint=f"`hyperscale deploy --env {env.name}`",
        )
    return interlocked_drill(
        env,
        app,
        target,
        drill,
        action,
        s.yes,
        lambda run: _drill(run, env, app, target, services, s),
        progress,
    )


def _drill(
    run: DrillRun,
    env: Environment,
    app: AppContext,
    target: Target,
    services: list[BackingService],
    s: OutageSettings,
) -> None:
    timeout = env.chaos.steady_state_timeout_s
    everything = {v.workload for v in target.victims(VictimQuery())}
    steady = SteadyState.of(env, app, target, VictimQuery(), everything)
    if not hypothesis(run, "before", steady, timeout):
        return
    api = next(w.address for w in target.workloads() if w.role == "api")
    load = order_load(env, app, api.rstrip("/"), s.rate)
    down_at = back_at = answered_at = 0.0
    try:
        with run.guard("the API answers", lambda: _answering(load), interval=0.5, tolerance=1):
            with run.step(f"orders at {s.rate:g}/s for {s.before_s:g}s (customer {load.customer})"):
                load.start()
                run.undo_later("stop the orders", load.stop)
                run.note("orders customer", customer=load.customer)
                run.sleep(s.before_s)
            run.checkpoint()
            names = ", ".join(sv.name for sv in services)
            with run.step(f"{'kill' if s.crash else 'stop'} {names}; down for {s.down_s:g}s"):
                downs = [take_down(run, service, crash=s.crash) for service in services]
                down_at = downs[0]
                run.sleep(s.down_s - (time.monotonic() - down_at))
            with run.step(f"start {names} again"):
                back_at = time.monotonic()
                for service in services:
                    answered_at = bring_back(run, service)[1]
                run.measure("seconds_down", round(back_at - down_at, 2))
                run.measure("seconds_to_start", round(answered_at - back_at, 2))
            with run.step("until the API accepts orders again"):
                run.wait_until(
                    lambda: any(a.status == HTTP_ACCEPTED for a in load.since(answered_at)),
                    s.recovery_timeout_s,
                    interval=0.2,
                )
                run.sleep(1.0)  # a second of orders after the recovery
    finally:
        load.stop()
    _judge_answers(run, load, (down_at, back_at, answered_at), s)
    _judge_landing(run, env, app, load, s)
    _judge_replica(run, env, app, services)
    hypothesis(run, "after", steady, timeout)


def _answering(load: OrderLoad) -> tuple[bool, str]:
    last = list(load.answers)[-UNANSWERED_IN_A_ROW:]
    broken = len(last) == UNANSWERED_IN_A_ROW and all(
        a.status == 0 or (a.status >= 500 and a.status != HTTP_UNAVAILABLE)  # noqa: PLR2004
        for a in last
    )
    what = ", ".join(str(a.status or "no answer") for a in last)
    return not broken, f"last answers {what or 'none yet'}"


def _judge_answers(
    run: DrillRun, load: OrderLoad, times: tuple[float, float, float], s: OutageSettings
) -> None:
    down_at, back_at, answered_at = times
    if not down_at:
        return
    # Down from the stop until the service answers again (a JVM takes a while to start).
    end = answered_at or back_at or time.monotonic()
    during = [a for a in load.answers if down_at <= a.at < end]
    refused = [a for a in during if a.status != HTTP_ACCEPTED]
    bad = [a for a in during if a.status != HTTP_ACCEPTED and a.status not in RETRY_LATER]
    slow = [a for a in during if a.seconds > s.max_refusal_s]
    run.measure("answers_while_down", len(during))
    run.measure("refused_503_while_down", sum(1 for a in during if a.status == HTTP_UNAVAILABLE))
    run.measure("refused_409_while_down", sum(1 for a in during if a.status == HTTP_IN_PROGRESS))
    run.measure("accepted_while_down", len(during) - len(refused))
    run.measure("answer_s_while_down_median", _median(during))
    run.measure("answer_s_while_down_max", max((a.seconds for a in during), default=None))
    run.check(
        f"while down every order answered 202, or 503/409 (retry later), within"
        f" {s.max_refusal_s:g}s",
        bool(during) and not bad and not slow,
        f"{len(during)} answers, {len(bad)} other than 202/503/409"
        + (f" ({', '.join(sorted({str(a.status or 'no answer') for a in bad}))})" if bad else "")
        + f", {len(slow)} slower than {s.max_refusal_s:g}s",
    )
    if not back_at:
        return
    first = next((a for a in load.since(answered_at) if a.status == HTTP_ACCEPTED), None)
    if first is not None:
        done = first.at + first.seconds
        run.measure("seconds_to_first_accepted_after_start", round(done - answered_at, 2))
        run.measure("seconds_to_first_accepted_after_outage", round(done - down_at, 2))
    run.check(
        f"the API accepts orders again within {s.recovery_timeout_s:g}s",
        first is not None,
        "" if first is None else f"{first.at + first.seconds - answered_at:.2f}s after it answered",
    )


def _median(answers: list[Answer]) -> float | None:
    return round(statistics.median(a.seconds for a in answers), 3) if answers else None


def _judge_landing(
    run: DrillRun, env: Environment, app: AppContext, load: OrderLoad, s: OutageSettings
) -> None:
    """Every accepted order must reach MySQL (the consumer retries while a service is down)."""
    accepted = set(load.accepted)
    run.measure("orders_accepted", len(accepted))
    run.measure("orders_refused", load.refused)
    if not accepted:
        run.check("orders were accepted", False, "the API accepted none")
        return
    cfg = env.mysql
    password = resolve_secret(app, cfg.password, env.aws)
    landed: set[str] = set()

    def all_landed() -> bool:
        landed.clear()
        landed.update(orders_of(cfg.writer, cfg.user, password, cfg.database, load.customer))
        return accepted <= landed

    with run.step(f"every accepted order in MySQL within {s.recovery_timeout_s:g}s"):
        started = time.monotonic()
        waited = run.wait_until(all_landed, s.recovery_timeout_s, interval=1.0)
        # Not in MySQL by the deadline: lost, or stuck on the way (still in Kafka, a consumer
        # not consuming); the drill cannot tell which, and either breaks the promise.
        missing = sorted(accepted - landed)
        run.measure("accepted_orders_missing", len(missing))
        if waited is not None:
            run.measure("seconds_until_all_landed", round(time.monotonic() - started, 2))
        # Orders of the drill's customer the API never answered 202 for: a request answered
        # 503 whose record was delivered after all (and not retried), or a second order for a
        # retried key. Not the drill's promise (none lost), but worth a look: in the journal.
        beyond = sorted(landed - accepted)
        run.measure("orders_in_mysql_not_accepted", len(beyond))
        if beyond:
            run.note("orders in MySQL the API did not answer 202 for", orders=beyond)
        run.check(
            "every accepted order in MySQL (none lost)",
            not missing,
            f"{len(missing)} of {len(accepted)} not in MySQL after {s.recovery_timeout_s:g}s,"
            f" first {missing[:3]}"
            if missing
            else f"all {len(accepted)} in MySQL",
        )


def _judge_replica(
    run: DrillRun, env: Environment, app: AppContext, services: list[BackingService]
) -> None:
    """After a MariaDB primary restart its replica must follow it again."""
    if not MariaDBReplicaService.applies_to(env) or all(sv.name != "mysql" for sv in services):
        return
    replica = MariaDBReplicaService(env, app)

    def following() -> bool:
        status = replica_status(replica.socket_path, getpass.getuser())
        return status is not None and status.io_running == "Yes" and status.sql_running == "Yes"

    with run.step("the replica follows the primary again"):
        waited = run.wait_until(following, 60, interval=0.5)
        run.check("replica replicating again", waited is not None)
