"""The digest's assembly without services: collectors are plain callables, so a failing or
overrunning one is written here as a function (no mocks), and the runner must turn it into a
"could not collect" section while the others are kept."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.reports.email.collectors import COLLECTORS, ReportContext
from hyperscale.reports.email.digest import Digest, changes_since, collect, with_history_chart
from hyperscale.reports.email.message import compose, render_digest
from hyperscale.reports.email.sections import Collected, Rag, Table


def _ctx(app: AppContext) -> ReportContext:
    return ReportContext(load_environment(app, "local"), app, time.time())


def test_every_collector_is_registered_once_in_mail_order() -> None:
    keys = [key for key, _, _ in COLLECTORS]
    assert keys == ["health", "alb", "database", "kafka_lag", "dead_letters", "cost", "images"]


def test_failures_and_overruns_become_sections_and_the_rest_is_kept(
    isolated_app: AppContext,
) -> None:
    release = threading.Event()

    def fine(_: ReportContext) -> Collected:
        return Collected(Rag.green, "all good", [Table(["a"], [["1"]])], {"n": 1.0})

    def broken(_: ReportContext) -> Collected:
        raise ExternalSystemError("MySQL at 127.0.0.1:1 refused the connection", hint="start it")

    def crashing(_: ReportContext) -> Collected:
        raise KeyError("boom")

    def stuck(_: ReportContext) -> Collected:
        release.wait(30)
        return Collected(Rag.green, "late")

    try:
        sections = collect(
            _ctx(isolated_app),
            [("a", "A", fine), ("b", "B", broken), ("c", "C", crashing), ("d", "D", stuck)],
            timeout_s=1.0,
        )
    finally:
        release.set()
    assert [s.status for s in sections] == [Rag.green, Rag.failed, Rag.failed, Rag.failed]
    assert sections[0].headline == "all good"
    assert sections[1].error == "MySQL at 127.0.0.1:1 refused the connection (start it)"
    assert sections[2].error == "KeyError: 'boom'"
    assert sections[3].error == "did not finish within 1 s"
    assert all(s.collected_at > 0 for s in sections)
    digest = Digest("local", time.time(), sections, [], None)
    assert digest.overall is Rag.red
    assert [s.key for s in digest.failed] == ["b", "c", "d"]


def test_changes_name_status_moves_and_figures(isolated_app: AppContext) -> None:
    def section(status: Rag, lag: float) -> Collected:
        return Collected(status, "x", figures={"lag_messages:orders": lag})

    first = collect(
        _ctx(isolated_app), [("kafka_lag", "Kafka", lambda _: section(Rag.green, 3))], 5
    )
    second = collect(
        _ctx(isolated_app), [("kafka_lag", "Kafka", lambda _: section(Rag.red, 40))], 5
    )
    previous = Digest("local", 1.0, first, [], None).stored()
    assert changes_since(previous, second) == [
        "Kafka: GREEN -> RED",
        "Kafka: lag messages (orders) 3.00 -> 40.00",
    ]
    assert changes_since(previous, first) == [
        "nothing changed: every status and headline figure is as it was"
    ]
    assert changes_since(None, first) == [
        "first report for this environment: nothing to compare with yet"
    ]
    charted = with_history_chart(second[0], [previous], time.time())
    (chart,) = charted.charts
    assert chart.series == {"orders": [3.0, 40.0]}


def test_values_are_escaped_in_the_html(isolated_app: AppContext, tmp_path: Path) -> None:
    def hostile(_: ReportContext) -> Collected:
        return Collected(Rag.amber, "<script>alert(1)</script>", [Table(["<b>"], [["<img>"]])])

    sections = collect(_ctx(isolated_app), [("x", "X & Y", hostile)], 5)
    rendered = render_digest(isolated_app, Digest("local", time.time(), sections, ["a<b"], None))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "X &amp; Y" in rendered.html
    message = compose(rendered, "reports@hyperscale.localhost", ["sre@hyperscale.localhost"])
    assert message.get_content_type() == "multipart/alternative"
    assert "<script>alert(1)</script>" in rendered.text
