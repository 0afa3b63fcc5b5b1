"""The offset -> time estimate used when the record at the committed offset cannot be read."""

from __future__ import annotations

import pytest

from hyperscale.clients.kafka.models import TimedOffset
from hyperscale.kafka.lag.core import interpolate_timestamp

NOW = 1_000.0


def test_between_a_known_record_and_the_log_end() -> None:
    # record 10 written at t=900; the log end (20) is "now": offset 15 sits halfway
    assert interpolate_timestamp(15, [TimedOffset(10, 900_000)], 20, NOW) == pytest.approx(950)


def test_between_two_known_records() -> None:
    known = [TimedOffset(10, 900_000), TimedOffset(30, 980_000)]
    assert interpolate_timestamp(20, known, 40, NOW) == pytest.approx(940)


def test_below_the_first_record_extends_the_first_slope_backwards() -> None:
    # retention loss: one record per second up to now; offset 5 was 5 records before offset 10
    assert interpolate_timestamp(5, [TimedOffset(10, 990_000)], 20, NOW) == pytest.approx(985)


def test_a_timestamp_later_than_now_never_makes_the_estimate_newer_than_the_record() -> None:
    assert interpolate_timestamp(5, [TimedOffset(10, 1_010_000)], 11, NOW) <= 1_010


def test_nothing_known_is_no_estimate() -> None:
    assert interpolate_timestamp(5, [], 20, NOW) is None
