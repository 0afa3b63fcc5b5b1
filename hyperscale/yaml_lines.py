"""Where a value sits in a YAML file: errors about a parsed document point at its line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


def line_of(node: yaml.Node, path: Sequence[Any]) -> int:
    """The 1-based line of the deepest node ``path`` reaches (a key's line for a mapping
    entry), so a missing or unknown field points at its parent."""
    line: int = node.start_mark.line + 1
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
