"""Start, stop and check the local backing services. Returns results; never prints."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, HyperscaleError, UsageError, summary
from hyperscale.local.results import (
    InstallResult,
    LocalDownResult,
    LocalStatusResult,
    LocalUpResult,
    ServiceOutcome,
    ServiceState,
)
from hyperscale.local.services import SERVICE_TYPES, BackingService, ProbeError
from hyperscale.progress import Progress, quiet
from hyperscale.targets import for_env, require_local


def select_services(
    env: Environment, app: AppContext, names: Sequence[str], *, with_requirements: bool = False
) -> list[BackingService]:
    """The named services (default: every one the environment has), in start order; with
    ``with_requirements`` also those they need running first (the replica needs its primary)."""
    require_local(
        env,
        app,
        "`hyperscale local` manages the services of a local target",
        hint="use --env local",
    )
    unknown = sorted(set(names) - set(SERVICE_TYPES))
    if unknown:
        raise UsageError(
            f"unknown service {', '.join(unknown)}", hint=f"choose from {', '.join(SERVICE_TYPES)}"
        )
    present = {n: cls for n, cls in SERVICE_TYPES.items() if cls.applies_to(env)}
    absent = [n for n in names if n not in present]
    if absent:
        raise UsageError(SERVICE_TYPES[absent[0]].absent_reason(env))
    wanted = set(names) or set(present)
    while with_requirements:
        needed = {
            r for n in wanted for r in (*present[n].requires, *present[n].companions(env))
        } - wanted
        if not needed:
            break
        wanted |= needed
    return [cls(env, app) for n, cls in present.items() if n in wanted]


def install(env: Environment, app: AppContext, names: Sequence[str] = ()) -> InstallResult:
    services = select_services(env, app, names)
    for service in services:
        service.install()
    return InstallResult([(s.name, s.data_paths()) for s in services])


def up(
    env: Environment, app: AppContext, names: Sequence[str] = (), progress: Progress = quiet
) -> LocalUpResult:
    """Bring the services up in parallel (each after those it requires); reuse what already
    runs; clean up stale pid files."""
    services = select_services(env, app, names, with_requirements=True)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=len(services))
    try:
        futures: dict[str, Future[ServiceOutcome]] = {}
        for service in services:
            first = [futures[r] for r in service.requires if r in futures]
            futures[service.name] = pool.submit(_after, first, service, progress, stop)
        outcomes = [f.result() for f in futures.values()]
    except KeyboardInterrupt:
        # Ctrl-C: tell the workers to stop waiting and leave without joining them.
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return LocalUpResult(env.name, outcomes)


def _after(
    first: list[Future[ServiceOutcome]],
    service: BackingService,
    progress: Progress,
    stop: threading.Event,
) -> ServiceOutcome:
    """``ensure_running`` once the services it requires answer; failed with them otherwise."""
    started = time.monotonic()
    failed = [o.name for o in (f.result() for f in first) if not o.state.healthy]
    if failed:
        detail = f"not started: it needs {', '.join(failed)}, which did not start"
        return _outcome(service, ServiceState.FAILED, detail, None, started, tail=[])
    return ensure_running(service, progress, stop)


def ensure_running(
    service: BackingService, progress: Progress = quiet, stop: threading.Event | None = None
) -> ServiceOutcome:
    started = time.monotonic()
    stop = stop or threading.Event()
    try:
        with service.process.lock():
            return _ensure_running_locked(service, progress, stop, started)
    except HyperscaleError as exc:
        detail = summary(exc.message, exc.hint)
        return _outcome(service, ServiceState.FAILED, detail, None, started, tail=exc.details)
    except OSError as exc:  # a data directory that cannot be written, a config that cannot be read
        detail = (
            f"cannot prepare {service.name}: {exc.strerror or exc} ({exc.filename or service.home})"
        )
        return _outcome(service, ServiceState.FAILED, detail, None, started)


def _ensure_running_locked(
    service: BackingService, progress: Progress, stop: threading.Event, started: float
) -> ServiceOutcome:
    running = service.process.running()
    stale = service.process.cleaned_stale
    if running is not None:
        progress(f"{service.name}: already running (pid {running.pid}), checking it answers")
        detail = _wait_ready(service, stop)
        _refuse_older_configuration(service)
        service.after_ready()
        return _outcome(service, ServiceState.REUSED, detail, running.pid, started)
    _refuse_foreign_ports(service)
    progress(f"{service.name}: installing")
    service.install()
    service.prepare()
    progress(f"{service.name}: starting")
    pid = service.process.start(service.command(), env=service.launch_env()).pid
    progress(f"{service.name}: waiting until it answers on {service.endpoint}")
    detail = _wait_ready(service, stop)
    service.after_ready()
    progress(f"{service.name}: ready")
    return _outcome(service, ServiceState.STARTED, detail, pid, started, stale_pid_cleaned=stale)


def _refuse_foreign_ports(service: BackingService) -> None:
    taken = service.ports_in_use()
    if taken:
        ports = ", ".join(str(e.port) for e in taken)
        raise ExternalSystemError(
            f"{service.name}: port {ports} is in use by a process that"
            f" hyperscale did not start (state directory {service.app.state_dir})",
            hint=f"stop that process or change the {service.name} port in the environment file",
        )


#: How long every address of a running service has to answer before it is called older.
LISTENING_GRACE_S = 5.0


def _refuse_older_configuration(service: BackingService) -> None:
    """A running service must listen on every address the environment gives it now. One that
    does not was started with an older configuration (a broker from before the services' own
    listener): reusing it would fail later, in whatever first connects there."""
    deadline = time.monotonic() + LISTENING_GRACE_S
    while True:
        answering = service.ports_in_use()
        silent = [e for e in service.endpoints() if e not in answering]
        if not silent or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if silent:
        addresses = ", ".join(f"{e.host}:{e.port}" for e in silent)
        raise ExternalSystemError(
            f"{service.name} runs with an older configuration: nothing answers on {addresses}",
            hint=f"restart it: `hyperscale local down {service.name}` then"
            f" `hyperscale local up {service.name}` (its data is kept)",
        )


def _wait_ready(service: BackingService, stop: threading.Event) -> str:
    """Poll the service's real probe until it answers, its process dies, or time runs out."""

    def attempt() -> str:
        if stop.is_set():
            raise UsageError(f"{service.name}: start-up interrupted")
        if service.process.exited():
            raise _ProcessDiedError
        return service.ready_probe()

    retrying = Retrying(
        retry=retry_if_exception_type(ProbeError),
        stop=stop_after_delay(service.startup_timeout),
        wait=wait_fixed(0.25),
        reraise=False,
    )
    try:
        return retrying(attempt)
    except _ProcessDiedError:
        raise ExternalSystemError(
            f"{service.name} exited during start-up; see {service.log_path}",
            details=service.process.log_tail(),
        ) from None
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise ExternalSystemError(
            f"{service.name} did not answer within {service.startup_timeout:g}s: {last}",
            hint=f"see {service.log_path}",
            details=service.process.log_tail(5),
        ) from None


