"""The Kafka client tests use the Kafka tests' fixtures: the local broker and a name prefix."""

from __future__ import annotations

from tests.kafka.conftest import bootstrap, prefix

__all__ = ["bootstrap", "prefix"]
