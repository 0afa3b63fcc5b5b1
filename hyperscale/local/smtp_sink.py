"""The SMTP sink program: `python -m hyperscale.local.smtp_sink --port 11025 --maildir DIR`.

Accepts every message on loopback and stores it, unchanged but for delivery headers, in a
Maildir, so tests and people can read exactly what a report sent.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import signal
from pathlib import Path
from typing import Any


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(maildir, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook name
        headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        self.box.add(headers + envelope.original_content)
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, maildir: Path) -> None:
    from aiosmtpd.smtp import SMTP

    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="hyperscale-smtp-sink", ident="hyperscale SMTP sink"),
        host,
        port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="hyperscale-smtp-sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.maildir))


if __name__ == "__main__":
    main()
