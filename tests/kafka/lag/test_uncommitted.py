"""`kafka lag` on a group that committed only some partitions of a topic it consumes: the
others are reported, with the lag they would have under the group's auto.offset.reset, and
counted only when asked (issue 20, item 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.lag.test_lag import produce_counts
from tests.kafka.support import commit, create_topic

pytestmark = pytest.mark.kafka


@pytest.fixture
def half_committed(bootstrap: str, prefix: str) -> tuple[str, str]:
    """5, 7 and 9 records on partitions 0-2; the group committed partition 0 only (at 5)."""
    topic = create_topic(bootstrap, f"{prefix}-t", 3)
    produce_counts(bootstrap, topic, [5, 7, 9])
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 5})
    return group, topic


def lag(app: AppContext, group: str, *args: str) -> tuple[int, dict[str, Any], list[Any]]:
    outcome = invoke(app, "kafka", "lag", "-g", group, "-o", "json", *args)
    document = json.loads(outcome.stdout)
    [only] = document["data"]["groups"]
    return outcome.exit_code, only, only["partitions"]


def test_partitions_never_committed_are_reported_not_counted(
    half_committed: tuple[str, str], isolated_app: AppContext
) -> None:
    group, topic = half_committed

    code, row, partitions = lag(isolated_app, group, "--offset-reset", "earliest")

    assert code == ExitCode.OK
    assert [(p["topic"], p["partition"]) for p in partitions] == [(topic, n) for n in range(3)]
    assert [p["committed_offset"] for p in partitions] == [5, None, None]
    assert [p["no_committed_offset"] for p in partitions] == [False, True, True]
    assert [p["lag_if_reset"] for p in partitions] == [None, 7, 9]
    assert [p["lag_messages"] for p in partitions] == [0, None, None]
    assert row["lag_messages"] == 0  # the headline leaves them out unless asked

    # Latest (Kafka's default): the group would start at the end, so no lag.
    _code, _row, partitions = lag(isolated_app, group)
    assert [p["lag_if_reset"] for p in partitions] == [None, 0, 0]


def test_counting_them_when_asked_puts_them_in_the_figures_and_thresholds(
    half_committed: tuple[str, str], isolated_app: AppContext
) -> None:
    group, _topic = half_committed
    counted = ("--offset-reset", "earliest", "--count-uncommitted", "--max-lag", "8")

    code, row, partitions = lag(isolated_app, group, *counted)

    assert [p["lag_messages"] for p in partitions] == [0, 7, 9]
    assert row["lag_messages"] == 16
    assert code == ExitCode.CHECK_FAILED  # partition 2's 9 is past --max-lag 8
    not_counted, _row, _partitions = lag(isolated_app, group, "--offset-reset", "earliest",
                                         "--max-lag", "8")  # fmt: skip
    assert not_counted == ExitCode.OK


def test_an_unknown_reset_policy_is_one_line_and_exit_2(
    half_committed: tuple[str, str], isolated_app: AppContext
) -> None:
    group, _topic = half_committed
    outcome = invoke(isolated_app, "kafka", "lag", "-g", group, "--offset-reset", "smallest")
    assert outcome.exit_code == ExitCode.USAGE
    assert outcome.stderr.strip().splitlines() == [
        "error: --offset-reset smallest: use earliest or latest"
    ]
