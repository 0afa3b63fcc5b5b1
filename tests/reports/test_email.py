"""`hyperscale report email` end to end on the local platform: real traffic through the API,
every collector against the real services, the mail through the real SMTP sink (aiosmtpd) and
through SES on moto, then parsed back."""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.conftest import invoke, moto_client
from tests.deploy.test_local_deploy import order_body, post
from tests.reports.conftest import mails_to, raw_mails_to
from tests.support import free_port, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.kafka,
    pytest.mark.mysql,
    pytest.mark.smtp,
    pytest.mark.aws,
]

TITLES = [
    "Health",
    "Load balancer (ALB)",
    "Database",
    "Kafka consumer lag",
    "Dead letters",
    "Cost",
    "Image cleanup",
]


def _address() -> str:
    return f"sre-{uuid.uuid4().hex[:8]}@hyperscale.localhost"


def _parts(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """The plain text, the HTML, and the images by Content-ID (no brackets)."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    images = {
        str(part["Content-ID"]).strip("<>"): part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "image/png"
    }
    return text.get_content(), html.get_content(), images


def _secret_values(app: AppContext) -> list[str]:
    secrets = app.state_dir / "secrets"
    return (
        [p.read_text().strip() for p in secrets.iterdir() if p.is_file()]
        if secrets.exists()
        else []
    )


def _traffic(env: Environment, orders: int = 5) -> None:
    api = str(env.services.api_url).rstrip("/")
    for i in range(orders):
        status, _ = post(f"{api}/v1/orders", order_body(f"report-{uuid.uuid4().hex[:6]}-{i}"))
        assert status == 202


def test_the_digest_reaches_the_sink_with_every_section_and_its_charts(
    platform: Environment, report_app: AppContext, tmp_path: Path
) -> None:
    _traffic(platform)
    to = _address()
    preview = tmp_path / "report.html"
    outcome = invoke(report_app, "report", "email", "--to", to, "--out", str(preview))
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert f"sent to {to} via smtp" in outcome.stdout

    (message,) = wait_for(lambda: mails_to(report_app, to), 20, "the digest in the sink")
    assert "hyperscale local digest" in str(message["Subject"])
    status = str(message["X-Hyperscale-Status"])
    assert status in {"GREEN", "AMBER", "RED"}
    assert str(message["Subject"]).startswith(f"[{status}] ")
    text, html, images = _parts(message)
    for title in TITLES:
        assert title in text
        assert f"{title}" in html
    # Each section says when its data was collected; no section failed on a running platform.
    assert len(re.findall(r"collected \d\d:\d\d:\d\d UTC", html)) == len(TITLES)
    assert "could not collect" not in text
    # The ALB is not part of the local target: the section says so instead of failing.
    assert "no load balancer tagged ingress.k8s.aws/stack=hyperscale-local" in text
    # Every cid: the HTML refers to is attached as a PNG, and every PNG is referred to.
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids == set(images), (cids, set(images))
    assert "chart-latency" in cids
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    # E-mail-safe HTML: one 600 px table column, inline styles only, nothing fetched.
    assert 'width="600"' in html
    assert "<style" not in html
    assert "<script" not in html
    assert "<link" not in html
    assert "http://" not in html.replace("http://127.0.0.1", "")
    # The preview is the same HTML with the charts inlined (a browser resolves no cid:).
    shown = preview.read_text()
    assert "cid:" not in shown
    assert shown.count('src="data:image/png;base64,') == len(images)
    for cid in images:
        html = html.replace(f'src="cid:{cid}"', "")
    assert re.sub(r' src="data:image/png;base64,[^"]+"', " ", shown) == html.replace(
        "\r\n",
        "\n",  # SMTP lines end in CRLF
    )
    # No secret value anywhere in the message as sent.
    raw = b"".join(raw_mails_to(report_app, to))
    for secret in _secret_values(report_app):
        assert secret.encode() not in raw
    assert "first report for this environment" in text

    # A second report compares with the first, and charts two points.
    outcome = invoke(report_app, "report", "email", "--to", to, "-o", "json")
    document = json.loads(outcome.stdout)
    assert document["data"]["previous_at"] is not None
    assert "first report" not in " ".join(document["data"]["changes"])
    assert [s["title"] for s in document["data"]["sections"]] == TITLES
    messages = wait_for(
        lambda: len(mails_to(report_app, to)) == 2 and mails_to(report_app, to),
        20,
        "a second digest",
    )
    assert any("compared with the report of" in _parts(m)[0] for m in messages)


def test_a_collector_against_a_stopped_service_is_a_section_and_exit_1(
    local_services: Environment, report_app: AppContext, tmp_path: Path
) -> None:
    """The database collector points at a port nobody listens on: the mail still goes, that
    section says why, the others are there, and the command exits 1."""
    environments = tmp_path / "environments"
    environments.mkdir()
    data = yaml.safe_load((report_app.environments_dir / "local.yaml").read_text())
    dead = free_port()
    data["mysql"]["writer"] = data["mysql"]["reader"] = f"127.0.0.1:{dead}"
    (environments / "local.yaml").write_text(yaml.safe_dump(data))
    report_app.environments_dir = environments
    to = _address()
    outcome = invoke(
        report_app, "report", "email", "--to", to, "--section", "database", "--section", "cost"
    )
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    (message,) = wait_for(lambda: mails_to(report_app, to), 20, "the digest in the sink")
    assert "1 not collected" in str(message["Subject"])
    text, html, _ = _parts(message)
    why = re.search(r"Database: could not collect: (.+)", text)
    assert why is not None
    assert str(dead) in why.group(1)
    assert "could not collect" in html
    assert "NOT COLLECTED" in html
    assert "== Cost [" in text


def test_ses_sends_the_same_mail_through_moto(
    local_services: Environment, report_app: AppContext
) -> None:
    ses = moto_client(local_services, "ses")
    ses.verify_email_identity(EmailAddress=local_services.reports.email.sender)
    before = ses.get_send_quota()["SentLast24Hours"]
    outcome = invoke(
        report_app,
        "report",
        "email",
        "--via",
        "ses",
        "--to",
        _address(),
        "--section",
        "cost",
        "-o",
        "json",
    )
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["data"]["via"] == "ses"
    assert document["data"]["sent"] is True
    assert ses.get_send_quota()["SentLast24Hours"] == before + 1


def test_dry_run_writes_the_preview_and_sends_and_stores_nothing(
    local_services: Environment, report_app: AppContext, tmp_path: Path
) -> None:
    to = _address()
    preview = tmp_path / "preview.html"
    outcome = invoke(
        report_app,
        "report",
        "email",
        "--dry-run",
        "--to",
        to,
        "--out",
        str(preview),
        "--section",
        "cost",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "dry run: not sent" in outcome.stdout
    assert preview.read_text().startswith("<!DOCTYPE html>")
    assert mails_to(report_app, to) == []
    assert not (report_app.state_dir / "reports" / "local" / "digests.json").exists()


def test_an_smtp_server_that_is_down_is_exit_3_and_nothing_is_stored(
    local_services: Environment, report_app: AppContext, tmp_path: Path
) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    data = yaml.safe_load((report_app.environments_dir / "local.yaml").read_text())
    dead = free_port()
    data["reports"]["email"]["smtp"]["endpoint"] = f"127.0.0.1:{dead}"
    (environments / "local.yaml").write_text(yaml.safe_dump(data))
    report_app.environments_dir = environments
    outcome = invoke(report_app, "report", "email", "--section", "images")
    assert outcome.exit_code == 3
    assert outcome.stderr.startswith(f"error: SMTP server 127.0.0.1:{dead}: ")
    assert "Traceback" not in outcome.stderr
    assert not (report_app.state_dir / "reports" / "local" / "digests.json").exists()


def test_a_bad_recipient_is_a_usage_error(report_app: AppContext) -> None:
    outcome = invoke(report_app, "report", "email", "--to", "sre at example", "--dry-run")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: --to sre at example: not an e-mail address")


def test_an_unknown_section_is_a_usage_error(report_app: AppContext) -> None:
    outcome = invoke(report_app, "report", "email", "--section", "weather", "--dry-run")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: no section weather (sections: health, alb,")
