"""`hyperscale images cleanup`: dry-run by default; deletes only what the plan allows; audited."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.clients.registry import RegistryClient, RegistryImage
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.images.catalog import REPOSITORY_PREFIX, RegistryTarget, registry_for
from hyperscale.images.cleanup_plan import Decision, parse_duration, plan_cleanup
from hyperscale.progress import Progress, quiet
from hyperscale.targets import for_env

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class CleanupOptions:
    keep: int = 10
    older_than: str = "30d"
    yes: bool = False
    repositories: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CleanupResult:
    environment: str
    registry: str
    dry_run: bool
    decisions: list[Decision]
    deleted: list[str]
    failed: list[str]
    audit_path: str | None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.EXTERNAL if self.failed else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "registry": self.registry,
            "dry_run": self.dry_run,
            "images": [d.to_data() for d in self.decisions],
            "deleted": self.deleted,
            "failed": self.failed,
            "audit": self.audit_path,
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        verb = "would delete" if self.dry_run else "delete"
        table = Table(title=f"images cleanup {self.registry} ({self.environment})")
        for column in ("repository", "digest", "tags", "action", "why"):
            table.add_column(column)
        for d in self.decisions:
            action = verb if d.delete else "keep"
            table.add_row(
                d.image.repository,
                d.image.digest[:19],
                ", ".join(d.image.tags) or "-",
                action,
                "; ".join(d.reasons),
            )
        console.print(table)
        count = sum(1 for d in self.decisions if d.delete)
        if self.dry_run:
            console.print(f"dry run: {count} would be deleted; add --yes to delete them")
        else:
            console.print(f"deleted {len(self.deleted)}, failed {len(self.failed)}")
        if self.audit_path:
            console.print(f"audit: {self.audit_path}")


def cleanup(
    env: Environment, app: AppContext, options: CleanupOptions, progress: Progress = quiet
) -> CleanupResult:
    if options.keep < 1:
        raise UsageError("--keep must be at least 1: the newest image is never deleted")
    try:
        older_than = parse_duration(options.older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    registry = registry_for(env, app)
    progress(f"listing {registry.host}")
    images = _list_images(env, registry, options.repositories)
    progress("reading what the cluster references")
    referenced = for_env(env, app).referenced_images()
    now = dt.datetime.now(dt.UTC)
    decisions = plan_cleanup(
        images, keep=options.keep, older_than=older_than, now=now, referenced=referenced
    )
    doomed = [d for d in decisions if d.delete]
    if not options.yes or not doomed:
        return CleanupResult(env.name, registry.host, not options.yes, decisions, [], [], None)
    deleted, failed = _delete(env, registry, doomed, progress)
    audit = _write_audit(app, env, registry, now, doomed, deleted, failed)
    return CleanupResult(env.name, registry.host, False, decisions, deleted, failed, str(audit))


def _list_images(
    env: Environment, registry: RegistryTarget, only: list[str]
) -> list[RegistryImage]:
    def wanted(repository: str) -> bool:
        if only:
            return repository in only
        return repository.startswith(f"{REPOSITORY_PREFIX}/")

    if registry.kind == "ecr":
        from hyperscale.clients.registry import ecr_images, ecr_repositories

        repositories = [r for r in ecr_repositories(env.aws) if wanted(r)]
        return [i for r in repositories for i in ecr_images(env.aws, r)]
    client = RegistryClient(f"http://{registry.host}")
    repositories = [r for r in client.repositories() if wanted(r)]
    return [i for r in repositories for i in client.images(r)]


def _delete(
    env: Environment, registry: RegistryTarget, doomed: list[Decision], progress: Progress
) -> tuple[list[str], list[str]]:
    deleted: list[str] = []
    failed: list[str] = []
    if registry.kind == "ecr":
        from hyperscale.clients.registry import ecr_delete

        for repository in sorted({d.image.repository for d in doomed}):
            digests = [d.image.digest for d in doomed if d.image.repository == repository]
            progress(f"deleting {len(digests)} from {repository}")
            bad = set(ecr_delete(env.aws, repository, digests))
            deleted += [f"{repository}@{d}" for d in digests if d not in bad]
            failed += [f"{repository}@{d}" for d in digests if d in bad]
        return deleted, failed
    client = RegistryClient(f"http://{registry.host}")
    for decision in doomed:
        name = f"{decision.image.repository}@{decision.image.digest}"
        progress(f"deleting {name}")
        try:
            client.delete(decision.image.repository, decision.image.digest)
        except ExternalSystemError:
            failed.append(name)
        else:
            deleted.append(name)
    return deleted, failed


def _write_audit(
    app: AppContext,
    env: Environment,
    registry: RegistryTarget,
    now: dt.datetime,
    doomed: list[Decision],
    deleted: list[str],
    failed: list[str],
) -> Path:
    directory = app.state_dir / "images" / "cleanup"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{env.name}.json"
    entries = []
    for decision in doomed:
        name = f"{decision.image.repository}@{decision.image.digest}"
        entry = decision.to_data()
        entry["result"] = "deleted" if name in deleted else "failed"
        entries.append(entry)
    record = {"environment": env.name, "registry": registry.host, "at": now.isoformat()}
    path.write_text(json.dumps({**record, "deletions": entries}, indent=2) + "\n", encoding="utf-8")
    return path
