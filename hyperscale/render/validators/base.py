"""What every validator gets (the rendered workspace) and gives back (a report)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import HyperscaleError
from hyperscale.findings import Finding
from hyperscale.render.documents import Document
from hyperscale.render.templates import RenderedFile


@dataclass(frozen=True)
class Workspace:
    """A fresh render of one environment in a private directory, and how to name its files."""

    env: Environment
    app: AppContext
    #: Where the fresh manifests are (a temporary directory, never the repository).
    out_dir: Path
    #: The repository path each file will have: findings name that, not the temporary one.
    display_root: Path
    #: A scratch directory for extracted rule files, checkov's reports and the like.
    work_dir: Path
    files: list[RenderedFile]
    documents: dict[Path, list[Document]]
    values: dict[str, Any]
    #: Terraform roots rendered into the workspace (empty when the infra side is absent).
    terraform_paths: list[Path] = field(default_factory=list)
    #: Their repository paths, to name them in findings.
    terraform_display: dict[Path, Path] = field(default_factory=dict)

    def display(self, relative: Path) -> Path:
        return self.display_root / relative

    def display_of(self, path: Path) -> Path:
        """The repository path of a file in the workspace (rendered manifest or Terraform)."""
        if path.is_relative_to(self.out_dir):
            return self.display_root / path.relative_to(self.out_dir)
        for root, shown in self.terraform_display.items():
            if path.is_relative_to(root):
                return shown / path.relative_to(root)
        return path


@dataclass
class ValidatorReport:
    """What one validator found. ``error`` set means the tool could not run (exit 3)."""

    tool: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_data(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "findings": len(self.findings),
            "notes": self.notes,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


Validator = Callable[[Workspace], ValidatorReport]


def timed(tool: str, check: Validator, workspace: Workspace) -> ValidatorReport:
    """Run one validator; a known error (a tool missing or failing) becomes the report's error."""
    started = time.perf_counter()
    try:
        report = check(workspace)
    except HyperscaleError as exc:
        report = ValidatorReport(tool, error=exc.lines()[0])
    report.seconds = time.perf_counter() - started
    return report
