"""`hyperscale kafka lag --serve ADDR`: consumer lag as a Prometheus exporter.

A custom prometheus-client collector measures the lag when Prometheus scrapes, with the same
gauges as `kafka lag -o prometheus` (hyperscale.kafka.lag.metrics). A measurement is reused
for ``min_interval`` seconds and concurrent scrapes wait for the one in flight, so many
Prometheus replicas scraping at once cost the broker one read. The exporter's own health:

- ``hyperscale_kafka_lag_exporter_up``: 1 when the last measurement succeeded, else 0 (and
  no lag series: figures that could not be read are absent, not stale);
- ``hyperscale_kafka_lag_exporter_scrape_errors_total``: measurements that failed;
- ``hyperscale_kafka_lag_exporter_scrape_duration_seconds``: how long the last one took.

It binds where asked (``PORT`` alone means 127.0.0.1) and runs until SIGTERM or Ctrl-C, both
a normal end (exit 0).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.lag.metrics import gauge_families

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext
    from hyperscale.kafka.lag.results import LagReport

EXPORTER_PREFIX = "hyperscale_kafka_lag_exporter"


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT`` (loopback) -> (host, port)."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:  # noqa: PLR2004 - the port range
        raise UsageError(
            f"--serve {text!r}: not an address to listen on",
            hint="give HOST:PORT or PORT, e.g. 127.0.0.1:9308",
        )
    return host, int(port)


class LagCollector:
    """Measures on scrape, at most once per ``min_interval`` seconds."""

    def __init__(
        self,
        measure: Callable[[], LagReport],
        min_interval: float,
        on_error: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._measure = measure
        self._min_interval = min_interval
        self._on_error = on_error
        self._clock = clock
        self._lock = threading.Lock()
        self._measured_at: float | None = None
        self._report: LagReport | None = None
        self._duration = 0.0
        self.errors = 0
        self.measurements = 0

    def describe(self) -> list[Any]:
        """Nothing up front, so registering the collector does not read the broker."""
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self._lock:
            self._refresh_if_stale()
            report, duration, errors = self._report, self._duration, self.errors
        if report is not None:
            for family in gauge_families(report):
                gauge = GaugeMetricFamily(family.name, family.help, labels=family.label_names)
                for values, value in family.samples:
                    gauge.add_metric(values, value)
                yield gauge
        yield GaugeMetricFamily(
            f"{EXPORTER_PREFIX}_up",
            "1 when the last lag measurement succeeded, else 0.",
            value=int(report is not None),
        )
        yield CounterMetricFamily(
            f"{EXPORTER_PREFIX}_scrape_errors",
            "Lag measurements that failed.",
            value=errors,
        )
        yield GaugeMetricFamily(
            f"{EXPORTER_PREFIX}_scrape_duration_seconds",
            "Seconds the last lag measurement took.",
            value=duration,
        )

    def _refresh_if_stale(self) -> None:
        now = self._clock()
        if self._measured_at is not None and now - self._measured_at < self._min_interval:
            return
        try:
            self._report = self._measure()
        except HyperscaleError as exc:
            self._fail(exc.message)
        except Exception as exc:  # noqa: BLE001 - a scrape must never take the exporter down
            self._fail(f"unexpected error: {type(exc).__name__}: {exc}")
        self.measurements += 1
        self._measured_at = self._clock()
        self._duration = self._measured_at - now

    def _fail(self, message: str) -> None:
        self._report = None
        self.errors += 1
        self._on_error(message)


@dataclass(frozen=True)
class ServeResult:
    address: str
    measurements: int
    errors: int

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> Any:
        return {"address": self.address, "measurements": self.measurements, "errors": self.errors}

    def render(self, console: Console) -> None:
        console.print(
            f"stopped serving on {self.address}: {self.measurements} measurement(s),"
            f" {self.errors} failed"
        )


def serve(
    app: AppContext, address: str, measure: Callable[[], LagReport], min_interval: float
) -> ServeResult:
    """Serve /metrics on ``address`` until SIGTERM or Ctrl-C."""
    from prometheus_client import CollectorRegistry, start_http_server

    host, port = listen_address(address)

    def log_error(message: str) -> None:
        app.stderr.write(f"error: scrape failed: {message}\n")
        app.stderr.flush()

    collector = LagCollector(measure, min_interval, log_error)
    registry = CollectorRegistry()
    registry.register(collector)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise UsageError(
            f"--serve {address}: cannot listen there: {exc.strerror or exc}",
            hint="choose another port, or stop what holds it",
        ) from None
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    app.stderr.write(f"serving consumer lag on http://{shown}/metrics (SIGTERM or Ctrl-C stops)\n")
    app.stderr.flush()
    stopped = threading.Event()
    previous = _on_sigterm(stopped.set)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        _restore_sigterm(previous)
    return ServeResult(shown, collector.measurements, collector.errors)


def _on_sigterm(handler: Callable[[], None]) -> Any:
    """Route SIGTERM to ``handler`` (only the main thread may; elsewhere, leave it)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda _signum, _frame: handler())


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
