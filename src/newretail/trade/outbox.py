"""The transactional outbox: an order or refund is written to ``trade_outbox`` as rows of the lake's
ODS tables in the same transaction that places it, so it reaches the lake if and only if it happened.

Each outbox row's payload is ``{"version": 1, "tables": {ods_table: [row, ...]}}``: an order carries
its ``orders`` row, its ``order_lines`` and one ``coupon_redemptions`` row per coupon redeemed on it;
a refund carries its ``refunds`` row. Timestamps and dates are ISO 8601 text (JSON has neither);
:mod:`newretail.trade.relay` turns them back into the tables' Arrow types.

How OMS rows map onto the canonical model:

* ``source`` is ``oms`` (the order middle platform) on every row, and ``order_source`` too.
* The buyer: the lake attributes an order to a person through an identity record, (identity_source,
  identity_record_id), which OneID links to a person. An order placed with an identity record names
  that record. One placed with a bare person id names the person's record in the ordering channel (a
  POS order the ``pos`` member card, an app order the ``app`` account), else any record of the
  person, from OneID's links (``identity_links``), the earliest linked first. An order without a
  person, or of a person with no record, is anonymous in the lake.
* ``status`` is ``completed``: checkout takes the payment when the order is placed, and the OMS
  does not track making and handing over (so ``accepted_at``, ``made_at``, ``completed_at`` are
  null). A refund, in part or in full, is a ``refunds`` row, as for every other source.
* ``coupon_id`` on the order is the first coupon the pricing applied; every coupon redeemed is a
  ``coupon_redemptions`` row with the discount it gave. Checkout charges no delivery fee (0).
* A refund reason the lake does not know (``changed_mind``) is ``other`` there; the refund's
  business date is the store's local date when it was made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy import Connection, Row, case, insert, select

from newretail.errors import NotFound
from newretail.model import codes, table
from newretail.oltp.tables import (
    catalogue_stores,
    coupons,
    identity_links,
    order_discounts,
    order_lines,
    order_refunds,
    orders,
    trade_outbox,
)

SOURCE = "oms"
PAYLOAD_VERSION = 1
TABLES = ("orders", "order_lines", "coupon_redemptions", "refunds")
_INSERT = insert(trade_outbox).returning(trade_outbox.c.id)


def enqueue_order(conn: Connection, order_id: str, *, now: dt.datetime) -> int:
    """Queue order ``order_id`` (with its lines and redeemed coupons) for the lake; returns the
    outbox row's id. Call it in the transaction that placed the order, after the coupons' redemption.
    """
    order = _order(conn, order_id)._mapping
    lines = conn.execute(
        select(order_lines)
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.line_no)
    ).mappings()
    steps = order_discounts.c
    discounts = conn.execute(
        select(steps.step, steps.coupon_id, steps.amount_minor).where(
            steps.order_id == order_id, steps.coupon_id.is_not(None)
        )
    ).mappings()
    return _enqueue_order(
        conn,
        order,
        list(lines),
        list(discounts),
        tz=_store_timezone(conn, order["store_id"]),
        redeemed_at=None,
        now=now,
    )


def enqueue_placed(
    conn: Connection,
    order: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    discounts: Sequence[Mapping[str, Any]],
    *,
    timezone: str,
    now: dt.datetime,
) -> int:
    """:func:`enqueue_order` for an order just placed, from the rows placing it wrote (``orders``,
    ``order_lines`` in line order, ``order_discounts``) and its store's time zone, without reading
    them back: its coupons were redeemed when it was placed."""
    return _enqueue_order(
        conn, order, lines, discounts, tz=ZoneInfo(timezone), redeemed_at={}, now=now
    )


def _enqueue_order(
    conn: Connection,
    order: Mapping[Any, Any],
    lines: Sequence[Mapping[Any, Any]],
    discounts: Sequence[Mapping[Any, Any]],
    *,
    tz: ZoneInfo,
    redeemed_at: Mapping[str, dt.datetime] | None,
    now: dt.datetime,
) -> int:
    """The outbox row of an order from its rows; ``redeemed_at`` None reads when its coupons were
    redeemed, an empty mapping means when it was placed."""
    identity = (
        (order["identity_source"], order["identity_record_id"])
        if order["identity_source"] is not None
        else _identity(conn, order["person_id"], channel=order["channel"])
    )
    redemptions = _redemptions(conn, order, discounts, redeemed_at)
    order_row = {
        "source": SOURCE,
        "order_id": order["id"],
        "channel": order["channel"],
        "store_id": order["store_id"],
        "identity_source": identity[0] if identity else None,
        "identity_record_id": identity[1] if identity else None,
        "fulfilment": order["fulfilment"],
        "status": "completed",
        "placed_at": order["placed_at"],
        "accepted_at": None,
        "made_at": None,
        "completed_at": None,
        "promised_at": None,
        "currency": order["currency"],
        "gross_minor": order["gross_minor"],
        "discount_minor": order["discount_minor"],
        "delivery_fee_minor": 0,
        "paid_minor": order["paid_minor"],
        "coupon_id": redemptions[0]["coupon_id"] if redemptions else None,
        "payment_method": order["payment_method"],
        "platform_order_ref": None,
        "business_hour": order["placed_at"].astimezone(tz).hour,
        "business_date": order["business_date"],
    }
    line_rows = [
        {
            "source": SOURCE,
            "order_id": order["id"],
            "line_no": line["line_no"],
            "product_id": line["product_id"],
            "quantity": line["quantity"],
            "currency": order["currency"],
            "unit_price_minor": line["unit_price_minor"],
            "discount_minor": line["discount_minor"],
            "store_id": order["store_id"],
            "business_date": order["business_date"],
        }
        for line in lines
    ]
    return _enqueue(
        conn,
        "order",
        {"orders": [order_row], "order_lines": line_rows, "coupon_redemptions": redemptions},
        now=now,
    )


def enqueue_refund(conn: Connection, refund_id: str, *, now: dt.datetime) -> int:
    """Queue refund ``refund_id`` for the lake; returns the outbox row's id. Call it in the
    transaction that made the refund."""
    refund = conn.execute(
        select(order_refunds).where(order_refunds.c.id == refund_id)
    ).one_or_none()
    if refund is None:
        raise NotFound("refund.unknown", f"no refund {refund_id!r}", field="refund_id")
    order = _order(conn, refund.order_id)
    tz = _store_timezone(conn, order.store_id)
    row = {
        "source": SOURCE,
        "refund_id": refund.id,
        "order_source": SOURCE,
        "order_id": order.id,
        "store_id": order.store_id,
        "reason": refund.reason if refund.reason in codes.REFUND_REASONS else "other",
        "currency": order.currency,
        "amount_minor": refund.amount_minor,
        "requested_at": refund.at,
        "business_date": refund.at.astimezone(tz).date(),
    }
    return _enqueue(conn, "refund", {"refunds": [row]}, now=now)


def _order(conn: Connection, order_id: str) -> Row[Any]:
    order = conn.execute(select(orders).where(orders.c.id == order_id)).one_or_none()
    if order is None:
        raise NotFound("order.unknown", f"no order {order_id!r}", field="order_id")
    return order


def _store_timezone(conn: Connection, store_id: str) -> ZoneInfo:
    name = conn.execute(
        select(catalogue_stores.c.timezone).where(catalogue_stores.c.store_id == store_id)
    ).scalar_one_or_none()
    if name is None:
        raise NotFound("store.unknown", f"no store {store_id!r} in the catalogue", field="store_id")
    return ZoneInfo(name)


def _identity(conn: Connection, person_id: str | None, *, channel: str) -> tuple[str, str] | None:
    """The identity record the lake attributes the person's order to (see the module docstring)."""
    if person_id is None:
        return None
    link = identity_links.c
    found = conn.execute(
        select(link.source, link.source_record_id)
        .where(link.person_id == person_id)
        .order_by(
            case((link.source == channel, 0), else_=1),
            link.linked_at,
            link.source,
            link.source_record_id,
        )
        .limit(1)
    ).first()
    return None if found is None else (found.source, found.source_record_id)


