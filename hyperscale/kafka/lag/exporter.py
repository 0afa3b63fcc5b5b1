"""`hyperscale kafka lag --serve ADDR`: consumer lag as a Prometheus exporter.

The figures are the gauges of `kafka lag -o prometheus` (hyperscale.kafka.lag.metrics). A
background thread reads the broker every ``--interval`` seconds and renders the whole
exposition text once per reading, and its gzip; a scrape is answered with the latest at once
(gzipped when the scraper asks, as Prometheus does), however many groups there are and
however many Prometheus replicas scrape. Only the first scrape waits, for the first reading.
With ``--interval 0`` there is no thread: each scrape reads the broker itself, and concurrent
scrapes wait for the one in flight. The exporter's own health:

- ``hyperscale_kafka_lag_exporter_up``: 1 when the last measurement succeeded, else 0 (and
  no lag series: figures that could not be read are absent, not stale);
- ``hyperscale_kafka_lag_exporter_scrape_errors_total``: measurements that failed;
- ``hyperscale_kafka_lag_exporter_scrape_duration_seconds``: how long the last one took.

It binds where asked (``PORT`` alone means 127.0.0.1) and runs until SIGTERM or Ctrl-C, both
a normal end (exit 0).
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.exposition import exposition_text
from hyperscale.interrupts import stop_requests
from hyperscale.kafka.lag.metrics import gauge_families

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext
    from hyperscale.kafka.lag.results import LagReport

EXPORTER_PREFIX = "hyperscale_kafka_lag_exporter"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


@dataclass(frozen=True)
class Exposition:
    """One reading, rendered: the text a scrape returns, and its gzip made on first demand."""

    text: bytes
    _gzipped: list[bytes]

    @classmethod
    def of(cls, text: str) -> Exposition:
        return cls(text.encode(), [])

    def gzipped(self) -> bytes:
        if not self._gzipped:  # a race only compresses twice; both results are the same
            self._gzipped.append(gzip.compress(self.text, compresslevel=5))
        return self._gzipped[0]


class LagReadings:
    """The latest reading of the lag, rendered to the exposition format once."""

    def __init__(
        self,
        measure: Callable[[], LagReport],
        interval: float,
        on_error: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._measure = measure
        self._interval = interval
        self._on_error = on_error
        self._clock = clock
        self._lock = threading.Lock()
        self._first = threading.Event()
        self._stopped = threading.Event()
        self._latest = Exposition.of("")  # replaced before anyone is let read it
        self.errors = 0
        self.measurements = 0

    def start(self) -> None:
        """With an interval, read in the background from now on."""
        if self._interval > 0:
            threading.Thread(target=self._every_interval, name="lag-readings", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def for_scrape(self) -> Exposition:
        if self._interval <= 0:
            with self._lock:
                return self._read()
        self._first.wait()
        return self._latest

    def _every_interval(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                # Compressed here, not by the first scrape that asks: Prometheus asks for gzip,
                # and at 2,000 groups the text is ~50 MB (~2 MB gzipped).
                self._read().gzipped()
            self._first.set()
            self._stopped.wait(self._interval)

    def _read(self) -> Exposition:
        started = self._clock()
        report: LagReport | None = None
        try:
            report = self._measure()
        except HyperscaleError as exc:
            self._fail(exc.message)
        except Exception as exc:  # noqa: BLE001 - a reading must never take the exporter down
            self._fail(f"unexpected error: {type(exc).__name__}: {exc}")
        self.measurements += 1
        lag = exposition_text(gauge_families(report)) if report is not None else ""
        self._latest = Exposition.of(lag + self._own_health(report, self._clock() - started))
        return self._latest

    def _own_health(self, report: LagReport | None, duration: float) -> str:
        up = f"{EXPORTER_PREFIX}_up"
        errors = f"{EXPORTER_PREFIX}_scrape_errors"
        took = f"{EXPORTER_PREFIX}_scrape_duration_seconds"
        return (
            f"# HELP {up} 1 when the last lag measurement succeeded, else 0.\n"
            f"# TYPE {up} gauge\n{up} {int(report is not None)}\n"
            f"# HELP {errors}_total Lag measurements that failed.\n"
            f"# TYPE {errors}_total counter\n{errors}_total {float(self.errors)!r}\n"
            f"# HELP {took} Seconds the last lag measurement took.\n"
            f"# TYPE {took} gauge\n{took} {duration!r}\n"
        )

    def _fail(self, message: str) -> None:
        self.errors += 1
        self._on_error(message)


def _handler(readings: LagReadings) -> type[BaseHTTPRequestHandler]:
    class MetricsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self.send_error(404, "only /metrics is served here")
                return
            exposition = readings.for_scrape()
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
            body = exposition.gzipped() if gzipped else exposition.text
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes are not logged: one line every few seconds per Prometheus replica."""

    return MetricsHandler


def _http_server(
    host: str, port: int, handler: type[BaseHTTPRequestHandler]
) -> ThreadingHTTPServer:
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    return Server((host, port), handler)


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
    app: AppContext, address: str, measure: Callable[[], LagReport], interval: float
) -> ServeResult:
    """Serve /metrics on ``address`` until SIGTERM or Ctrl-C."""
    host, port = listen_address(address)

    def log_error(message: str) -> None:
        app.stderr.write(f"error: scrape failed: {message}\n")
        app.stderr.flush()

    readings = LagReadings(measure, interval, log_error)
    try:
        server = _http_server(host, port, _handler(readings))
    except OSError as exc:
        raise UsageError(
            f"--serve {address}: cannot listen there: {exc.strerror or exc}",
            hint="choose another port, or stop what holds it",
        ) from None
    threading.Thread(target=server.serve_forever, name="lag-http", daemon=True).start()
    readings.start()
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    app.stderr.write(f"serving consumer lag on http://{shown}/metrics (SIGTERM or Ctrl-C stops)\n")
    app.stderr.flush()
    try:
        with stop_requests() as stopped:
            while not stopped.wait(0.5):
                pass
    except KeyboardInterrupt:  # a second Ctrl-C (the first ends the loop above)
        pass
    finally:
        readings.stop()
        server.shutdown()
        server.server_close()
    return ServeResult(shown, readings.measurements, readings.errors)
