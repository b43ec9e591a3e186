"""A small hand-made replenishment plan and the principals that read and decide it, for the plan
tests (domain, API, console). Two stores (S1, S2) served by DC W1, which orders from suppliers."""

from __future__ import annotations

import datetime as dt
import math

from newretail.security import Principal, Role
from newretail.supply.replenish.plan import PlanDraft, PlanLine
from newretail.supply.replenish.policy import Explanation

NOW = dt.datetime(2026, 10, 27, 22, 0, tzinfo=dt.UTC)
PLANNER = Principal(user_id=1, role=Role.SUPPLY_PLANNER)
MANAGER = Principal(user_id=2, role=Role.STORE_MANAGER, stores=frozenset({"S1"}))
ANALYST = Principal(user_id=3, role=Role.ANALYST)
NAMES = {"M001": "咖啡豆 Espresso beans", "M016": "可颂 Croissant"}
# material: (pack size in base units, pack cost in fen)
MATERIALS = {"M001": (1000, 9000), "M016": (24, 9600)}


def plan_line(
    location: str,
    material: str,
    packs: int,
    *,
    origin: dt.date,
    location_type: str = "store",
    reason: str = "rounded_up",
    forecast: float = 1234.5678,
) -> PlanLine:
    """One line ordering ``packs``; its explanation is consistent (position = on hand + in transit,
    raw need = order-up-to - position rounded up)."""
    pack, cost = MATERIALS[material]
    on_hand, in_transit, safety = 300, 200, 150.25
    position = on_hand + in_transit
    order_up_to = forecast + safety
    raw_need = max(0, math.ceil(order_up_to - position))
    from_type, from_id = ("warehouse", "W1") if location_type == "store" else ("supplier", "V01")
    return PlanLine(
        location_type=location_type,
        location_id=location,
        material_id=material,
        from_type=from_type,
        from_id=from_id,
        order_date=origin,
        arrival_date=origin + dt.timedelta(days=1 if location_type == "store" else 3),
        pack_size=pack,
        packs=packs,
        quantity=packs * pack,
        currency="CNY",
        pack_cost_minor=cost,
        explanation=Explanation(
            location_id=location,
            material_id=material,
            forecast=forecast,
            safety_stock=safety,
            order_up_to=order_up_to,
            on_hand=on_hand,
            in_transit=in_transit,
            position=position,
            raw_need=raw_need,
            shelf_life_cap=5_000,
            packs=packs,
            quantity=packs * pack,
            reason=reason,
        ),
    )


def small_draft(origin: dt.date, *, service_level: float = 0.98, scale: int = 1) -> PlanDraft:
    """S1 and S2 each order beans and croissants from W1; S2's croissant line orders nothing
    (capped by shelf life); W1 orders beans from its supplier. ``scale`` multiplies the packs."""
    lines = [
        plan_line("S1", "M001", 2 * scale, origin=origin),
        plan_line("S1", "M016", 3 * scale, origin=origin, forecast=40.0),
        plan_line("S2", "M001", 1 * scale, origin=origin),
        plan_line("S2", "M016", 0, origin=origin, reason="capped_by_shelf_life", forecast=12.0),
        plan_line("W1", "M001", 5 * scale, origin=origin, location_type="warehouse"),
    ]
    return PlanDraft(origin, service_level, "lightgbm", lines)
