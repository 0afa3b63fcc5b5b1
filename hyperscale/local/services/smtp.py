"""An SMTP sink (aiosmtpd) that keeps every message it receives in a Maildir."""

from __future__ import annotations

import smtplib
import sys
from pathlib import Path

from hyperscale.config.models import Endpoint
from hyperscale.local.services.base import BackingService, ProbeError


class SmtpSinkService(BackingService):
    name = "smtp"
    description = "SMTP sink (aiosmtpd, Maildir)"
    startup_timeout = 20.0

    @property
    def endpoint(self) -> Endpoint:
        return self.env.reports.email.smtp.endpoint

    @property
    def maildir(self) -> Path:
        return self.home / "maildir"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "hyperscale.local.smtp_sink",
            "--host",
            self.endpoint.host,
            "--port",
            str(self.endpoint.port),
            "--maildir",
            str(self.maildir),
        ]

    def probe(self) -> str:
        try:
            with smtplib.SMTP(self.endpoint.host, self.endpoint.port, timeout=3) as client:
                code, banner = client.ehlo("hyperscale-probe")
        except (OSError, smtplib.SMTPException) as exc:
            raise ProbeError(str(exc)) from None
        if code != 250:  # noqa: PLR2004 - SMTP "requested action okay"
            raise ProbeError(f"EHLO answered {code}")
        return f"smtp sink, {banner.decode(errors='replace').splitlines()[0]}"

    def data_paths(self) -> dict[str, str]:
        return {**super().data_paths(), "maildir": str(self.maildir)}
