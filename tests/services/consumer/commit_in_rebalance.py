"""A stand-in for the refused-commit test: ``python -m platform_consumer`` whose first batch
is handed to the loop only once the group is rebalancing and this member has given up some
partitions (the first phase of an incremental rebalance), so the batch is applied and its
offsets committed while the second phase is still open.

What is arranged, and only that: the timing. In production a batch lands inside a rebalance
by chance (the CI run that found this had a member join while a batch was being applied); the
test keeps the second phase open (its joiner is not polled) until the commit is in flight.
librdkafka holds that commit until the phase ends, then sends it with the generation before
it, and the broker refuses it (ILLEGAL_GENERATION). The records, the commit, the refusal, the
group, MySQL and everything after are the real service's.

Run as ``python -m tests.services.consumer.commit_in_rebalance`` from the project root.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import confluent_kafka
from platform_consumer.__main__ import main

_RealConsumer = confluent_kafka.Consumer
_HOLD_AT_MOST_S = 90.0


class CommitInRebalanceConsumer(_RealConsumer):  # type: ignore[misc, valid-type]  # a C type
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._held = False

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
        messages: list[Any] = super().consume(num_messages=num_messages, timeout=timeout)
        if messages and not self._held:
            self._held = True
            print(json.dumps({"msg": "stand-in: first batch held"}), file=sys.stderr, flush=True)
            # Polling serves the rebalance callbacks: the loop's own revoke handler runs here.
            held = len(self.assignment())
            deadline = time.monotonic() + _HOLD_AT_MOST_S
            while len(self.assignment()) >= held and time.monotonic() < deadline:
                messages += super().consume(num_messages=num_messages, timeout=0.05)
        return messages


if __name__ == "__main__":
    confluent_kafka.Consumer = CommitInRebalanceConsumer  # run_consumer imports it at call time
    sys.exit(main())
