"""What `chaos ... --dry-run` shows: the instances kill-pods would kill and the budgets' headroom;
the service an outage drill would take down.
A real run returns the drill engine's DrillReport."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class DryRunPlan:
    """What a drill's --dry-run returns: nothing was done, so it exits 0."""

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)  # type: ignore[call-overload]  # subclasses are dataclasses
        return data


@dataclass(frozen=True)
class PlannedKill:
    workload: str
    name: str
    namespace: str
    ready: bool
    age_s: float | None


@dataclass(frozen=True)
class BudgetHeadroom:
    name: str
    #: currentHealthy - desiredHealthy: how many more may go down now.
    headroom: int
    current_healthy: int
    desired_healthy: int
    allowed_disruptions: int
    #: How many of the planned kills it covers.
    planned: int
    #: What the drill would do to it: "fits", or "waits: N eviction(s) beyond the headroom".
    impact: str


@dataclass(frozen=True)
class KillPlan(DryRunPlan):
    env: str
    namespace: str | None
    how: str
    selected_from: int
    kills: list[PlannedKill]
    budgets: list[BudgetHeadroom] = field(default_factory=list)
    dry_run: bool = True

    def render(self, console: Console) -> None:
        where = f" namespace {self.namespace}" if self.namespace else ""
        console.print(
            f"dry run: kill-pods on {self.env}{where} would {self.how} {len(self.kills)} of"
            f" {self.selected_from} selected instance(s); nothing was changed"
        )
        for kill in self.kills:
            age = "-" if kill.age_s is None else f"{kill.age_s:.0f}s"
            ready = "ready" if kill.ready else "NOT ready"
            console.print(f"  {kill.workload:20} {kill.name:40} {ready:9} age {age}")
        for budget in self.budgets:
            console.print(
                f"  PDB {budget.name}: headroom {budget.headroom} (currentHealthy"
                f" {budget.current_healthy} - desiredHealthy {budget.desired_healthy}),"
                f" {budget.planned} planned: {budget.impact}"
            )


@dataclass(frozen=True)
class OutagePlan(DryRunPlan):
    """What `chaos broker-restart|db-failover --dry-run` would do; nothing was changed."""

    env: str
    drill: str
    action: str
    #: The services to take down that run now.
    running: list[str]
    rate: float
    before_s: float
    down_s: float
    dry_run: bool = True

    def render(self, console: Console) -> None:
        console.print(
            f"dry run: {self.drill} on {self.env} would {self.action}, under"
            f" {self.rate:g} orders/s through the API ({self.before_s:g}s of them before);"
            " nothing was changed"
        )
        console.print(f"  running now: {', '.join(self.running) or 'none'}")


@dataclass(frozen=True)
class RdsFailoverPlan(DryRunPlan):
    """What `chaos db-failover --dry-run` would do on an environment with an AWS account."""

    env: str
    instance: str
    status: str
    multi_az: bool
    zone: str
    standby_zone: str | None
    action: str
    dry_run: bool = True

    def render(self, console: Console) -> None:
        console.print(
            f"dry run: db-failover on {self.env} would {self.action}; nothing was changed"
        )
        console.print(
            f"  {self.instance}: {self.status}, Multi-AZ {'yes' if self.multi_az else 'NO'},"
            f" primary in {self.zone}, standby in {self.standby_zone or '?'}"
        )
        if not self.multi_az:
            console.print("  refused without --dry-run: no standby to fail over to")
