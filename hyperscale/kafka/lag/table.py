"""The human view of a lag report: one table per group, then notes, breaches and statuses.

Built as a list of renderables, so a console prints it and `kafka lag --watch` redraws it in
place (rich Live) with the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperscale.kafka.lag.results import LagStatus

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from hyperscale.kafka.lag.results import GroupLag, LagReport


def report_renderables(report: LagReport) -> list[RenderableType]:
    from rich.markup import escape

    items: list[RenderableType] = []
    if not report.groups:
        items.append(f"no consumer groups matched on {escape(report.bootstrap)}")
    for group in report.groups:
        items.append(_group_table(report, group))
        items += _group_notes(group)
    if report.breaches:
        items.append(
            f"[bold red]{len(report.breaches)} partition threshold(s) breached[/]"
            f" (max lag {report.max_lag_messages} messages, {report.max_lag_seconds:g} s):"
        )
        items += [f"  {escape(breach.describe())}" for breach in report.breaches]
    if report.not_ok:
        items.append(f"[bold red]{len(report.not_ok)} partition(s) not OK over the window[/]")
    return items


def _group_table(report: LagReport, group: GroupLag) -> Table:
    from rich.markup import escape
    from rich.table import Table

    idle = ", idle" if group.idle else ""
    status = f" [bold]{group.status.value}[/]" if group.status is not None else ""
    table = Table(
        title=(
            f"[bold]{escape(group.group)}[/]{status} {group.state},"
            f" {group.members} member(s){idle}: lag {group.lag_messages} messages,"
            f" {_seconds(group.lag_seconds)}"
        ),
        title_justify="left",
    )
    table.add_column("topic", overflow="fold")
    for column in ("part", "committed", "start", "end", "lag", "lag s"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("method")
    sampled = report.sampling is not None
    if sampled:
        for column in ("cons/s", "prod/s", "trend/s", "eta s"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("status")
    table.add_column("flags")
    breached = {(b.topic, b.partition) for b in report.breaches if b.group == group.group}
    for p in group.partitions:
        colour = "red" if (p.topic, p.partition) in breached else "default"
        cells = [
            escape(p.topic),
            str(p.partition),
            _or_dash(p.committed_offset),
            str(p.log_start_offset),
            str(p.log_end_offset),
            f"[{colour}]{_or_dash(p.lag_messages)}[/]",
            f"[{colour}]{_seconds(p.lag_seconds)}[/]",
            p.time_lag_method.value,
        ]
        if sampled:
            t = p.trend
            cells += [
                _rate(t.consumption_rate if t else None),
                _rate(t.production_rate if t else None),
                _rate(t.lag_trend if t else None),
                _seconds(t.eta_seconds if t else None),
                t.status.value if t else "-",
            ]
        table.add_row(*cells, ", ".join(p.flags))
    return table


def _group_notes(group: GroupLag) -> list[RenderableType]:
    """Below a group's table: its deleted topics, then its partitions that are not OK."""
    from rich.markup import escape

    notes: list[RenderableType] = []
    for topic in group.deleted_topics:
        parts = [d for d in group.topic_deleted if d.topic == topic]
        listed = ", ".join(f"{d.partition}@{_or_dash(d.committed_offset)}" for d in parts)
        notes.append(
            f"  [yellow]topic_deleted[/] {escape(topic)}: the group has offsets on a topic that"
            f" no longer exists (partition@committed {listed}); skipped"
        )
    for p in group.partitions:
        if p.trend is not None and p.trend.status is not LagStatus.OK:
            notes.append(
                f"  {escape(p.topic)}[{p.partition}] [bold]{p.trend.status.value}[/]:"
                f" {escape(p.trend.status_reason)}"
            )
    return notes


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"
