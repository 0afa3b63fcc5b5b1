"""The Prometheus text exposition format (0.0.4), written by hand: gauges are all any command
exposes, and a textfile collector or a scrape reads exactly this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GaugeFamily:
    name: str
    help: str
    label_names: tuple[str, ...]
    #: (label values in ``label_names`` order, value)
    samples: Sequence[tuple[tuple[str, ...], float]]


def exposition_text(families: list[GaugeFamily]) -> str:
    lines: list[str] = []
    for family in families:
        lines += [f"# HELP {family.name} {family.help}", f"# TYPE {family.name} gauge"]
        for values, value in family.samples:
            labels = ",".join(
                f'{k}="{escape_label(v)}"' for k, v in zip(family.label_names, values, strict=True)
            )
            lines.append(
                f"{family.name}{{{labels}}} {number(value)}"
                if labels
                else f"{family.name} {number(value)}"
            )
    return "\n".join(lines) + "\n"


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)
