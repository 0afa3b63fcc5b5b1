"""`hyperscale report email`: collect every section at once, compare with the last report,
render the mail (HTML + text, charts by Content-ID), write --out, send through SMTP or SES,
and store the digest for the next comparison. Never prints."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.clients.mail import send_ses, send_smtp
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.progress import Progress, quiet
from hyperscale.reports.email.collectors import COLLECTORS, Collector, ReportContext
from hyperscale.reports.email.digest import (
    Digest,
    changes_since,
    collect,
    load_history,
    save_history,
    with_history_chart,
)
from hyperscale.reports.email.message import compose, drawn, preview_html, render_digest
from hyperscale.reports.email.sections import Section

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class EmailOptions:
    recipients: list[str] = field(default_factory=list)
    out: Path | None = None
    dry_run: bool = False
    #: smtp or ses.
    via: str = "smtp"
    #: Only these sections (keys of COLLECTORS); empty: all.
    only: list[str] = field(default_factory=list)
    collector_timeout_s: float = 120.0
    cost_as_of: dt.date | None = None


@dataclass(frozen=True)
class EmailResult:
    digest: Digest
    subject: str
    recipients: list[str]
    via: str
    sent: bool
    out: str | None
    message_id: str | None
    html_bytes: int
    images: int

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CHECK_FAILED if self.digest.failed else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            **self.digest.to_data(),
            "subject": self.subject,
            "recipients": self.recipients,
            "via": self.via,
            "sent": self.sent,
            "message_id": self.message_id,
            "out": self.out,
            "html_bytes": self.html_bytes,
            "images": self.images,
        }

    def render(self, console: Console) -> None:
        from rich.table import Table
        from rich.text import Text

        styles = {"green": "green", "amber": "yellow", "red": "bold red", "failed": "bold red"}
        table = Table(title=self.subject, title_justify="left")
        for column in ("section", "status", "collected", "detail"):
            table.add_column(column, overflow="fold")
        for s in self.digest.sections:
            table.add_row(
                s.title,
                Text(s.status.label, style=styles.get(s.status.value, "dim")),
                f"{s.seconds:.1f}s",
                Text(f"could not collect: {s.error}" if s.error else s.headline),
            )
        console.print(table)
        if self.out:
            console.print(f"HTML written to {self.out}", markup=False)
        to = ", ".join(self.recipients)
        if self.sent:
            console.print(f"sent to {to} via {self.via}", markup=False)
        else:
            console.print(f"dry run: not sent (would go to {to} via {self.via})", markup=False)


def chosen_collectors(only: list[str]) -> list[tuple[str, str, Collector]]:
    known = [key for key, _, _ in COLLECTORS]
    unknown = [k for k in only if k not in known]
    if unknown:
        raise UsageError(f"no section {', '.join(unknown)}", hint=f"sections: {', '.join(known)}")
    return [c for c in COLLECTORS if not only or c[0] in only]


def build_digest(
    env: Environment,
    app: AppContext,
    options: EmailOptions,
    *,
    collectors: list[tuple[str, str, Collector]] | None = None,
    now: float | None = None,
) -> Digest:
    moment = time.time() if now is None else now
    ctx = ReportContext(env, app, moment, cost_as_of=options.cost_as_of)
    chosen = chosen_collectors(options.only) if collectors is None else collectors
    history = load_history(app.state_dir, env.name)
    previous = history[-1] if history else None

    def finish(section: Section) -> Section:
        charted = with_history_chart(section, history, moment)
        return replace(charted, charts=[drawn(c) for c in charted.charts])

    sections = collect(ctx, chosen, options.collector_timeout_s, finish)
    return Digest(
        env.name,
        moment,
        sections,
        changes_since(previous, sections),
        None if previous is None else float(previous["generated_at"]),
    )


def email_report(
    env: Environment, app: AppContext, options: EmailOptions, progress: Progress = quiet
) -> EmailResult:
    settings = env.reports.email
    recipients = options.recipients or settings.recipients
    if options.via not in ("smtp", "ses"):
        raise UsageError(f"--via {options.via}: smtp or ses")
    bad = [r for r in recipients if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+", r)]
    if bad:
        raise UsageError(f"--to {', '.join(bad)}: not an e-mail address")
    progress("collecting")
    digest = build_digest(env, app, options)
    progress("rendering")
    rendered = render_digest(app, digest)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(preview_html(rendered), encoding="utf-8")
    message = compose(rendered, settings.sender, recipients)
    message_id: str | None = str(message["Message-ID"])
    if not options.dry_run:
        progress(f"sending via {options.via}")
        if options.via == "ses":
            message_id = send_ses(env.aws, message)
        else:
            smtp = settings.smtp
            password = resolve_secret(app, smtp.password, env.aws) if smtp.password else None
            send_smtp(
                smtp.endpoint.host,
                smtp.endpoint.port,
                smtp.security,
                message,
                username=smtp.username,
                password=password,
            )
        history = load_history(app.state_dir, env.name)
        save_history(app.state_dir, env.name, [*history, digest.stored()])
    return EmailResult(
        digest,
        rendered.subject,
        recipients,
        options.via,
        not options.dry_run,
        None if options.out is None else str(options.out),
        message_id,
        len(rendered.html.encode()),
        len(rendered.images),
    )
