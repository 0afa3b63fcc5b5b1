"""Shared by the report tests: a context over the shared local services whose own state is a
temporary directory (so the digest history of one test never meets another's), and the SMTP
sink's Maildir read back."""

from __future__ import annotations

import dataclasses
import io
import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from hyperscale.context import AppContext


@pytest.fixture
def report_app(shared_app: AppContext, tmp_path: Path) -> AppContext:
    """The shared context (its services, secrets and running platform), but with a state
    directory whose ``reports/`` is this test's own: every other entry links to the shared one."""
    state = tmp_path / "state"
    state.mkdir()
    shared_app.state_dir.mkdir(parents=True, exist_ok=True)
    for entry in shared_app.state_dir.iterdir():
        if entry.name != "reports":
            (state / entry.name).symlink_to(entry)
    return dataclasses.replace(
        shared_app, state_dir=state, stdout=io.StringIO(), stderr=io.StringIO(), environ={}
    )


def maildir_of(app: AppContext) -> Path:
    return app.state_dir / "services" / "smtp" / "maildir"


def mails_to(app: AppContext, address: str) -> list[EmailMessage]:
    """Every message the SMTP sink stored for ``address`` (its envelope recipient)."""
    path = maildir_of(app)
    if not path.exists():
        return []
    found = []
    box = mailbox.Maildir(path, create=False)
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        if address in str(message.get("X-Envelope-To", "")):
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def raw_mails_to(app: AppContext, address: str) -> list[bytes]:
    path = maildir_of(app)
    box = mailbox.Maildir(path, create=False)
    return [box.get_bytes(k) for k in box.iterkeys() if address.encode() in box.get_bytes(k)[:500]]
