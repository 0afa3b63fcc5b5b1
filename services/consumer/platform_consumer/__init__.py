"""The platform's Kafka consumer: events -> MySQL exactly once, poison -> dead-letter topics."""

__version__ = "0.1.0"
