"""Typed results of `hyperscale images`: data for machines, tables for people, exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.images.base import BaseImage

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class BaseResult:
    image: BaseImage

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return self.image.to_data()

    def render(self, console: Console) -> None:
        image = self.image
        console.print(
            f"{image.ref} ({image.pinned_ref}, {image.source} in {image.seconds:.1f}s)"
            f" id {image.image_id[:12]}"
        )


@dataclass(frozen=True)
class BuiltImage:
    name: str
    ref: str
    image_id: str
    seconds: float
    #: Registry reference -> manifest digest, for the pushes that completed.
    pushed: dict[str, str] = field(default_factory=dict)
    #: "pushed", "present" (the registry had it: nothing sent) or "" (not pushed).
    push_state: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ref": self.ref,
            "image_id": self.image_id,
            "seconds": round(self.seconds, 1),
            "pushed": self.pushed,
            "push_state": self.push_state or None,
        }


@dataclass(frozen=True)
class BuildResult:
    action: str  # "build" or "push"
    environment: str
    tag: str
    revision: str
    dirty: bool
    record_path: str
    images: list[BuiltImage]
    base: BaseImage | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "environment": self.environment,
            "tag": self.tag,
            "revision": self.revision,
            "dirty": self.dirty,
            "record": self.record_path,
            "base": self.base.to_data() if self.base else None,
            "images": [i.to_data() for i in self.images],
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(title=f"images {self.action} {self.tag} ({self.environment})")
        for column in ("image", "reference", "id", "seconds", "registry digest"):
            table.add_column(column)
        for image in self.images:
            pushed = "\n".join(
                f"{ref.rsplit(':', 1)[0]}@{digest} ({image.push_state})"
                for ref, digest in image.pushed.items()
            )
            table.add_row(
                image.name, image.ref, image.image_id[:12], f"{image.seconds:.1f}", pushed or "-"
            )
        console.print(table)
        console.print(f"build record: {self.record_path}")
