"""What the replenishment page shows, prepared for its template: the filters read from the query,
the page's lines grouped by location (stores first, then DCs) with each line's figures formatted and
its explanation written out, the totals, and where to come back to after a decision."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from newretail.model.codes import LOCATION_TYPES
from newretail.supply.replenish.plan_records import STATUSES, LineFilter, PlannedLine
from newretail.supply.replenish.plans import LocationSummary, Totals
from newretail.web.money import format_money

PAGE_SIZE = 200
# The explanation of a line, in the order the proposal reasons: each a figure with its definition
# (def.supply.<key>) in the glossary.
EXPLAINED = (
    "forecast",
    "safety_stock",
    "order_up_to",
    "on_hand",
    "in_transit",
    "position",
    "raw_need",
    "shelf_life_cap",
)
TOTALS = ("lines", "order_lines", "packs", "cost", "pending", "approved")
DEFINITIONS = (*TOTALS, "quantity", "arrival", *EXPLAINED, "reason")
DONE = ("approved", "edited", "rejected")
# Refusals the page words itself (supply.error_<name>); any other is "other".
ERRORS = (
    "bad_packs",
    "reason_required",
    "bad_reason",
    "line_ordered",
    "line_unknown",
    "location_unknown",
    "other",
)
_LOCATION = re.compile(r"^(store|warehouse):([A-Za-z0-9_-]{1,32})$")


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's query: which plan, location and status, and the page number."""

    plan: int | None = None
    location: str = ""  # "store:S1", "" for every location
    status: str = ""
    page: int = 0

    @classmethod
    def read(cls, plan: int | None, location: str, status: str, page: int) -> Filters:
        """The filters a visitor sent, an unknown location or status dropped (shows everything)."""
        return cls(
            plan,
            location if _LOCATION.match(location) else "",
            status if status in STATUSES else "",
            max(page, 0),
        )

    def chosen(self) -> LineFilter:
        match = _LOCATION.match(self.location)
        return LineFilter(
            location_type=match.group(1) if match else None,
            location_id=match.group(2) if match else None,
            status=self.status or None,
        )

    def query(self, **change: object) -> str:
        values: dict[str, object] = {
            "plan": self.plan or "",
            "location": self.location,
            "status": self.status,
            "page": self.page or "",
        }
        values.update(change)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass(frozen=True, slots=True)
class LineView:
    line: PlannedLine
    quantity: str
    cost: str
    order_id: int | None
    explained: list[tuple[str, str]]  # (figure key, formatted value)


@dataclass(frozen=True, slots=True)
class Group:
    """One ordering location on this page, with its pending lines in the whole plan."""

    location_type: str
    location_id: str
    from_id: str
    pending: int
    lines: list[LineView]

    @property
    def key(self) -> str:
        return f"{self.location_type}:{self.location_id}"


def groups(
    lines: Sequence[PlannedLine],
    places: Sequence[LocationSummary],
    orders: Mapping[int, int],
) -> list[Group]:
    """The page's lines by location, in the order they came (stores first, then DCs)."""
    pending = {(p.location_type, p.location_id): p.pending for p in places}
    by_place: dict[tuple[str, str], list[LineView]] = {}
    for line in lines:
        by_place.setdefault((line.location_type, line.location_id), []).append(
            LineView(
                line=line,
                quantity=f"{line.quantity:,}",
                cost=format_money(line.cost_minor, line.currency),
                order_id=orders.get(line.id),
                explained=[(key, _figure(getattr(line, key))) for key in EXPLAINED],
            )
        )
    return [
        Group(kind, place, views[0].line.from_id, pending.get((kind, place), 0), views)
        for (kind, place), views in by_place.items()
    ]


def location_options(places: Sequence[LocationSummary]) -> list[tuple[str, str, str]]:
    """(value, location type, id) for the location filter, stores first."""
    order = {kind: rank for rank, kind in enumerate(LOCATION_TYPES)}
    ranked = sorted(places, key=lambda p: (order[p.location_type], p.location_id))
    return [(f"{p.location_type}:{p.location_id}", p.location_type, p.location_id) for p in ranked]


def total_figures(totals: Totals) -> list[tuple[str, str]]:
    """(key, formatted figure) of each total; the cost one amount per currency."""
    cost = " + ".join(format_money(v, c) for c, v in sorted(totals.cost_minor.items())) or "—"
    return [
        ("lines", f"{totals.lines:,}"),
        ("order_lines", f"{totals.order_lines:,}"),
        ("packs", f"{totals.packs:,}"),
        ("cost", cost),
        ("pending", f"{totals.pending:,}"),
        ("approved", f"{totals.approved:,}"),
    ]


def shown_error(code: str) -> str:
    """The name of a refusal's message (``supply.line_ordered`` -> ``line_ordered``)."""
    name = code.removeprefix("supply.")
    return name if name in ERRORS else "other"


def _figure(value: int | Decimal) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.1f}"
    return f"{value:,}"
