"""The typed result of `hyperscale report schedule`: the schedule, its next runs, and what was
installed or applied where."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.clients.kube_jobs import CronJobState, JobState
from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class ScheduleResult:
    environment: str
    cron: str
    timezone: str
    next_runs: list[dt.datetime]
    #: crontab or kubernetes.
    where: str
    #: printed, installed, unchanged, applied, dry-run.
    action: str
    #: The crontab block, or the rendered manifests.
    text: str
    applied: list[str] = field(default_factory=list)
    cronjob: CronJobState | None = None
    job: JobState | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "cron": self.cron,
            "timezone": self.timezone,
            "next_runs": [r.isoformat() for r in self.next_runs],
            "where": self.where,
            "action": self.action,
            "text": self.text,
            "applied": self.applied,
            "cronjob": None if self.cronjob is None else asdict(self.cronjob),
            "job": None if self.job is None else asdict(self.job),
        }

    def render(self, console: Console) -> None:
        console.print(
            f"{self.cron} ({self.timezone}): next {len(self.next_runs)} runs", markup=False
        )
        for run in self.next_runs:
            console.print(f"  {run.strftime('%a %Y-%m-%d %H:%M %Z')}", markup=False)
        if self.action in ("printed", "dry-run"):
            console.file.write(self.text if self.text.endswith("\n") else self.text + "\n")
            console.file.flush()
        for line in self.applied:
            console.print(f"applied {line}", markup=False)
        if self.where == "crontab" and self.action != "printed":
            console.print(f"crontab entry {self.action}", markup=False)
        if self.cronjob is not None:
            c = self.cronjob
            console.print(
                f"CronJob {c.namespace}/{c.name}: {c.schedule} {c.time_zone},"
                f" concurrencyPolicy {c.concurrency_policy}, startingDeadlineSeconds"
                f" {c.starting_deadline_s}, service account {c.service_account}, image {c.image}",
                markup=False,
            )
        if self.job is not None:
            j = self.job
            console.print(
                f"Job {j.namespace}/{j.name} from {j.owner}: started {j.started}, active"
                f" {j.active}, succeeded {j.succeeded}, failed {j.failed}",
                markup=False,
            )
