"""The managed resources a Terraform root declares, by address, read from its HCL (and that of
the local modules it calls): what `-target` needs to plan a root without some of them, found
without running terraform."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_LOCAL_SOURCE = ("./", "../")


def resource_addresses(directory: Path, prefix: str = "") -> list[str]:
    """``module.eks.aws_iam_role.node``, ``module.eks.module.key.aws_kms_key.this``..., for
    every resource block of ``directory`` and its local modules, in file order."""
    import hcl2

    found: list[str] = []
    for path in sorted(directory.glob("*.tf")):
        document: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"))
        for block in document.get("resource", []):
            for kind, named in _labelled(block):
                found += [f"{prefix}{kind}.{name}" for name, _ in _labelled(named)]
        for block in document.get("module", []):
            for name, body in _labelled(block):
                source = _unquote(str(body.get("source", ""))) if isinstance(body, dict) else ""
                if source.startswith(_LOCAL_SOURCE):
                    called = Path(os.path.normpath(directory / source))
                    found += resource_addresses(called, f"{prefix}module.{name}.")
    return found


def _labelled(block: Any) -> list[tuple[str, Any]]:
    if not isinstance(block, dict):
        return []
    return [(_unquote(key), value) for key, value in block.items() if not key.startswith("__")]


def _unquote(name: str) -> str:
    return name.strip('"')
