"""``python -m platform_consumer``: settings from the environment, then the loop until a signal.

Exit status: 0 stopped cleanly (SIGTERM/SIGINT, last batch and offsets committed);
1 a failure the loop cannot outlive (see the last log line), or no progress with records
waiting (the progress watchdog, CONSUMER_STALL_TIMEOUT_S); 2 invalid configuration.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType

from pydantic import ValidationError

from platform_consumer.health import Heartbeat, OperatorServer
from platform_consumer.logs import configure_logging
from platform_consumer.loop import StopSignal, run_consumer
from platform_consumer.metrics import ConsumerMetrics
from platform_consumer.progress import ConsumerStalledError
from platform_consumer.settings import ConsumerSettings, describe_validation_error

log = logging.getLogger("platform_consumer")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2

#: After the progress watchdog gave up, /healthz and /metrics keep answering this long (503,
#: with the reason; the stall counter) before the process exits: a probe or a scrape in flight
#: reads why, rather than a refused connection.
STALL_REPORT_HOLD_S = 2.0


def main() -> int:
    configure_logging()
    try:
        settings = ConsumerSettings()  # type: ignore[call-arg]  # required fields come from the environment
        settings.mysql_password()  # an unreadable secret file fails now, not at the first batch
    except ValidationError as exc:
        log.error("invalid configuration", extra={"errors": describe_validation_error(exc)})  # noqa: TRY400 - a traceback adds nothing here
        return EXIT_CONFIG
    except ValueError as exc:
        log.error("invalid configuration", extra={"errors": str(exc)})  # noqa: TRY400 - as above
        return EXIT_CONFIG

    stop = StopSignal(settings.consumer_stop_grace_s)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.request(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    metrics = ConsumerMetrics()
    heartbeat = Heartbeat()
    try:
        server = OperatorServer(
            (settings.consumer_metrics_host, settings.consumer_metrics_port),
            metrics.registry,
            heartbeat,
        )
    except OSError as exc:
        log.error(  # noqa: TRY400 - the one line says what and where
            "cannot serve /metrics and /healthz",
            extra={
                "address": f"{settings.consumer_metrics_host}:{settings.consumer_metrics_port}",
                "error": str(exc),
            },
        )
        return EXIT_CONFIG
    server.start()
    try:
        run_consumer(settings, metrics, heartbeat, stop)
    except ConsumerStalledError:
        time.sleep(STALL_REPORT_HOLD_S)  # the watchdog logged the one line that says why
        return EXIT_FAILED
    except Exception:
        if stop.is_set():
            log.exception(
                "stopped with the last batch unfinished; its records will be redelivered"
                " and applied once"
            )
        else:
            log.exception("the consumer failed")
        return EXIT_FAILED
    finally:
        server.stop()
    log.info("stopped cleanly")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
