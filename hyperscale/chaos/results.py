"""What `chaos kill-pods --dry-run` shows: the instances it would kill and the budgets' headroom.
A real run returns the drill engine's DrillReport."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


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
class KillPlan:
    env: str
    namespace: str | None
    how: str
    selected_from: int
    kills: list[PlannedKill]
    budgets: list[BudgetHeadroom] = field(default_factory=list)
    dry_run: bool = True

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

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
