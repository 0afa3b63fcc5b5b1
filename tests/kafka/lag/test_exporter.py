"""`hyperscale kafka lag --serve`: the exporter runs as a real process on a free loopback port,
is scraped over HTTP, checked against the broker's state, and stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, produce
from tests.support import wait_for

pytestmark = pytest.mark.kafka

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def answers(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on (host, port)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@dataclass
class Exporter:
    process: subprocess.Popen[str]
    host: str
    port: int

    def scrape(self) -> Samples:
        from prometheus_client.parser import text_string_to_metric_families

        where = f"[{self.host}]" if ":" in self.host else self.host
        with urllib.request.urlopen(f"http://{where}:{self.port}/metrics", timeout=30) as response:
            text = response.read().decode()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, as a service manager stops it; the exit code and both streams."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err


@contextmanager
def exporter(
    app: AppContext, tmp_path: Path, *args: str, host: str = "127.0.0.1", listen: str = ""
) -> Iterator[Exporter]:
    """`kafka lag --serve` on a free port of ``host``: ``listen`` is the address given
    (``{port}`` replaced), HOST:PORT by default."""
    port = free_port(host)
    address = (listen or "{host}:{port}").format(host=host, port=port)
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }
    argv = [sys.executable, "-m", "hyperscale", "kafka", "lag"]
    process = subprocess.Popen(
        [*argv, "--serve", address, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        wait_for(
            lambda: process.poll() is not None or answers(host, port),
            30,
            f"the exporter to listen on {address}",
            0.1,
        )
        assert process.poll() is None, process.communicate()[1]
        yield Exporter(process, host, port)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def lag_of(samples: Samples, group: str, topic: str, partition: int) -> float:
    labels = frozenset({("group", group), ("topic", topic), ("partition", str(partition))})
    return samples[("hyperscale_kafka_consumer_lag_messages", labels)]


def test_each_scrape_measures_the_broker_and_sigterm_exits_0(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    now = int(time.time() * 1000)
    produce(bootstrap, topic, 0, [now] * 4)
    produce(bootstrap, topic, 1, [now] * 2)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 1, (topic, 1): 2})

    with exporter(isolated_app, tmp_path, "-g", group, "--interval", "0") as served:
        first = served.scrape()
        assert (lag_of(first, group, topic, 0), lag_of(first, group, topic, 1)) == (3, 0)
        assert first[("hyperscale_kafka_lag_exporter_up", frozenset())] == 1
        assert first[("hyperscale_kafka_lag_exporter_scrape_errors_total", frozenset())] == 0

        produce(bootstrap, topic, 1, [now] * 5)
        second = served.scrape()
        assert (lag_of(second, group, topic, 0), lag_of(second, group, topic, 1)) == (3, 5)
        group_labels = frozenset({("group", group), ("state", "Empty")})
        assert second[("hyperscale_kafka_consumer_group_lag_messages", group_labels)] == 8

        code, out, err = served.stop()
    assert code == ExitCode.OK
    assert f"serving consumer lag on http://127.0.0.1:{served.port}/metrics" in err
    assert "2 measurement(s), 0 failed" in out


def test_readings_go_on_in_the_background_and_a_gzipped_scrape_is_the_same_text(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    import gzip

    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    now = int(time.time() * 1000)
    produce(bootstrap, topic, 0, [now] * 2)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 0})

    with exporter(isolated_app, tmp_path, "-g", group, "--interval", "0.5") as served:
        assert lag_of(served.scrape(), group, topic, 0) == 2
        produce(bootstrap, topic, 0, [now] * 3)
        # No scrape asks for it: the background reading alone brings the new figure.
        wait_for(lambda: lag_of(served.scrape(), group, topic, 0) == 5, 30, "lag 5 scraped")

        url = f"http://127.0.0.1:{served.port}/metrics"
        asked = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(asked, timeout=30) as reply:
            encoding, packed = reply.headers.get("Content-Encoding"), reply.read()
        with urllib.request.urlopen(url, timeout=30) as reply:
            plain = reply.read()
        code, out, _err = served.stop()

    assert encoding == "gzip"

    # The same reading unless one landed between the two scrapes: compare the lag lines.
    def lag_lines(text: bytes) -> list[bytes]:
        return [
            line
            for line in text.splitlines()
            if line.startswith(b"hyperscale_kafka_consumer_lag_messages")
        ]

    assert lag_lines(gzip.decompress(packed)) == lag_lines(plain)
    assert code == ExitCode.OK
    readings = re.search(r"(\d+) measurement\(s\), 0 failed", out)
    assert readings, out
    assert int(readings.group(1)) >= 2, out


@pytest.fixture
def three_behind(bootstrap: str, prefix: str) -> tuple[str, str]:
    """(group, topic): the group 3 messages behind on the topic's one partition."""
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produce(bootstrap, topic, 0, [int(time.time() * 1000)] * 4)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 1})
    return group, topic


