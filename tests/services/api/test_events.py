"""Marketing events: a batch becomes one record per event, keyed by campaign."""

from __future__ import annotations

from typing import Any

import pytest
from platform_events import MarketingEvent, decode_event

from tests.services.api.conftest import Backends
from tests.services.api.support import ApiClient, records_on, unique_id

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def test_a_batch_becomes_one_record_per_event_keyed_by_campaign(
    api: ApiClient, backends: Backends
) -> None:
    spring, autumn = unique_id("spring"), unique_id("autumn")
    batch = [
        {"type": "impression", "campaign_id": spring, "user_id": "u-1"},
        {"type": "click", "campaign_id": spring, "user_id": "u-1"},
        {"type": "conversion", "campaign_id": autumn, "value_cents": 4200},
    ]
    reply = api.post("/v1/events", {"events": batch})
    assert reply.status == 202, reply
    assert reply.json == {"accepted": 3}

    published: list[tuple[bytes | None, MarketingEvent, dict[str, bytes]]] = []
    for record in records_on(backends.bootstrap, backends.events_topic):
        event = decode_event(record.value)
        assert isinstance(event, MarketingEvent)
        if event.campaign_id in (spring, autumn):
            published.append((record.key, event, record.headers))
    assert len(published) == 3
    assert len({event.event_id for _, event, _ in published}) == 3
    for key, event, headers in published:
        assert key == event.campaign_id.encode()
        assert headers["event-type"] == event.type.encode()
        assert headers["event-id"] == str(event.event_id).encode()
    assert sorted(
        (e.campaign_id, e.type, e.user_id, e.value_cents) for _, e, _ in published
    ) == sorted(
        [
            (spring, "impression", "u-1", 0),
            (spring, "click", "u-1", 0),
            (autumn, "conversion", None, 4200),
        ]
    )


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([], "events"),
        ([{"type": "click", "campaign_id": "c-1"}] * 1001, "events"),
        ([{"type": "view", "campaign_id": "c-1"}], "events.0.type"),
        ([{"type": "click", "campaign_id": ""}], "events.0.campaign_id"),
        ([{"type": "click", "campaign_id": "c-1", "value_cents": 5}], "events.0"),
    ],
)
def test_an_invalid_batch_is_422_naming_the_field(
    api: ApiClient, events: list[dict[str, Any]], field: str
) -> None:
    reply = api.post("/v1/events", {"events": events})
    assert reply.status == 422, reply
    assert field in {d["field"] for d in reply.json["detail"]}
