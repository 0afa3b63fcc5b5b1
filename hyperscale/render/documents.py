"""Rendered YAML files as documents that remember where each value is, for line numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hyperscale.findings import Finding
from hyperscale.yaml_lines import line_of


@dataclass(frozen=True)
class Document:
    """One YAML document of a rendered file: its data and its node tree (marks carry lines)."""

    file: Path
    data: Any
    node: yaml.Node

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", "")) if isinstance(self.data, dict) else ""

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", "")) if isinstance(self.data, dict) else ""

    @property
    def name(self) -> str:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        return str(meta.get("name", "?")) if isinstance(meta, dict) else "?"

    def line_of(self, path: Sequence[str | int]) -> int:
        return line_of(self.node, path)


def _loader() -> type[yaml.SafeLoader]:
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


def parse(file: Path, text: str) -> tuple[list[Document], list[Finding]]:
    """The file's non-empty documents, or a finding at the line where YAML parsing failed."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_loader()))
        datas = list(yaml.load_all(text, Loader=_loader()))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [
            Finding(file, mark.line + 1 if mark else None, "yaml", f"invalid YAML: {problem}")
        ]
    docs = [
        Document(file, data, node)
        for data, node in zip(datas, nodes, strict=True)
        if data is not None and node is not None
    ]
    return docs, []