def test_a_bare_port_serves_on_ipv4_loopback_only(
    three_behind: tuple[str, str], isolated_app: AppContext, tmp_path: Path
) -> None:
    group, topic = three_behind
    with exporter(isolated_app, tmp_path, "-g", group, listen="{port}") as served:
        scraped = served.scrape()
        # Bound to 127.0.0.1, not to every address: another loopback address finds nothing.
        elsewhere = answers("127.0.0.2", served.port)
        code, out, err = served.stop()

    assert lag_of(scraped, group, topic, 0) == 3
    assert elsewhere is False
    assert code == ExitCode.OK
    assert f"serving consumer lag on http://127.0.0.1:{served.port}/metrics" in err
    assert f"stopped serving on 127.0.0.1:{served.port}: 1 measurement(s), 0 failed" in out


def test_an_ipv6_address_in_brackets_is_served_there(
    three_behind: tuple[str, str], isolated_app: AppContext, tmp_path: Path
) -> None:
    group, topic = three_behind
    with exporter(
        isolated_app, tmp_path, "-g", group, host="::1", listen="[{host}]:{port}"
    ) as served:
        scraped = served.scrape()
        on_ipv4 = answers("127.0.0.1", served.port)
        code, out, err = served.stop()

    assert lag_of(scraped, group, topic, 0) == 3
    assert on_ipv4 is False  # where it was asked, only
    assert code == ExitCode.OK
    assert f"serving consumer lag on http://[::1]:{served.port}/metrics" in err
    assert f"stopped serving on [::1]:{served.port}: 1 measurement(s), 0 failed" in out


def test_the_exporter_has_the_metric_names_of_output_prometheus(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produce(bootstrap, topic, 0, [int(time.time() * 1000)] * 3)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 1})

    text = invoke(isolated_app, "kafka", "lag", "-g", group, "-o", "prometheus").stdout
    printed = {
        (s.name, frozenset(s.labels.items()))
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    with exporter(isolated_app, tmp_path, "-g", group) as served:
        scraped = served.scrape()
        served.stop()

    own = {key for key in scraped if key[0].startswith("hyperscale_kafka_lag_exporter_")}
    assert set(scraped) - own == printed


def test_scrapes_within_the_interval_share_one_measurement(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    now = int(time.time() * 1000)
    produce(bootstrap, topic, 0, [now] * 2)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 0})

    with exporter(isolated_app, tmp_path, "-g", group, "--interval", "120") as served:
        with ThreadPoolExecutor(max_workers=6) as pool:  # Prometheus replicas scraping at once
            together = list(pool.map(lambda _i: served.scrape(), range(6)))
        produce(bootstrap, topic, 0, [now] * 3)
        later = served.scrape()
        code, out, _err = served.stop()

    assert {lag_of(s, group, topic, 0) for s in together} == {2}
    assert lag_of(later, group, topic, 0) == 2  # within the interval: the same figures
    assert code == ExitCode.OK
    assert "1 measurement(s), 0 failed" in out  # seven scrapes, one read of the broker


def test_an_unreachable_broker_is_up_0_and_the_exporter_keeps_serving(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    args = ("--bootstrap", "127.0.0.1:1", "--timeout", "0.5", "--interval", "0")
    with exporter(isolated_app, tmp_path, *args) as served:
        first = served.scrape()
        second = served.scrape()
        code, _out, err = served.stop()

    assert first[("hyperscale_kafka_lag_exporter_up", frozenset())] == 0
    assert second[("hyperscale_kafka_lag_exporter_scrape_errors_total", frozenset())] == 2
    assert not [name for name, _ in second if name.startswith("hyperscale_kafka_consumer_")]
    assert code == ExitCode.OK
    assert "error: scrape failed: Kafka at 127.0.0.1:1 is unreachable" in err


def test_a_taken_port_or_a_bad_address_is_one_line_and_exit_2(isolated_app: AppContext) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        outcome = invoke(isolated_app, "kafka", "lag", "--serve", f"127.0.0.1:{taken}")
    assert outcome.exit_code == ExitCode.USAGE
    [line] = outcome.stderr.strip().splitlines()
    assert f"--serve 127.0.0.1:{taken}: cannot listen there" in line

    outcome = invoke(isolated_app, "kafka", "lag", "--serve", "localhost:http")
    assert outcome.exit_code == ExitCode.USAGE
    assert "not an address to listen on" in outcome.stderr