class _ProcessDiedError(Exception):
    pass


def _outcome(
    service: BackingService,
    state: ServiceState,
    detail: str,
    pid: int | None,
    started: float,
    *,
    tail: list[str] | None = None,
    stale_pid_cleaned: bool = False,
    managed: bool = True,
) -> ServiceOutcome:
    return ServiceOutcome(
        name=service.name,
        description=service.description,
        address=str(service.endpoint),
        state=state,
        pid=pid,
        detail=detail,
        seconds=round(time.monotonic() - started, 2),
        log_path=str(service.log_path),
        log_tail=(tail or service.process.log_tail(8)) if state is ServiceState.FAILED else [],
        paths=service.data_paths(),
        stale_pid_cleaned=stale_pid_cleaned,
        managed=managed,
    )


def down(env: Environment, app: AppContext, names: Sequence[str] = ()) -> LocalDownResult:
    """Stop the named services, or all of them and first the deployed platform programs."""
    services = select_services(env, app, names)
    stopped: list[tuple[str, bool]] = []
    if not names:  # the platform's programs first: they would fail without their services
        stopped.append(("platform", for_env(env, app).stop()))
    for service in reversed(services):
        with service.process.lock():
            stopped.append((service.name, service.process.stop()))
    return LocalDownResult(env.name, stopped)


def status(env: Environment, app: AppContext, names: Sequence[str] = ()) -> LocalStatusResult:
    services = select_services(env, app, names)
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        outcomes = list(pool.map(_check, services))
    return LocalStatusResult(env.name, outcomes)


def _check(service: BackingService) -> ServiceOutcome:
    started = time.monotonic()
    running = service.process.running()
    try:
        detail = service.probe()
        state = ServiceState.UP
    except ProbeError as exc:
        detail = str(exc)
        state = ServiceState.NOT_ANSWERING if running else ServiceState.STOPPED
    pid = running.pid if running else None
    return _outcome(service, state, detail, pid, started, managed=running is not None)