def _redemptions(
    conn: Connection,
    order: Mapping[Any, Any],
    discounts: Sequence[Mapping[Any, Any]],
    redeemed_at: Mapping[str, dt.datetime] | None,
) -> list[dict[str, Any]]:
    """One row per coupon the order's pricing applied (its ``discounts`` rows with a coupon), in the
    order it applied them."""
    applied: dict[str, tuple[int, int]] = {}  # coupon -> (first step, discount)
    for step in discounts:
        coupon_id = step["coupon_id"]
        if coupon_id is None:
            continue
        first, total = applied.get(coupon_id, (step["step"], 0))
        applied[coupon_id] = (min(first, step["step"]), total + step["amount_minor"])
    ordered = sorted(applied, key=lambda coupon_id: (applied[coupon_id][0], coupon_id))
    if redeemed_at is None and ordered:
        redeemed_at = dict(
            conn.execute(
                select(coupons.c.id, coupons.c.redeemed_at).where(
                    coupons.c.id.in_(ordered), coupons.c.order_id == order["id"]
                )
            ).all()
        )
    return [
        {
            "source": SOURCE,
            "coupon_id": coupon_id,
            "order_source": SOURCE,
            "order_id": order["id"],
            "store_id": order["store_id"],
            "currency": order["currency"],
            "discount_minor": int(applied[coupon_id][1]),
            "redeemed_at": (redeemed_at or {}).get(coupon_id) or order["placed_at"],
            "business_date": order["business_date"],
        }
        for coupon_id in ordered
    ]


def _enqueue(
    conn: Connection, topic: str, tables: Mapping[str, list[dict[str, Any]]], *, now: dt.datetime
) -> int:
    for name, rows in tables.items():
        for row in rows:
            _check(name, row)
    payload = {
        "version": PAYLOAD_VERSION,
        "tables": {name: [_to_json(row) for row in rows] for name, rows in tables.items()},
    }
    values = {"topic": topic, "payload": payload, "created_at": now, "relayed_at": None}
    return int(conn.execute(_INSERT, values).scalar_one())


def _check(name: str, row: Mapping[str, Any]) -> None:
    """Refuse here, rolling back the order, a row the lake would refuse: a bad row in the outbox
    would stop the relay at it."""
    spec = table(name)
    if set(row) != set(spec.schema.names):
        raise ValueError(f"{name}: columns {sorted(row)} are not {spec.schema.names}")
    for column in spec.required:
        if row[column] is None:
            raise ValueError(f"{name}.{column} is required")
    for column, allowed in spec.enums:
        if row[column] is not None and row[column] not in allowed:
            raise ValueError(f"{name}.{column}: {row[column]!r} is not one of {allowed}")


def _to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in row.items()}


def from_json(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox payload row of ODS table ``name`` with its timestamps and dates parsed back."""
    out = dict(row)
    for field in table(name).schema:
        value = out.get(field.name)
        if value is None:
            continue
        if pa.types.is_timestamp(field.type):
            out[field.name] = dt.datetime.fromisoformat(value)
        elif pa.types.is_date(field.type):
            out[field.name] = dt.date.fromisoformat(value)
    return out
