"""Rendered YAML files as documents that remember where each value is, for line numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hyperscale.findings import Finding


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


def line_of(node: yaml.Node, path: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node ``path`` reaches (a key's line for a mapping
    entry), so a missing or unknown field points at its parent."""
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            entry = next(((k, v) for k, v in node.value if k.value == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
