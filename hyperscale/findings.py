"""A problem that a validator found in a file: the unit `hyperscale render` reports.

Every validator (Kubernetes schemas, CRD schemas, terraform fmt, the HCL parser, checkov,
promtool, amtool) turns its tool's output into these, so one renderer prints them all the
same way and one JSON shape carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is (file, 1-based line when the tool gives one), which tool
    found it, and what is wrong, written so the reader knows what to fix."""

    file: Path
    line: int | None
    tool: str
    message: str

    def location(self, root: Path | None = None) -> str:
        path = self.file
        if root is not None and path.is_relative_to(root):
            path = path.relative_to(root)
        return f"{path}:{self.line}" if self.line is not None else str(path)

    def to_data(self, root: Path | None = None) -> dict[str, Any]:
        return {
            "file": str(
                self.file.relative_to(root)
                if root is not None and self.file.is_relative_to(root)
                else self.file
            ),
            "line": self.line,
            "tool": self.tool,
            "message": self.message,
        }
