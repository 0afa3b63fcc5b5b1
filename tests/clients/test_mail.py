"""The SMTP adapter against a real aiosmtpd server on loopback that demands STARTTLS and then
a login (the shared sink speaks neither): the mail arrives only over TLS and with the right
password, and a wrong password is one clear error naming the fix."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from hyperscale.clients.mail import send_smtp
from hyperscale.errors import ExternalSystemError
from tests.health.servers import Certificates, make_certificates
from tests.support import free_port

USER, PASSWORD = "hyperscale-reports", "s3cret-smtp-password"


class _Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[bool, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.received.append((session.ssl is not None, envelope.original_content))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


@pytest.fixture
def starttls_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[int, _Inbox, Certificates]]:
    from aiosmtpd.controller import Controller

    certificates = make_certificates(tmp_path, days=30)
    # The adapter verifies the server with the default trust store; this test's CA joins it.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    inbox = _Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=certificates.server_context(),
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, inbox, certificates
    finally:
        controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "digest"
    message["From"] = "reports@hyperscale.localhost"
    message["To"] = "sre@hyperscale.localhost"
    message.set_content("hello")
    return message


def test_starttls_and_login_deliver_the_message(
    starttls_server: tuple[int, _Inbox, Certificates],
) -> None:
    port, inbox, _ = starttls_server
    send_smtp("127.0.0.1", port, "starttls", _message(), username=USER, password=PASSWORD)
    ((over_tls, content),) = inbox.received
    assert over_tls
    assert b"Subject: digest" in content
    assert PASSWORD.encode() not in content


def test_a_wrong_password_is_one_error_with_the_fix(
    starttls_server: tuple[int, _Inbox, Certificates],
) -> None:
    port, inbox, _ = starttls_server
    with pytest.raises(ExternalSystemError) as raised:
        send_smtp("127.0.0.1", port, "starttls", _message(), username=USER, password="wrong")
    assert raised.value.message == f"SMTP server 127.0.0.1:{port} refused the login of {USER}: 535"
    assert raised.value.hint == "check reports.email.smtp.username and its password"
    assert "wrong" not in " ".join(raised.value.lines())
    assert inbox.received == []


def test_without_starttls_the_server_refuses_and_nothing_is_sent(
    starttls_server: tuple[int, _Inbox, Certificates],
) -> None:
    port, inbox, _ = starttls_server
    with pytest.raises(ExternalSystemError, match=f"SMTP server 127.0.0.1:{port}"):
        send_smtp("127.0.0.1", port, "none", _message())
    assert inbox.received == []


def test_an_untrusted_certificate_is_refused(
    starttls_server: tuple[int, _Inbox, Certificates], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox, _ = starttls_server
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(ExternalSystemError, match="CERTIFICATE_VERIFY_FAILED"):
        send_smtp("127.0.0.1", port, "starttls", _message(), username=USER, password=PASSWORD)
    assert inbox.received == []
