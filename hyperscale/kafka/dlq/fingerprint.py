"""Kinds of failure in a dead-letter topic: the exception class and its message with what
varies from record to record masked (numbers, ids, quoted values, the record's own content),
so "not JSON", "unknown type" and "missing fields" are three rows, not one ValidationError."""

from __future__ import annotations

import hashlib
import re

#: Applied in order: an inner pattern must not see what an outer one already masked.
_MASKS = (
    (re.compile(r"\{[^{}]*\}"), "{…}"),  # a mapping printed into the message: the record
    (re.compile(r"[bB]?'[^'\n]*'|[bB]?\"[^\"\n]*\""), "'…'"),  # quoted values
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<id>",
    ),
    (re.compile(r"\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b", re.I), "<n>"),  # numbers, hex ids
    (re.compile(r"\s+"), " "),
)
#: A pattern shown is cut to this: a message can carry a whole stack trace (the fingerprint
#: is taken over all of it).
PATTERN_CHARS = 600


def message_pattern(message: str | None) -> str:
    """The message with its varying parts masked, on one line."""
    text = message or ""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text.strip()


def failure_fingerprint(exception_class: str | None, message: str | None) -> tuple[str, str]:
    """(fingerprint, pattern): twelve hex digits naming the kind, and the masked message as
    shown (cut to PATTERN_CHARS)."""
    pattern = message_pattern(message)
    digest = hashlib.sha256(f"{exception_class or ''}\0{pattern}".encode()).hexdigest()
    shown = pattern if len(pattern) <= PATTERN_CHARS else pattern[: PATTERN_CHARS - 1] + "…"
    return digest[:12], shown
