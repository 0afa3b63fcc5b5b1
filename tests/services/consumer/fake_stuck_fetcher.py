"""A FAKE, for the progress watchdog's tests: ``python -m platform_consumer`` whose librdkafka
consumer stops fetching after FAKE_STALL_AFTER_RECORDS records.

What is faked, and only that: the stuck fetcher of issue 20 (after a session timeout during a
broker restart, librdkafka gave the consumer its partitions back and never fetched them
again). Here the partitions are paused instead (``Consumer.pause``: librdkafka's own
"assigned, not fetching" state; records already prefetched are dropped and read again from the
position). Everything else is the real service: the group, the broker answering watermark
queries, MySQL, the watchdog, /healthz and the exit.

Run as ``python -m tests.services.consumer.fake_stuck_fetcher`` from the project root.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import confluent_kafka
from platform_consumer.__main__ import main

_RealConsumer = confluent_kafka.Consumer


class StuckFetcherConsumer(_RealConsumer):  # type: ignore[misc, valid-type]  # a C type
    """Hands out FAKE_STALL_AFTER_RECORDS records, then pauses every partition it holds."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._budget = int(os.environ["FAKE_STALL_AFTER_RECORDS"])

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
        if self._budget <= 0:
            self.pause(self.assignment())  # newly assigned partitions are stuck too
        messages: list[Any] = super().consume(
            num_messages=max(1, min(num_messages, self._budget)), timeout=timeout
        )
        self._budget -= len(messages)
        return messages


if __name__ == "__main__":
    confluent_kafka.Consumer = StuckFetcherConsumer  # run_consumer imports it at call time
    sys.exit(main())
