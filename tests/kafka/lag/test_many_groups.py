"""Many groups on one partition: each group's time lag is the age of the record at its own
offset, whether the probe reads on to the next wanted offset or seeks to a far one."""

from __future__ import annotations

import json
import time

import pytest

from hyperscale.clients.kafka.record_probe import READ_THROUGH
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, produce

pytestmark = pytest.mark.kafka

RECORDS = 300
STEP_S = 10  # record i is (RECORDS - i) * STEP_S seconds old when produced


def test_each_group_gets_the_age_of_its_own_record(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produced_at = time.time()
    now_ms = int(produced_at * 1000)
    produce(bootstrap, topic, 0, [now_ms - (RECORDS - i) * STEP_S * 1000 for i in range(RECORDS)])
    offsets = [0, 1, 5, 6, 150, 151, 299, RECORDS]  # near ones read on, far ones seek
    assert min(150 - 6, 299 - 151) > READ_THROUGH
    for i, offset in enumerate(offsets):
        commit(bootstrap, f"{prefix}-g{i}", {(topic, 0): offset})

    outcome = invoke(isolated_app, "kafka", "lag", "-g", f"{prefix}-g.*", "-o", "json")

    assert outcome.exit_code in (ExitCode.OK, ExitCode.CHECK_FAILED)  # old records: past the SLO
    elapsed = time.time() - produced_at
    found = {g["group"]: g["partitions"][0] for g in json.loads(outcome.stdout)["data"]["groups"]}
    for i, offset in enumerate(offsets):
        row = found[f"{prefix}-g{i}"]
        assert row["lag_messages"] == RECORDS - offset
        if offset == RECORDS:
            assert (row["lag_seconds"], row["time_lag_method"]) == (0.0, "none")
            continue
        expected = (RECORDS - offset) * STEP_S
        assert row["time_lag_method"] == "record"
        assert expected - 1 <= row["lag_seconds"] <= expected + elapsed + 1, (offset, row)
