"""`hyperscale report schedule`: validate the cron expression (croniter) and show the next
runs in its time zone; on the local target, a crontab entry (installed, or printed); on a
Kubernetes target, the report-email CronJob rendered from templates/kubernetes with this
schedule and applied, and optionally a Job started from it. Never prints."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import sys
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.clients.crontab import read_crontab, write_crontab
from hyperscale.clients.kube_jobs import (
    apply_documents,
    create_job_from_cronjob,
    cronjob_state,
    job_state,
)
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.reports.schedule.results import ScheduleResult
from hyperscale.safety import confirm_protected
from hyperscale.targets import for_env
from hyperscale.targets.local import LocalTarget

CRONJOB = "report-email"
TEMPLATE = "kubernetes/cronjobs/report-email.yaml.j2"


@dataclass(frozen=True)
class ScheduleOptions:
    cron: str | None = None
    timezone: str | None = None
    #: Local target: print the entry instead of installing it.
    print_only: bool = False
    #: Local target: a crontab file to write instead of the user's crontab (`crontab`).
    crontab_file: Path | None = None
    crontab_program: str = "crontab"
    #: Kubernetes target: the CLI image instead of the rendered one.
    image: str | None = None
    dry_run: bool = False
    yes: bool = False
    #: Kubernetes target: start a Job from the CronJob now, and wait this long for it to be
    #: picked up by the job controller.
    run_now: bool = False
    run_now_wait_s: float = 30.0
    runs: int = 5


def next_runs(cron: str, timezone: str, count: int, after: dt.datetime) -> list[dt.datetime]:
    """Validate ``cron`` (five fields) and ``timezone``; the next ``count`` runs after ``after``."""
    from croniter import croniter

    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone {timezone!r} is not an IANA time zone", hint="e.g. Europe/Berlin, Etc/UTC"
        ) from None
    if len(cron.split()) != 5 or not croniter.is_valid(cron):  # noqa: PLR2004 - cron's fields
        raise UsageError(
            f"--cron {cron!r} is not a valid cron expression",
            hint="five fields: minute hour day-of-month month day-of-week, e.g. '0 7 * * 1-5'",
        )
    iterator = croniter(cron, after.astimezone(zone))
    return [iterator.get_next(dt.datetime) for _ in range(count)]


def schedule(
    env: Environment, app: AppContext, options: ScheduleOptions, *, now: dt.datetime | None = None
) -> ScheduleResult:
    cron = options.cron or env.reports.email.schedule
    timezone = options.timezone or env.reports.email.timezone
    runs = next_runs(cron, timezone, options.runs, now or dt.datetime.now(dt.UTC))
    if isinstance(for_env(env, app), LocalTarget):
        return _crontab(env, app, options, cron, timezone, runs)
    return _cronjob(env, app, options, cron, timezone, runs)


# -- the local target: a crontab block ---------------------------------------------------------


def crontab_block(env: Environment, app: AppContext, cron: str, timezone: str) -> str:
    """The lines between markers, so installing again replaces rather than adds. The command
    runs the digest with this checkout, environments and state directory (no secret: the
    local ones stay in files in the state directory)."""
    log = app.log_dir / f"report-email-{env.name}.log"
    command = " ".join(
        [
            "cd",
            shlex.quote(str(app.repo_root)),
            "&&",
            f"HYPERSCALE_ENVIRONMENTS_DIR={shlex.quote(str(app.environments_dir))}",
            f"HYPERSCALE_STATE_DIR={shlex.quote(str(app.state_dir))}",
            shlex.quote(sys.executable),
            "-m hyperscale report email --env",
            shlex.quote(env.name),
            ">>",
            shlex.quote(str(log)),
            "2>&1",
        ]
    ).replace("%", r"\%")  # cron turns an unescaped % into a newline
    begin, end = _markers(env)
    return "\n".join(
        [
            begin,
            "# The digest on its schedule; CRON_TZ is honoured by cronie and systemd-cron.",
            f"CRON_TZ={timezone}",
            f"{cron} {command}",
            end,
        ]
    )


def _markers(env: Environment) -> tuple[str, str]:
    what = f"hyperscale report email --env {env.name}"
    return f"# BEGIN {what}", f"# END {what}"


def with_block(existing: str, block: str, env: Environment) -> str:
    begin, end = _markers(env)
    pattern = re.compile(rf"^{re.escape(begin)}\n.*?^{re.escape(end)}\n?", re.M | re.S)
    kept = pattern.sub("", existing).rstrip("\n")
    return (kept + "\n" if kept else "") + block + "\n"


def _crontab(
    env: Environment,
    app: AppContext,
    options: ScheduleOptions,
    cron: str,
    timezone: str,
    runs: list[dt.datetime],
) -> ScheduleResult:
    block = crontab_block(env, app, cron, timezone)

    def result(action: str) -> ScheduleResult:
        return ScheduleResult(env.name, cron, timezone, runs, "crontab", action, block)

    if options.print_only or options.dry_run:
        return result("printed")
    existing = read_crontab(options.crontab_program, options.crontab_file)
    updated = with_block(existing, block, env)
    if updated == existing:
        return result("unchanged")
    write_crontab(updated, options.crontab_program, options.crontab_file)
    return result("installed")


# -- a Kubernetes target: the CronJob ----------------------------------------------------------


def cronjob_documents(
    env: Environment, app: AppContext, cron: str, timezone: str, image: str | None
) -> list[dict[str, Any]]:
    """The report-email CronJob and its service account, from the same template `hyperscale
    render` uses, with this schedule, time zone and (optionally) image."""
    import yaml

    from hyperscale.render.values import template_values
    from hyperscale.templating import render

    email = env.reports.email.model_copy(update={"schedule": cron, "timezone": timezone})
    scheduled = env.model_copy(update={"reports": env.reports.model_copy(update={"email": email})})
    values = template_values(scheduled)
    if image:
        values["images"] = {**values["images"], "cli": image}
    text = render(app, TEMPLATE, **values)
    return [d for d in yaml.safe_load_all(text) if d]


def _cronjob(
    env: Environment,
    app: AppContext,
    options: ScheduleOptions,
    cron: str,
    timezone: str,
    runs: list[dt.datetime],
) -> ScheduleResult:
    import yaml

    documents = cronjob_documents(env, app, cron, timezone, options.image)
    text = yaml.safe_dump_all(documents, sort_keys=False)
    if options.dry_run or options.print_only:
        return ScheduleResult(env.name, cron, timezone, runs, "kubernetes", "dry-run", text)
    confirm_protected(app, env, f"apply the {CRONJOB} CronJob", yes=options.yes)
    target = env.target
    kubeconfig = app.expand_path(
        target.kubeconfig or app.environ.get("KUBECONFIG", "~/.kube/config")
    )
    context = target.context or ""
    applied = apply_documents(kubeconfig, context, documents)
    namespace = target.namespace
    state = cronjob_state(kubeconfig, context, namespace, CRONJOB)
    job = None
    if options.run_now:
        name = f"{CRONJOB}-manual-{int(time.time())}"
        create_job_from_cronjob(kubeconfig, context, namespace, CRONJOB, name)
        deadline = time.monotonic() + options.run_now_wait_s
        job = job_state(kubeconfig, context, namespace, name)
        while not job.started and time.monotonic() < deadline:
            time.sleep(0.5)
            job = job_state(kubeconfig, context, namespace, name)
    return ScheduleResult(
        env.name, cron, timezone, runs, "kubernetes", "applied", text, applied, state, job
    )
