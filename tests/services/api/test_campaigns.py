"""Campaign statistics from the reader, with the click-through rate worked out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.api.conftest import Backends
from tests.services.api.support import ApiClient, unique_id

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


@pytest.fixture
def campaigns(backends: Backends) -> Iterator[dict[str, str]]:
    """Two campaigns as the consumer would have counted them: one seen, one never shown."""
    seen, unseen = unique_id("camp"), unique_id("camp")
    conn = backends.mysql()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO campaign_stats"
            " (campaign_id, impressions, clicks, conversions, conversion_value_cents)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(seen, 200, 30, 4, 12_000), (unseen, 0, 0, 0, 0)],
        )
    yield {"seen": seen, "unseen": unseen}
    with conn.cursor() as cur:
        cur.execute("DELETE FROM campaign_stats WHERE campaign_id IN (%s, %s)", (seen, unseen))
    conn.close()


def test_stats_with_the_click_through_rate(api: ApiClient, campaigns: dict[str, str]) -> None:
    reply = api.get(f"/v1/campaigns/{campaigns['seen']}/stats")
    assert reply.status == 200, reply
    body = reply.json
    assert body.pop("updated_at")
    assert body == {
        "campaign_id": campaigns["seen"],
        "impressions": 200,
        "clicks": 30,
        "conversions": 4,
        "conversion_value_cents": 12_000,
        "ctr": 0.15,
    }


def test_ctr_is_null_before_the_first_impression(api: ApiClient, campaigns: dict[str, str]) -> None:
    reply = api.get(f"/v1/campaigns/{campaigns['unseen']}/stats")
    assert reply.status == 200, reply
    assert reply.json["ctr"] is None


def test_an_unknown_campaign_is_404(api: ApiClient) -> None:
    campaign = unique_id("camp-absent")
    reply = api.get(f"/v1/campaigns/{campaign}/stats")
    assert reply.status == 404, reply
    assert reply.json == {"error": f"campaign {campaign} not found"}
