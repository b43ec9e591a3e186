"""A replenishment draft as rows for the plan tables, each line checked first: a line that cannot be
stored faithfully is refused with InvalidInput ``supply.bad_plan`` naming its location and material."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from newretail.errors import InvalidInput
from newretail.model.codes import LOCATION_TYPES
from newretail.supply.replenish.policy import REASONS

if TYPE_CHECKING:
    # Only the draft's shape is needed: importing the planner would load the forecasting stack into
    # every process that merely reads plans (the API, the console).
    from newretail.supply.replenish.plan import PlanLine

_FROM_TYPES = ("warehouse", "supplier")


def service_level_bp(level: float) -> int:
    """A service level as basis points (0.98 -> 9800); it must lie strictly between 0 and 1."""
    if not (math.isfinite(level) and 0 < level < 1):
        raise InvalidInput(
            "supply.bad_plan",
            f"service level {level} is not between 0 and 1",
            field="service_level",
        )
    return round(level * 10_000)


def line_rows(lines: Sequence[PlanLine], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The lines' column values (explanation figures in thousandths of a base unit), or
    InvalidInput ``supply.bad_plan`` for the first bad or repeated line."""
    seen: set[tuple[str, str, str]] = set()
    rows = []
    for line in lines:
        key = (line.location_type, line.location_id, line.material_id)
        if key in seen:
            where = " ".join(key)
            raise InvalidInput("supply.bad_plan", f"{where}: proposed twice", field=where)
        seen.add(key)
        rows.append(_line_values(line, names))
    return rows


def _line_values(line: PlanLine, names: Mapping[str, str]) -> dict[str, Any]:
    problem = _problem(line)
    if problem is not None:
        where = f"{line.location_type} {line.location_id} × {line.material_id}"
        raise InvalidInput("supply.bad_plan", f"{where}: {problem}", field=where)
    x = line.explanation
    return {
        "location_type": line.location_type,
        "location_id": line.location_id,
        "material_id": line.material_id,
        "material_name": names.get(line.material_id, line.material_id),
        "from_type": line.from_type,
        "from_id": line.from_id,
        "order_date": line.order_date,
        "arrival_date": line.arrival_date,
        "pack_size": line.pack_size,
        "currency": line.currency,
        "pack_cost_minor": line.pack_cost_minor,
        "forecast_milli": round(x.forecast * 1000),
        "safety_stock_milli": round(x.safety_stock * 1000),
        "order_up_to_milli": round(x.order_up_to * 1000),
        "on_hand": x.on_hand,
        "in_transit": x.in_transit,
        "position": x.position,
        "raw_need": x.raw_need,
        "shelf_life_cap": x.shelf_life_cap,
        "reason": x.reason,
        "proposed_packs": line.packs,
        "final_packs": None,
        "status": "proposed",
    }


def _problem(line: PlanLine) -> str | None:
    x = line.explanation
    checks = (
        (line.location_type in LOCATION_TYPES, "unknown location type"),
        (line.from_type in _FROM_TYPES, "unknown source type"),
        (line.packs >= 0, "negative packs"),
        (line.pack_size > 0, "pack size not positive"),
        (line.quantity == line.packs * line.pack_size, "quantity is not packs × pack size"),
        (line.pack_cost_minor >= 0, "negative pack cost"),
        (line.arrival_date >= line.order_date, "arrives before it is ordered"),
        (x.reason in REASONS, f"unknown reason {x.reason!r}"),
        (
            (x.location_id, x.material_id) == (line.location_id, line.material_id),
            "explains another item",
        ),
        (
            all(math.isfinite(v) for v in (x.forecast, x.safety_stock, x.order_up_to)),
            "forecast not finite",
        ),
    )
    return next((problem for ok, problem in checks if not ok), None)
