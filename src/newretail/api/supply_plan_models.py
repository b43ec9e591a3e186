"""The replenishment API's models: a plan with its totals, a line with its explanation and decision,
the edit, approval and rejection bodies, and purchase orders."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import Field, model_validator

from newretail.api.models import Create, Public
from newretail.supply.replenish.decisions import Location
from newretail.supply.replenish.plan_records import Plan, PlannedLine
from newretail.supply.replenish.plans import Totals


class TotalsPublic(Public):
    lines: int = Field(description="Lines selected, with or without an order.")
    order_lines: int = Field(description="Lines ordering at least one pack (not rejected).")
    packs: int = Field(description="Packs ordered: edited packs where edited, 0 when rejected.")
    cost_minor: dict[str, int] = Field(description="Packs × pack cost, per currency.")
    pending: int = Field(description="Lines awaiting a decision (proposed or edited).")
    approved: int = Field(description="Lines approved and on a purchase order.")


class PlanPublic(Public):
    id: int
    origin: dt.date = Field(description="The day at whose close the orders are placed.")
    service_level: float = Field(description="The chance of not running out, e.g. 0.98.")
    forecast_model: str
    lines: int
    order_lines: int
    created_at: dt.datetime
    saved_at: dt.datetime
    totals: TotalsPublic | None = Field(
        None, description="The lines' totals within your store scope (a single plan only)."
    )

    @classmethod
    def of(cls, plan: Plan, totals: Totals | None = None) -> PlanPublic:
        return cls(
            id=plan.id,
            origin=plan.origin,
            service_level=plan.service_level_bp / 10_000,
            forecast_model=plan.forecast_model,
            lines=plan.lines,
            order_lines=plan.order_lines,
            created_at=plan.created_at,
            saved_at=plan.saved_at,
            totals=TotalsPublic.model_validate(totals) if totals is not None else None,
        )


class PlansPublic(Public):
    data: list[PlanPublic]
    count: int


class ExplanationPublic(Public):
    """Why the proposal orders what it does; base units."""

    forecast: float = Field(description="Mean demand over the protection period.")
    safety_stock: float
    order_up_to: float = Field(description="Forecast plus safety stock.")
    on_hand: int
    in_transit: int = Field(description="Arriving within the protection period.")
    position: int = Field(description="On hand plus in transit.")
    raw_need: int = Field(description="Order-up-to minus position, rounded up, at least 0.")
    shelf_life_cap: int = Field(description="The most that can be used before it expires.")
    reason: str = Field(description="How the packs were settled, e.g. rounded_up.")


class LinePublic(Public):
    id: int
    plan_id: int
    location_type: Literal["store", "warehouse"]
    location_id: str
    material_id: str
    material_name: str
    from_type: Literal["warehouse", "supplier"]
    from_id: str
    order_date: dt.date
    arrival_date: dt.date
    pack_size: int
    proposed_packs: int
    packs: int = Field(description="What the line orders: the edited packs, else the proposal.")
    quantity: int = Field(description="packs × pack_size, base units.")
    currency: str
    pack_cost_minor: int
    cost_minor: int = Field(description="packs × pack_cost_minor.")
    status: Literal["proposed", "approved", "edited", "rejected"]
    edited_by: str | None
    edit_reason: str | None
    reject_reason: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    explanation: ExplanationPublic

    @classmethod
    def of(cls, line: PlannedLine) -> LinePublic:
        return cls.model_validate(
            {
                **{name: getattr(line, name) for name in cls.model_fields if name != "explanation"},
                "explanation": ExplanationPublic.model_validate(line),
            }
        )


class LinesPublic(Public):
    data: list[LinePublic]
    count: int


class LineEdit(Create):
    packs: int = Field(description="Whole packs to order, 0 or more.", examples=[3])
    reason: str = Field(max_length=2_000, examples=["store event on Saturday"])


class LineReject(Create):
    reason: str | None = Field(None, max_length=2_000)


class ApprovalCreate(Create):
    """Approve the lines named, or every pending line of one location (exactly one of the two)."""

    line_ids: list[int] | None = Field(None, max_length=100_000)
    location_type: Literal["store", "warehouse"] | None = None
    location_id: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.line_ids is None) == (self.location_id is None):
            raise ValueError("give line_ids or location_type and location_id, exactly one")
        if (self.location_type is None) != (self.location_id is None):
            raise ValueError("location_type and location_id go together")
        return self

    def location(self) -> Location | None:
        if self.location_type is None or self.location_id is None:
            return None
        return Location(self.location_type, self.location_id)


class ApprovalPublic(Public):
    plan_id: int
    approved: list[int] = Field(description="Lines this call approved (not those approved before).")
    purchase_orders: list[int] = Field(description="The purchase orders those lines went on.")


class PurchaseOrderLinePublic(Public):
    id: int
    plan_line_id: int
    material_id: str
    packs: int
    pack_size: int
    quantity: int
    currency: str
    pack_cost_minor: int
    cost_minor: int
    expected_on: dt.date


class PurchaseOrderPublic(Public):
    id: int
    plan_id: int
    location_type: str
    location_id: str
    from_type: str
    from_id: str
    order_date: dt.date
    created_by: str
    created_at: dt.datetime
    cost_minor: dict[str, int] = Field(description="The order's cost per currency.")
    lines: list[PurchaseOrderLinePublic]


class PurchaseOrdersPublic(Public):
    data: list[PurchaseOrderPublic]
    count: int
