"""The supply chain's OLTP tables: replenishment plans, their lines with the planner's decisions, and
the purchase orders approved lines become. They share :data:`newretail.oltp.tables.metadata`.

Quantities are integer base units (g, ml, piece); the forecast-derived figures of a line's
explanation (forecast, safety stock, order-up-to level) are fractional, so they are kept as integer
thousandths of a base unit (``*_milli``, rounded half to even): exact on both databases, no floats.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from newretail.oltp.columns import UtcDateTime
from newretail.oltp.tables import BigId, metadata

# One plan per origin day and service level: saving that plan again finds it (see supply.replenish).
supply_plans = Table(
    "supply_plans",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("origin", Date, nullable=False, comment="the day at whose close the orders are placed"),
    Column("service_level_bp", Integer, nullable=False, comment="basis points: 9800 is 98%"),
    Column("forecast_model", String(64), nullable=False),
    Column("lines", Integer, nullable=False, comment="proposal lines, with or without an order"),
    Column("order_lines", Integer, nullable=False, comment="lines proposing at least one pack"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("saved_at", UtcDateTime, nullable=False, comment="last replaced (while undecided)"),
    UniqueConstraint("origin", "service_level_bp"),
    CheckConstraint("service_level_bp > 0 AND service_level_bp < 10000", name="service_level"),
    CheckConstraint("lines >= 0 AND order_lines >= 0 AND order_lines <= lines", name="counts"),
)

# A proposed line with its explanation, then the planner's decision. The ordered packs are
# final_packs when the line was edited, else proposed_packs.
supply_plan_lines = Table(
    "supply_plan_lines",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("plan_id", ForeignKey("supply_plans.id"), nullable=False),
    Column("location_type", String(16), nullable=False, comment="store, warehouse"),
    Column("location_id", String(32), nullable=False),
    Column("material_id", String(32), nullable=False),
    Column("material_name", String(200), nullable=False, comment="as named when planned"),
    Column("from_type", String(16), nullable=False, comment="warehouse, supplier"),
    Column("from_id", String(32), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("arrival_date", Date, nullable=False),
    Column("pack_size", BigInteger, nullable=False, comment="base units per pack"),
    Column("currency", String(3), nullable=False),
    Column("pack_cost_minor", BigInteger, nullable=False),
    Column("forecast_milli", BigInteger, nullable=False, comment="over the protection period"),
    Column("safety_stock_milli", BigInteger, nullable=False),
    Column("order_up_to_milli", BigInteger, nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("in_transit", BigInteger, nullable=False, comment="arriving within the period"),
    Column("position", BigInteger, nullable=False),
    Column("raw_need", BigInteger, nullable=False),
    Column("shelf_life_cap", BigInteger, nullable=False),
    Column("reason", String(32), nullable=False, comment="supply.replenish.policy.REASONS"),
    Column("proposed_packs", Integer, nullable=False),
    Column("final_packs", Integer, nullable=True, comment="the planner's packs after an edit"),
    Column("status", String(10), nullable=False, comment="proposed, approved, edited, rejected"),
    Column("edited_by", String(64), nullable=True),
    Column("edit_reason", String(500), nullable=True),
    Column("reject_reason", String(500), nullable=True),
    Column("decided_by", String(64), nullable=True, comment="the last edit, approval or rejection"),
    Column("decided_at", UtcDateTime, nullable=True),
    # Named by hand: the generated name is longer than PostgreSQL's 63-character identifiers.
    UniqueConstraint(
        "plan_id", "location_type", "location_id", "material_id", name="uq_supply_plan_lines_key"
    ),
    CheckConstraint("location_type IN ('store', 'warehouse')", name="location_type"),
    CheckConstraint("from_type IN ('warehouse', 'supplier')", name="from_type"),
    CheckConstraint("status IN ('proposed', 'approved', 'edited', 'rejected')", name="status"),
    CheckConstraint(
        "proposed_packs >= 0 AND (final_packs IS NULL OR final_packs >= 0)", name="packs"
    ),
)

# One purchase order per plan, ordering location and shipper, whichever approval created it.
supply_purchase_orders = Table(
    "supply_purchase_orders",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("plan_id", ForeignKey("supply_plans.id"), nullable=False),
    Column("location_type", String(16), nullable=False),
    Column("location_id", String(32), nullable=False),
    Column("from_type", String(16), nullable=False),
    Column("from_id", String(32), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "plan_id", "location_type", "location_id", "from_id", name="uq_supply_purchase_orders_key"
    ),
    Index("ix_supply_purchase_orders_location_type_location_id", "location_type", "location_id"),
)

# The natural key: a plan line becomes a purchase order line at most once, whatever the retries.
supply_purchase_order_lines = Table(
    "supply_purchase_order_lines",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", ForeignKey("supply_purchase_orders.id"), nullable=False, index=True),
    Column("plan_line_id", ForeignKey("supply_plan_lines.id"), nullable=False, unique=True),
    Column("material_id", String(32), nullable=False),
    Column("packs", Integer, nullable=False),
    Column("pack_size", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False, comment="base units: packs * pack_size"),
    Column("currency", String(3), nullable=False),
    Column("pack_cost_minor", BigInteger, nullable=False),
    Column("cost_minor", BigInteger, nullable=False, comment="packs * pack_cost_minor"),
    Column("expected_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("packs > 0 AND quantity > 0 AND cost_minor >= 0", name="amounts"),
)
