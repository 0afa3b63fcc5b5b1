"""The platform's event contract: payloads on the topics, Kafka headers, dead-letter headers."""

from platform_events.dlq import DLQ_HEADERS, DeadLetterHeaders
from platform_events.models import (
    EVENT_TYPES,
    MarketingEvent,
    OrderCreated,
    OrderLine,
    OrderPayload,
    decode_event,
)

__all__ = [
    "DLQ_HEADERS",
    "EVENT_TYPES",
    "DeadLetterHeaders",
    "MarketingEvent",
    "OrderCreated",
    "OrderLine",
    "OrderPayload",
    "decode_event",
]
