"""The unmodified official Segment Python client, pointed at ``newretail serve``, just works."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from segment.analytics.client import Client  # type: ignore[import-untyped]
from tests.e2e.test_api_serve import Server, prepared_home

from newretail.lake import Lake


@pytest.mark.slow
def test_the_official_client_sends_identify_track_and_page(isolated_home: Path) -> None:
    keys = prepared_home(isolated_home)
    server = Server(isolated_home).start()
    try:
        errors: list[Exception] = []
        client = Client(
            write_key=keys.write,
            host=server.url,
            sync_mode=False,
            on_error=lambda error, _batch: errors.append(error),
        )
        client.identify("member-42", {"plan": "gold", "email": "m42@example.com"})
        client.track("member-42", "Product Viewed", {"product_id": "P9", "store_id": "SH01"})
        client.page("member-42", "Shop", "Menu", {"url": "https://example.com/menu"})
        client.flush()
        client.join()
        assert errors == []
        activity = httpx.get(
            f"{server.url}/api/v1/people/member-42/activity",
            headers={"Authorization": f"Bearer {keys.admin}"},
        ).json()
        assert activity["events_on_day"] == 3 and activity["last_seen"] is not None
    finally:
        server.stop()
    lake = Lake(isolated_home / "lake")
    rows = [
        row
        for partition in lake.partitions("ods", "app_events")
        for row in lake.read_partition("ods", "app_events", partition).to_pylist()
    ]
    assert sorted(r["type"] for r in rows) == ["identify", "page", "track"]
    assert {r["user_id"] for r in rows} == {"member-42"}
    track = next(r for r in rows if r["type"] == "track")
    assert (track["event"], track["product_id"], track["store_id"]) == (
        "Product Viewed",
        "P9",
        "SH01",
    )
    assert "m42@example.com" not in str(rows)
