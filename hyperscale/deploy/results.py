"""Typed results of `hyperscale deploy` and `hyperscale status`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


@dataclass(frozen=True)
class ProgramOutcome:
    name: str
    #: started, restarted, unchanged (deploy); running, starting, stopped, fatal... (status)
    action: str
    pid: int | None
    address: str
    ready: bool
    uptime_s: float | None = None
    detail: str = ""
    #: Kubernetes: desired/updated/ready/available replicas and each container's image.
    replicas: dict[str, int] | None = None
    images: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeployResult:
    environment: str
    target: str
    migrations_applied: list[str]
    schema_revision: str | None
    topics_created: list[str]
    programs: list[ProgramOutcome]
    removed_programs: list[str]
    seconds: float
    #: deploy or rollback
    action: str = "deploy"
    #: Targets with a history (Kubernetes): the revision recorded, what it applied, the images.
    revision: int | None = None
    git_commit: str = ""
    image_tag: str = ""
    images: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    #: A failed rollout: the failure named, and the revision restored (and whether it is ready).
    failure: list[str] = field(default_factory=list)
    failure_named: dict[str, Any] = field(default_factory=dict)
    seconds_to_failure: float | None = None
    rolled_back_to: int | None = None
    rollback_ready: bool | None = None
    #: The Kafka ACLs the deploy created or deleted (`kafka acls apply`), as "create <rule>".
    acl_changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.migrations_applied
            or self.topics_created
            or self.acl_changes
            or self.removed_programs
            or self.objects.get("added")
            or self.objects.get("changed")
            or self.objects.get("pruned")
            or any(p.action not in ("unchanged", "ready") for p in self.programs)
        )

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CHECK_FAILED if self.failure else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}

    def render(self, console: Console) -> None:
        from rich.table import Table

        where = f"[bold]{self.environment}[/] ({self.target})"
        if self.failure:
            console.print(f"[red]{self.action} of {where} failed[/] (revision {self.revision}):")
            for line in self.failure:
                console.print(f"  {escape(line)}")
            if self.rolled_back_to is not None:
                state = "ready" if self.rollback_ready else "[red]NOT ready[/]"
                console.print(f"  rolled back to revision {self.rolled_back_to}: {state}")
            else:
                console.print("  [red]not rolled back[/] (no earlier revision, or --no-rollback)")
        else:
            verdict = "changes applied" if self.changed else "nothing changed"
            what = "rolled back" if self.action == "rollback" else "deployed"
            rev = f" revision {self.revision}" if self.revision is not None else ""
            console.print(f"{what} {where}{rev}: {verdict} in {self.seconds:.1f}s")
        if self.action == "deploy":
            migrations = ", ".join(self.migrations_applied) or "none"
            console.print(f"  schema: revision {self.schema_revision} (applied: {migrations})")
            console.print(f"  topics created: {', '.join(self.topics_created) or 'none'}")
            for change in self.acl_changes:
                console.print(f"  Kafka ACL: {escape(change)}")
        if self.objects:
            o = self.objects
            console.print(
                f"  objects: {len(o['added'])} created, {len(o['changed'])} changed,"
                f" {o['unchanged']} unchanged, {len(o['pruned'])} pruned"
                + (f", {len(o['skipped'])} not served by the cluster" if o["skipped"] else "")
            )
            for name in [*o["added"], *o["changed"]]:
                console.print(f"    applied {escape(name)}")
            for name in o["pruned"]:
                console.print(f"    pruned {escape(name)}")
        table = Table("workload", "change", "pid", "where", "ready")
        for p in self.programs:
            table.add_row(
                p.name, p.action, str(p.pid or "-"), p.address, "yes" if p.ready else "[red]no[/]"
            )
        console.print(table)
        for name in self.removed_programs:
            console.print(f"  removed {name}")


@dataclass(frozen=True)
class StatusResult:
    environment: str
    target: str
    deployed: bool
    programs: list[ProgramOutcome]
    #: Kubernetes: the journal's current revision and its commit, autoscalers, budgets, events.
    revision: int | None = None
    git_commit: str = ""
    autoscalers: list[dict[str, Any]] = field(default_factory=list)
    budgets: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        healthy = self.deployed and all(p.ready for p in self.programs)
        return ExitCode.OK if healthy else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, console: Console) -> None:
        from rich.table import Table

        if not self.deployed:
            hint = f"run `hyperscale deploy --env {self.environment}`"
            console.print(f"[red]{self.environment}: not deployed[/] ({hint})")
            return
        table = Table(
            "program",
            "state",
            "pid",
            "uptime",
            "listens",
            "ready",
            title=f"{self.environment} ({self.target})",
        )
        if self.revision is not None or any(p.replicas for p in self.programs):
            self._render_kubernetes(console)
            return
        for p in self.programs:
            uptime = f"{p.uptime_s:.0f}s" if p.uptime_s is not None else "-"
            ready = "yes" if p.ready else f"[red]no[/] {p.detail}"
            table.add_row(p.name, p.action, str(p.pid or "-"), uptime, p.address, ready)
        console.print(table)

    def _render_kubernetes(self, console: Console) -> None:
        from rich.table import Table

        commit = f", commit {self.git_commit[:12]}" if self.git_commit else ""
        title = f"{self.environment} ({self.target}) revision {self.revision}{commit}"
        table = Table("workload", "desired", "updated", "ready", "available", "image", title=title)
        for p in self.programs:
            r = p.replicas or {}
            ok = "" if p.ready else " [red]NOT READY[/]"
            table.add_row(
                p.name + ok,
                str(r.get("desired", "-")),
                str(r.get("updated", "-")),
                str(r.get("ready", "-")),
                str(r.get("available", "-")),
                escape("\n".join(p.images)),
            )
        console.print(table)
        for h in self.autoscalers:
            console.print(
                f"  HPA {h['name']} -> {h['target']}: {h['current']} of {h['min']}..{h['max']}"
                f" (wants {h['desired']}); {', '.join(h['metrics'])}"
            )
        for b in self.budgets:
            console.print(
                f"  PDB {b['name']}: {b['allowed_disruptions']} disruption(s) allowed"
                f" ({b['current_healthy']} healthy, {b['desired_healthy']} needed)"
            )
        for w in self.warnings:
            console.print(f"  [yellow]warning[/] {escape(w)}")


@dataclass(frozen=True)
class HistoryResult:
    environment: str
    target: str
    entries: list[dict[str, Any]]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(
            "rev",
            "action",
            "result",
            "when",
            "who",
            "commit",
            "took",
            "note",
            title=f"{self.environment} ({self.target}): deploy history",
        )
        for e in self.entries:
            note = e["failure"] or e["reason"]
            if e["rolled_back_to"] is not None:
                note = f"-> revision {e['rolled_back_to']}; {note}".strip("; ")
            colour = "green" if e["result"] == "succeeded" else "red"
            table.add_row(
                str(e["revision"] or "-"),
                e["action"],
                f"[{colour}]{e['result']}[/]",
                e["started_at"],
                escape(e["who"]),
                (e["git_commit"] or "-")[:12],
                f"{e['duration_s']:.1f}s",
                escape(note),
            )
        console.print(table)


@dataclass(frozen=True)
class PlanResult:
    """`deploy --dry-run`: what a deploy would do, object by object (drift included)."""

    environment: str
    target: str
    image_tag: str
    images: dict[str, str]
    objects: list[dict[str, Any]]
    skipped: list[str]

    @property
    def changes(self) -> int:
        return sum(1 for o in self.objects if o["action"] != "unchanged")

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "changes": self.changes}

    def render(self, console: Console) -> None:
        verdict = f"{self.changes} object(s) would change" if self.changes else "nothing to change"
        console.print(f"dry run of deploy to [bold]{self.environment}[/]: {verdict}")
        for name, ref in sorted(self.images.items()):
            console.print(f"  image {name}: {escape(ref)}")
        for o in self.objects:
            if o["action"] == "unchanged":
                continue
            console.print(f"[bold]{o['action']}[/] {escape(o['object'])}")
            for line in o["lines"]:
                colour = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text = escape(line)
                console.print(f"  [{colour}]{text}[/]" if colour else f"  {text}")
        if self.skipped:
            console.print(f"  not served by the cluster (skipped): {', '.join(self.skipped)}")


@dataclass(frozen=True)
class UnlockResult:
    environment: str
    held_by: str | None
    reason: str

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, console: Console) -> None:
        if self.held_by is None:
            console.print(f"{self.environment}: the deploy lock was free; nothing to break")
        else:
            console.print(f"{self.environment}: broke the deploy lock held by {self.held_by}")
