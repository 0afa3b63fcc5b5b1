"""Where backups live (``<state>/dr/<env>/<id>/``: ``manifest.json`` and ``data/``), what a
manifest says, and which backups retention removes. No outside system is touched here."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.errors import UsageError

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class TableRecord:
    table: str
    rows: int
    checksum: int | None


@dataclass(frozen=True)
class Manifest:
    id: str
    env: str
    kind: str
    database: str
    started_at: str
    finished_at: str
    binlog_file: str
    binlog_position: int
    gtid: str
    size_bytes: int
    server_version: str
    #: How long commits waited while the files and the figures were taken.
    write_pause_seconds: float
    duration_seconds: float
    tables: list[TableRecord] = field(default_factory=list)
    version: int = MANIFEST_VERSION

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.finished_at)

    def table(self, name: str) -> TableRecord | None:
        return next((t for t in self.tables if t.table == name), None)

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Manifest:
        tables = [TableRecord(**t) for t in data.get("tables", [])]
        return cls(**{**data, "tables": tables})


class BackupStore:
    """The backups of one environment, newest first."""

    def __init__(self, app: AppContext, env_name: str) -> None:
        self.root = app.state_dir / "dr" / env_name
        self.env_name = env_name

    def new_id(self, now: dt.datetime) -> str:
        return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"

    def staging(self, backup_id: str) -> Path:
        """Where a backup is written; it is listed only once ``commit`` renames it."""
        path = self.root / f".{backup_id}.partial"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def commit(self, staging: Path, manifest: Manifest) -> Path:
        (staging / "manifest.json").write_text(
            json.dumps(manifest.to_data(), indent=2) + "\n", encoding="utf-8"
        )
        final = self.root / manifest.id
        staging.rename(final)
        return final

    def discard_partial(self) -> None:
        for partial in self.root.glob(".*.partial"):
            shutil.rmtree(partial, ignore_errors=True)

    def data_dir(self, backup_id: str) -> Path:
        return self.root / backup_id / "data"

    def manifests(self) -> list[Manifest]:
        found = []
        if self.root.is_dir():
            for path in self.root.glob("*/manifest.json"):
                try:
                    found.append(Manifest.from_data(json.loads(path.read_text(encoding="utf-8"))))
                except (ValueError, TypeError):
                    continue  # a damaged manifest is not a backup anyone can verify against
        return sorted(found, key=lambda m: m.finished_at, reverse=True)

    def get(self, backup_id: str | None) -> Manifest:
        """The named backup, or the newest; a UsageError naming what exists otherwise."""
        manifests = self.manifests()
        if not manifests:
            raise UsageError(
                f"environment {self.env_name} has no backups in {self.root}",
                hint=f"take one with `hyperscale dr backup --env {self.env_name}`",
            )
        if backup_id is None:
            return manifests[0]
        for manifest in manifests:
            if manifest.id == backup_id:
                return manifest
        newest = ", ".join(m.id for m in manifests[:3])
        raise UsageError(
            f"no backup {backup_id!r} for environment {self.env_name}",
            hint=f"`hyperscale dr backups --env {self.env_name}` lists them; newest: {newest}",
        )

    def delete(self, backup_id: str) -> None:
        shutil.rmtree(self.root / backup_id)


def expired(
    manifests: list[Manifest], *, keep: int, max_age: dt.timedelta | None, now: dt.datetime
) -> list[Manifest]:
    """What retention removes: past the newest ``keep``, or older than ``max_age``. The newest
    backup always stays, so retention can never leave an environment with none."""
    newest_first = sorted(manifests, key=lambda m: m.finished_at, reverse=True)
    doomed = []
    for index, manifest in enumerate(newest_first):
        if index == 0:
            continue
        too_many = index >= keep
        too_old = max_age is not None and now - manifest.created > max_age
        if too_many or too_old:
            doomed.append(manifest)
    return doomed


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
