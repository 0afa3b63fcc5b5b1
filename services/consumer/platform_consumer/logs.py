"""Structured logs: one JSON object per line on stderr, so a log shipper needs no parser."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_DIGITS = re.compile(r"\d+")
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class RepeatFilter(logging.Filter):
    """Lets the first of each kind of message through per window and counts the rest.

    librdkafka logs every reconnect attempt (many per second while a broker is down); one line
    per kind per window, with a count of what was dropped, says the same.
    """

    def __init__(self, window_s: float = 30.0, max_kinds: int = 1000) -> None:
        super().__init__()
        self.window_s = window_s
        self.max_kinds = max_kinds
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, _DIGITS.sub("#", record.getMessage()))
        now = time.monotonic()
        last, dropped = self._seen.get(kind, (-1e18, 0))
        if now - last < self.window_s:
            self._seen[kind] = (last, dropped + 1)
            return False
        if len(self._seen) >= self.max_kinds:
            self._seen.clear()
        self._seen[kind] = (now, 0)
        if dropped:
            record.repeats_dropped = dropped
        return True


def rate_limited_logger(name: str, window_s: float = 30.0) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(f, RepeatFilter) for f in logger.filters):
        logger.addFilter(RepeatFilter(window_s))
    return logger
