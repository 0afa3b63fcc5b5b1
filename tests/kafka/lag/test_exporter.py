"""`hyperscale kafka lag --serve`: the exporter runs as a real process on a free loopback port,
is scraped over HTTP, checked against the broker's state, and stopped with SIGTERM."""

from __future__ import annotations

import os
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

pytestmark = pytest.mark.kafka

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Exporter:
    process: subprocess.Popen[str]
    port: int

    def scrape(self) -> Samples:
        from prometheus_client.parser import text_string_to_metric_families

        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as response:
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
def exporter(app: AppContext, tmp_path: Path, *args: str) -> Iterator[Exporter]:
    port = free_port()
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }
    argv = [sys.executable, "-m", "hyperscale", "kafka", "lag"]
    process = subprocess.Popen(
        [*argv, "--serve", f"127.0.0.1:{port}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the exporter did not listen within 30 s"
                time.sleep(0.1)
        yield Exporter(process, port)
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
