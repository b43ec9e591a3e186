"""What the audience pages embed: a size history as a small inline SVG line (the list's sparklines,
drawn on the server so a list of hundreds of audiences needs no script), the editor's tag picker and
the labels of the breakdown tags' values, and the builder's state as JSON for its script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from newretail.audience.indexes import Indexes
from newretail.audience.saved import SavedAudience, SizePoint
from newretail.tags.catalogue import Catalogue
from newretail.tags.spec import Entity
from newretail.web.i18n import Language, translate
from newretail.web.tag_view import picker_entries, tag_name, value_label

# The person tags an audience is broken down by: home city, favourite channel, lifecycle stage.
BREAKDOWN = ("home_city", "favourite_channel", "lifecycle_stage")
EXPORT_KINDS = ("csv", "phone_sha256", "device_sha256")
CONSENTS = ("sms", "email", "wechat", "push")
# Messages the scripts show, by key (aud.js.<key>).
SCRIPT_MESSAGES = (
    "counting",
    "empty",
    "no_snapshot",
    "failed",
    "only_a",
    "only_b",
    "both",
    "no_value",
    "exported",
    "download",
    "insert_hint",
    "no_tags",
)
_SPARK_W, _SPARK_H = 120, 28


@dataclass(frozen=True, slots=True)
class Freshness:
    """The snapshot a page's figures are counted on."""

    as_of: str
    version: int
    universe: int


def freshness(indexes: Indexes | None, entity: Entity) -> Freshness | None:
    if indexes is None or (entity == "store" and indexes.stores is None):
        return None
    index = indexes.of(entity)
    return Freshness(index.as_of.isoformat(), index.version or 0, index.row_count)


@dataclass(frozen=True, slots=True)
class Spark:
    """A size history as an SVG polyline (``points``) ending in a dot at ``(x, y)``."""

    points: str
    x: float
    y: float
    count: int
    width: int = _SPARK_W
    height: int = _SPARK_H


def sparkline(points: Sequence[SizePoint]) -> Spark | None:
    """The sizes scaled to their own range (a single point is a flat line); None without any."""
    if not points:
        return None
    sizes = [p.size for p in points]
    low, high = min(sizes), max(sizes)
    span = (high - low) or 1
    step = _SPARK_W / max(1, len(sizes) - 1)
    coords = [
        (round(i * step, 1), round(_SPARK_H - 3 - (s - low) / span * (_SPARK_H - 6), 1))
        for i, s in enumerate(sizes)
    ]
    if len(coords) == 1:
        coords = [(0.0, coords[0][1]), (float(_SPARK_W), coords[0][1])]
    x, y = coords[-1]
    return Spark(" ".join(f"{x},{y}" for x, y in coords), x, y, len(sizes))


def editor_data(
    catalogue: Catalogue, indexes: Indexes | None, language: Language, entity: Entity
) -> dict[str, Any]:
    """The picker's tags and the messages every editor script needs."""
    index = None
    if indexes is not None and (entity == "person" or indexes.stores is not None):
        index = indexes.of(entity)
    return {
        "entity": entity,
        "tags": picker_entries(catalogue.for_entity(entity), index, language),
        "messages": {key: translate(language, f"aud.js.{key}") for key in SCRIPT_MESSAGES},
    }


def breakdown_data(indexes: Indexes | None, language: Language) -> list[dict[str, Any]]:
    """For each breakdown tag the snapshot holds: its name and its values' labels."""
    if indexes is None:
        return []
    index = indexes.persons
    out = []
    for tag_id in BREAKDOWN:
        if tag_id not in index.tag_ids:
            continue
        spec = index.spec(tag_id)
        values = [*spec.values, *index.distribution(tag_id).counts]
        out.append(
            {
                "tag": tag_id,
                "name": tag_name(spec, language),
                "labels": {v: value_label(language, spec, v) for v in values},
            }
        )
    return out


def overlap_choices(audiences: Sequence[SavedAudience], *, exclude: str | None) -> list[Any]:
    """Saved person audiences to compare with (by their stored tree, so a renamed tag cannot
    change what is compared)."""
    return [
        {"id": a.id, "name": a.name, "size": a.size, "tree": a.expression}
        for a in audiences
        if a.entity == "person" and a.id != exclude
    ]
