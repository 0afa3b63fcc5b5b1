"""What a Kafka call's failure says, read in one place: its code name, its text, and the
questions librdkafka answers about it (fatal? retriable? must the transaction be aborted?).

A failure reaches us as a KafkaException wrapping a KafkaError, as a bare KafkaError (error and
delivery callbacks, a message's error), or as some other exception (a future's timeout, a
plain-text KafkaException); all three read the same way through :func:`failure_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperscale.errors import ExternalSystemError

#: Code names that mean "no broker answered", not "a broker refused".
UNREACHABLE_CODES = frozenset({"_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_RESOLVE"})
#: Errors of a group coordinator that is up but not ready yet (loading, moving, or its
#: offsets topic still being made on a new cluster).
COORDINATOR_BUSY = frozenset(
    {"COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR"}
)
#: Between two tries of a request the broker answered with a passing error.
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class KafkaFailure:
    #: The KafkaError code name (``TOPIC_ALREADY_EXISTS``, ``_TRANSPORT``...); "" when the
    #: failure is not a KafkaError (a future that timed out, a plain-text exception).
    name: str
    text: str
    fatal: bool = False
    retriable: bool = False
    txn_requires_abort: bool = False

    @property
    def unreachable(self) -> bool:
        """No broker answered. A failure without a code is a future's timeout: the same."""
        return not self.name or self.name in UNREACHABLE_CODES

    @property
    def passing(self) -> bool:
        """Worth asking again: retriable, or a group coordinator not ready yet."""
        return self.retriable or self.name in COORDINATOR_BUSY

    @property
    def fenced(self) -> bool:
        """A newer producer with the same transactional id took over."""
        return "FENCED" in self.name or "PRODUCER_EPOCH" in self.name


def failure_of(problem: object) -> KafkaFailure:
    """Read a KafkaException, a KafkaError, or any other exception as a KafkaFailure."""
    from confluent_kafka import KafkaError

    error = problem.args[0] if isinstance(problem, BaseException) and problem.args else problem
    if isinstance(error, KafkaError):
        return KafkaFailure(
            name=str(error.name()),
            text=str(error.str()),
            fatal=bool(error.fatal()),
            retriable=bool(error.retriable()),
            txn_requires_abort=bool(error.txn_requires_abort()),
        )
    return KafkaFailure(name="", text=str(error))


class KafkaCallError(ExternalSystemError):
    """A Kafka call failed; the caller says what it was doing, in its own words. Left
    unexplained it is still one line (the broker's text) with the external exit code."""

    def __init__(self, failure: KafkaFailure) -> None:
        super().__init__(failure.text)
        self.failure = failure


def call_error(problem: object) -> KafkaCallError:
    return KafkaCallError(failure_of(problem))


def unreachable_error(bootstrap: str, problem: object, what: str = "") -> ExternalSystemError:
    """The broker did not answer (transport, timeout), or refused to give ``what``."""
    failure = failure_of(problem)
    if not what or failure.unreachable:
        return ExternalSystemError(
            f"Kafka at {bootstrap} is unreachable: {failure.text}",
            hint="is the broker up? `hyperscale local status`, or check --bootstrap",
        )
    return ExternalSystemError(f"reading {what} from Kafka at {bootstrap}: {failure.text}")
