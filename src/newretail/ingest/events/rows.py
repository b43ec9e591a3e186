"""Map stream records onto the canonical ``app_events`` columns.

The canonical type enum holds track, page, screen and identify; group and alias records stay in the
stream only (for OneID), and :func:`to_row` returns ``None`` for them.
"""

from __future__ import annotations

import json
from typing import Any

from newretail.ingest.events.contract import StoredEvent
from newretail.model import codes

LAKE_TYPES = frozenset(codes.EVENT_TYPES)
# Segment's e-commerce spec says product_id; apps also send camelCase.
_PRODUCT_KEYS = ("product_id", "productId")
_STORE_KEYS = ("store_id", "storeId")
# json.dumps(..., separators=(",", ":"), ensure_ascii=False, sort_keys=True), without building an
# encoder per row.
_PROPERTIES = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _first(values: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = values.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def to_row(event: StoredEvent) -> dict[str, Any] | None:
    """One ``app_events`` row, or ``None`` for a type the canonical table does not hold."""
    if event.type not in LAKE_TYPES:
        return None
    # identify traits (phone, e-mail, name...) are personal data: the lake gets only their names;
    # the values stay in the stream, for OneID, which protects them on the way in.
    payload: dict[str, Any] = (
        {"trait_keys": sorted(event.traits)} if event.type == "identify" else dict(event.properties)
    )
    if event.extra:
        payload["_extra"] = event.extra
    if event.type == "track":
        name = event.event or ""
    else:
        name = event.name or str(event.properties.get("name") or "")
    return {
        "source": event.source,
        "message_id": event.message_id,
        "type": event.type,
        "event": name,
        "anonymous_id": event.anonymous_id,
        "user_id": event.user_id,
        "product_id": _first(event.properties, _PRODUCT_KEYS),
        "store_id": _first(event.properties, _STORE_KEYS),
        "occurred_at": event.occurred_at,
        "properties": _PROPERTIES.encode(payload),
        "business_date": event.business_date,
    }
