"""The adapters that send mail: SMTP (plain, STARTTLS or TLS, with optional auth; smtplib) and
Amazon SES (SendRawEmail through the environment's AWS endpoint). The password is given at the
moment of use and never logged."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from hyperscale.clients.aws import aws_client, aws_errors
from hyperscale.config.models import Aws
from hyperscale.errors import ExternalSystemError


def send_smtp(
    host: str,
    port: int,
    security: str,
    message: EmailMessage,
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 30.0,
) -> None:
    """Send ``message`` to its To recipients. ``security``: none, starttls or tls."""
    where = f"SMTP server {host}:{port}"
    context = ssl.create_default_context()
    try:
        if security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if username:
                client.login(username, password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ExternalSystemError(
            f"{where} refused the login of {username}: {exc.smtp_code}",
            hint="check reports.email.smtp.username and its password",
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ExternalSystemError(f"{where}: {exc}") from None
    if refused:
        raise ExternalSystemError(f"{where} refused recipients: {', '.join(sorted(refused))}")


def send_ses(aws: Aws, message: EmailMessage) -> str:
    """Send ``message`` through SES (SendRawEmail); returns its SES message id."""
    client = aws_client(aws, "ses", timeout=30, attempts=3)
    with aws_errors(aws, "SES SendRawEmail"):
        answer = client.send_raw_email(RawMessage={"Data": message.as_bytes()})
    if "MessageId" not in answer:
        raise ExternalSystemError("SES answered SendRawEmail without a message id")
    return str(answer["MessageId"])
