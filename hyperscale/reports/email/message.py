"""The digest as a message: multipart/alternative with a plain-text part and an HTML part;
the HTML part is multipart/related with each chart attached as a PNG by Content-ID."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from hyperscale.clients.charts import chart_png
from hyperscale.context import AppContext
from hyperscale.reports.email.digest import Digest
from hyperscale.reports.email.sections import Chart, Table


@dataclass(frozen=True)
class Rendered:
    subject: str
    #: The overall status: GREEN, AMBER or RED.
    status: str
    text: str
    html: str
    #: Content-ID (without brackets) -> PNG bytes.
    images: dict[str, bytes]


def subject_of(digest: Digest) -> str:
    failed = f", {len(digest.failed)} not collected" if digest.failed else ""
    day = dt.datetime.fromtimestamp(digest.generated_at, dt.UTC).strftime("%Y-%m-%d")
    return f"[{digest.overall.label}] hyperscale {digest.environment} digest {day}{failed}"


def _stamp(moment: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime(fmt)


def aligned(table: Table) -> list[str]:
    """A table as plain-text lines, each column padded to its widest cell."""
    rows = [table.columns, *table.rows]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(table.columns))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def render_digest(app: AppContext, digest: Digest) -> Rendered:
    from hyperscale.templating import render, render_html

    subject = subject_of(digest)
    sections = [
        {
            "key": s.key,
            "title": s.title,
            "status": s.status,
            "headline": s.headline,
            "error": s.error,
            "notes": s.notes,
            "tables": s.tables,
            "text_tables": [aligned(t) for t in s.tables],
            "charts": s.charts,
            "seconds": s.seconds,
            "collected": _stamp(s.collected_at, "%H:%M:%S"),
        }
        for s in digest.sections
    ]
    values: dict[str, Any] = {
        "subject": subject,
        "environment": digest.environment,
        "generated": _stamp(digest.generated_at) + " UTC",
        "overall": digest.overall,
        "sections": sections,
        "changes": digest.changes,
        "previous": None if digest.previous_at is None else _stamp(digest.previous_at),
    }
    html = render_html(app, "reports/digest.html.j2", **values)
    text = render(app, "reports/digest.txt.j2", **values)
    return Rendered(subject, digest.overall.label, text, html, draw_charts(digest.charts))


def drawn(chart: Chart) -> Chart:
    """The chart with its PNG."""
    if chart.png is not None:
        return chart
    return replace(
        chart, png=chart_png(chart.title, chart.kind, chart.labels, chart.series, chart.unit)
    )


def draw_charts(charts: list[Chart]) -> dict[str, bytes]:
    """Content-ID -> PNG of every chart (drawn now if the collector's thread has not)."""
    return {c.content_id: drawn(c).png or b"" for c in charts}


def preview_html(rendered: Rendered) -> str:
    """The HTML for a browser (--out): each cid: image inlined as a data: URI, since only a
    mail client resolves Content-IDs."""
    import base64

    html = rendered.html
    for cid, png in rendered.images.items():
        data = base64.b64encode(png).decode("ascii")
        html = html.replace(f'src="cid:{cid}"', f'src="data:image/png;base64,{data}"')
    return html


def compose(rendered: Rendered, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    # For mail filters: the overall status without parsing the subject.
    message["X-Hyperscale-Status"] = rendered.status
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    if not isinstance(html_part, EmailMessage):  # pragma: no cover - set just above
        raise TypeError("the HTML part went missing")
    for cid, png in rendered.images.items():
        html_part.add_related(png, "image", "png", cid=f"<{cid}>", filename=f"{cid}.png")
    return message
