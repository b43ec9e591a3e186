"""DWD → DWS: additive aggregates per store-day, store-hour, store-product-day, store-material-day
and person-day.

Each table is built the same way: every fact becomes rows carrying the grain's key and the measures
it feeds, the rows are stacked and one group-by sums them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from newretail.lake.plan import Input, Step
from newretail.model import dwd, dws
from newretail.model.spec import TableSpec

_COMPLETED = "completed"


def _stack(
    spec: TableSpec,
    parts: Sequence[tuple[ir.Table, Mapping[str, ir.Value]]],
    *,
    nullable: Sequence[str] = (),
) -> ir.Table:
    """Stack fact rows shaped like ``spec`` and sum every measure per key.

    A measure a part does not feed is 0 there, except ``nullable`` ones (null: not known), which
    stay null after the sum when no part knows them.
    """
    key = list(spec.key)
    shaped = []
    for table, values in parts:
        columns = []
        for field in spec.schema:
            if field.name in values:
                value = values[field.name]
            elif field.name in key or field.name in nullable:
                value = ibis.null()
            else:
                value = ibis.literal(0)
            columns.append(value.cast(ibis.dtype(_sum_type(field.type))).name(field.name))
        shaped.append(table.select(*columns))
    stacked = shaped[0].union(*shaped[1:]) if len(shaped) > 1 else shaped[0]
    measures = [name for name in spec.schema.names if name not in key]
    return stacked.group_by(key).aggregate(**{name: stacked[name].sum() for name in measures})


def _sum_type(type_: pa.DataType) -> pa.DataType:
    return pa.int64() if pa.types.is_integer(type_) or pa.types.is_boolean(type_) else type_


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return condition.ifelse(1, 0)


def _when(condition: ir.BooleanValue, value: ir.Value) -> ir.Value:
    return condition.ifelse(value, 0)


def _orders_with_items(tables: Mapping[str, ir.Table]) -> ir.Table:
    """Orders with the units on their lines and the measures several tables share."""
    lines = tables["order_lines"]
    items = lines.group_by(["source", "order_id", "business_date"]).aggregate(
        items=lines.quantity.sum()
    )
    orders = tables["orders"]
    joined = orders.left_join(items, ["source", "order_id", "business_date"]).select(
        orders, items=items["items"].fill_null(0)
    )
    completed = joined.status == _COMPLETED
    start = joined.accepted_at.fill_null(joined.placed_at)
    made = completed & joined.made_at.notnull()
    delivery = completed & (joined.fulfilment == "delivery")
    # Whole seconds on both clocks, so every engine agrees to the second.
    seconds = joined.made_at.truncate("s").epoch_seconds() - start.truncate("s").epoch_seconds()
    return joined.mutate(
        is_completed=completed,
        is_made=made,
        make_seconds=_when(made, seconds),
        is_delivery=delivery,
        is_on_time=delivery & (joined.completed_at <= joined.promised_at),
        is_late=delivery & (joined.completed_at > joined.promised_at),
    )


def _store_currency(table: ir.Table, stores: ir.Table) -> ir.Table:
    """``table`` with its store's trading currency, for facts that carry no amount of their own."""
    currencies = stores.select(cur_store_id=stores.store_id, store_currency=stores.currency)
    return table.left_join(currencies, table.store_id == currencies.cur_store_id).select(
        table, currency=currencies.store_currency
    )


def _store_day(tables: Mapping[str, ir.Table]) -> ir.Table:
    o = _orders_with_items(tables)
    done = o.is_completed
    member = o.identity_record_id.notnull()
    order_values: dict[str, ir.Value] = {
        "store_id": o.store_id,
        "business_date": o.business_date,
        "currency": o.currency,
        "orders": ibis.literal(1),
        "completed_orders": _flag(done),
        "cancelled_orders": _flag(o.status == "cancelled"),
        "gross_minor": _when(done, o.gross_minor),
        "discount_minor": _when(done, o.discount_minor),
        "delivery_fee_minor": _when(done, o.delivery_fee_minor.fill_null(0)),
        "paid_minor": _when(done, o.paid_minor),
        "items": _when(done, o["items"]),
        "member_orders": _flag(done & member),
        "anonymous_orders": _flag(done & ~member),
        "delivery_orders": _flag(o.is_delivery),
        "on_time_deliveries": _flag(o.is_on_time),
        "late_deliveries": _flag(o.is_late),
        "make_seconds_sum": o.make_seconds,
        "made_orders": _flag(o.is_made),
    }
    for family, channels in dws.CHANNEL_FAMILIES.items():
        in_family = done & o.channel.isin(channels)
        order_values[f"orders_{family}"] = _flag(in_family)
        order_values[f"paid_{family}_minor"] = _when(in_family, o.paid_minor)
    stores = tables["stores"]
    refunds, redemptions = tables["refunds"], tables["coupon_redemptions"]
    complaints = _store_currency(tables["complaints"], stores)
    ratings = _store_currency(tables["ratings"], stores)
    footfall = _store_currency(tables["footfall"], stores)
    summed = _stack(
        _without(dws.STORE_DAY, "distinct_identities"),
        [
            (o, order_values),
            (
                refunds,
                {
                    **_store_key(refunds),
                    "refunds": ibis.literal(1),
                    "refund_minor": refunds.amount_minor,
                },
            ),
            (complaints, {**_store_key(complaints), "complaints": ibis.literal(1)}),
            (
                ratings,
                {**_store_key(ratings), "ratings": ibis.literal(1), "stars_sum": ratings.stars},
            ),
            (footfall, {**_store_key(footfall), "visitors": footfall.visitors}),
            (
                redemptions,
                {
                    **_store_key(redemptions),
                    "coupon_redemptions": ibis.literal(1),
                    "coupon_discount_minor": redemptions.discount_minor,
                },
            ),
        ],
    )
    # Distinct customers cannot be summed from parts, so they are counted on the orders alone.
    buyers = o.filter(done & member)
    distinct = buyers.group_by(["store_id", "business_date", "currency"]).aggregate(
        distinct_buyers=(buyers.identity_source.concat("|", buyers.identity_record_id)).nunique()
    )
    keys = ["store_id", "business_date", "currency"]
    return summed.left_join(distinct, keys).select(
        summed, distinct_identities=distinct.distinct_buyers.fill_null(0)
    )


def _store_key(table: ir.Table) -> dict[str, ir.Value]:
    return {
        "store_id": table.store_id,
        "business_date": table.business_date,
        "currency": table.currency,
    }


def _store_hour(tables: Mapping[str, ir.Table]) -> ir.Table:
    o = _orders_with_items(tables)
    footfall = _store_currency(tables["footfall"], tables["stores"])
    done = o.is_completed
    return _stack(
        dws.STORE_HOUR,
        [
            (
                o,
                {
                    **_store_key(o),
                    "business_hour": o.business_hour,
                    "orders": ibis.literal(1),
                    "completed_orders": _flag(done),
                    "paid_minor": _when(done, o.paid_minor),
                    "items": _when(done, o["items"]),
                    "make_seconds_sum": o.make_seconds,
                    "made_orders": _flag(o.is_made),
                    "delivery_orders": _flag(o.is_delivery),
                    "late_deliveries": _flag(o.is_late),
                },
            ),
            (
                footfall,
                {
                    **_store_key(footfall),
                    "business_hour": footfall.business_hour,
                    "visitors": footfall.visitors,
                },
            ),
        ],
    )


def _store_product_day(tables: Mapping[str, ir.Table]) -> ir.Table:
    orders = tables["orders"]
    done = orders.filter(orders.status == _COMPLETED).select("source", "order_id", "business_date")
    lines = tables["order_lines"].semi_join(done, ["source", "order_id", "business_date"])
    gross = lines.quantity.cast("int64") * lines.unit_price_minor
    per_order = lines.group_by(
        ["store_id", "product_id", "business_date", "currency", "source", "order_id"]
    ).aggregate(
        units=lines.quantity.sum(),
        gross_minor=gross.sum(),
        discount_minor=lines.discount_minor.sum(),
    )
    out = per_order.group_by(["store_id", "product_id", "business_date", "currency"]).aggregate(
        units=per_order.units.sum(),
        orders=per_order.count(),
        gross_minor=per_order.gross_minor.sum(),
        discount_minor=per_order.discount_minor.sum(),
    )
    return out.mutate(net_minor=out.gross_minor - out.discount_minor)


_LOCATION_KEY = ("location_type", "location_id", "material_id", "business_date")
_MOVEMENT_COLUMNS = {
    "receipts": "receipt",
    "consumption": "consumption",
    "transfers_in": "transfer_in",
    "transfers_out": "transfer_out",
    "waste": "waste",
    "adjustments": "adjustment",
}


def _store_material_day(tables: Mapping[str, ir.Table]) -> ir.Table:
    moves, snaps = tables["inventory_movements"], tables["inventory_snapshots"]
    sales, bom = tables["store_product_day"], tables["bill_of_materials"]

    def key(t: ir.Table, date: ir.Value) -> dict[str, ir.Value]:
        return {
            "location_type": t.location_type,
            "location_id": t.location_id,
            "material_id": t.material_id,
            "business_date": date,
        }

    movement_values = {
        name: _when(moves.kind == kind, moves.quantity) for name, kind in _MOVEMENT_COLUMNS.items()
    }
    movement_values["waste_expiry"] = _when(
        (moves.kind == "waste") & (moves.waste_reason == "expiry"), moves.quantity
    )
    demand = sales.join(bom, "product_id").select(
        location_type=ibis.literal("store"),
        location_id=sales.store_id,
        material_id=bom.material_id,
        business_date=sales.business_date,
        quantity=sales.units * bom.quantity,
    )
    # Yesterday's count is today's opening: shift the snapshots one day forward.
    stacked = _stack(
        dws.STORE_MATERIAL_DAY,
        [
            (moves, {**key(moves, moves.business_date), **movement_values}),
            (snaps, {**key(snaps, snaps.business_date), "closing_on_hand": snaps.on_hand}),
            (
                snaps,
                {
                    **key(snaps, snaps.business_date + ibis.interval(days=1)),
                    "opening_on_hand": snaps.on_hand,
                },
            ),
            (demand, {**key(demand, demand.business_date), "bom_demand": demand.quantity}),
        ],
        nullable=("opening_on_hand", "closing_on_hand", "count_variance", "stock_out"),
    )
    # Sales demand alone does not put a material on a location's books: keep counted or moved stock.
    stocked = (
        moves.select(*_LOCATION_KEY)
        .union(snaps.select(*_LOCATION_KEY))
        .union(
            snaps.mutate(business_date=snaps.business_date + ibis.interval(days=1)).select(
                *_LOCATION_KEY
            )
        )
    )
    stacked = stacked.semi_join(stocked, list(_LOCATION_KEY))
    movements = sum((stacked[name] for name in _MOVEMENT_COLUMNS), ibis.literal(0))
    projected = stacked.opening_on_hand + movements
    closing = stacked.closing_on_hand.fill_null(projected)
    return stacked.mutate(
        closing_on_hand=closing,
        count_variance=stacked.closing_on_hand - projected,
        stock_out=(closing <= 0).fill_null(False) | (-stacked.consumption < stacked.bom_demand),
    )


def _person_day(tables: Mapping[str, ir.Table]) -> ir.Table:
    o = _orders_with_items(tables)
    o = o.filter(o.is_completed & o.identity_record_id.notnull() & o.identity_source.notnull())
    redemptions = tables["coupon_redemptions"]
    redeemed = redemptions.join(
        o,
        [
            redemptions.order_source == o.source,
            redemptions.order_id == o.order_id,
            redemptions.business_date == o.business_date,
        ],
    ).select(o.identity_source, o.identity_record_id, o.business_date)
    events = tables["app_events"]
    events = events.filter(events.user_id.notnull())

    def person(t: ir.Table, source: ir.Value, record: ir.Value) -> dict[str, ir.Value]:
        return {
            "identity_source": source,
            "identity_record_id": record,
            "business_date": t.business_date,
        }

    spec = dws.PERSON_DAY
    # Currency is an attribute here, not part of the grain: a person shops in one country a day.
    parts: list[tuple[ir.Table, Mapping[str, ir.Value]]] = [
        (
            o,
            {
                **person(o, o.identity_source, o.identity_record_id),
                "orders": ibis.literal(1),
                "paid_minor": o.paid_minor,
                "items": o["items"],
            },
        ),
        (
            redeemed,
            {
                **person(redeemed, redeemed.identity_source, redeemed.identity_record_id),
                "coupons_redeemed": ibis.literal(1),
            },
        ),
        (events, {**person(events, events.source, events.user_id), "app_events": ibis.literal(1)}),
    ]
    measures = _stack(_without(spec, "currency"), parts)
    currencies = o.group_by(["identity_source", "identity_record_id", "business_date"]).aggregate(
        person_currency=o.currency.max()
    )
    return measures.left_join(currencies, list(spec.key)).select(
        measures, currency=currencies.person_currency
    )


def _without(spec: TableSpec, column: str) -> TableSpec:
    schema = spec.schema.remove(spec.schema.get_field_index(column))
    return TableSpec(spec.name, spec.subject, spec.description, schema, spec.key, spec.partition_by)


def _dwd(name: str, *, lags: tuple[int, ...] = (0,)) -> Input:
    return Input("dwd", dwd.table(name), lags)


_ORDER_INPUTS = (("orders", _dwd("orders")), ("order_lines", _dwd("order_lines")))

STEPS: tuple[Step, ...] = (
    Step(
        "dws",
        dws.STORE_DAY,
        (
            *_ORDER_INPUTS,
            *(
                (name, _dwd(name))
                for name in ("refunds", "complaints", "ratings", "footfall", "coupon_redemptions")
            ),
            ("stores", _dwd("stores")),
        ),
        _store_day,
    ),
    Step(
        "dws",
        dws.STORE_HOUR,
        (*_ORDER_INPUTS, ("footfall", _dwd("footfall")), ("stores", _dwd("stores"))),
        _store_hour,
    ),
    Step("dws", dws.STORE_PRODUCT_DAY, _ORDER_INPUTS, _store_product_day),
    Step(
        "dws",
        dws.STORE_MATERIAL_DAY,
        (
            ("inventory_movements", _dwd("inventory_movements")),
            ("inventory_snapshots", _dwd("inventory_snapshots", lags=(0, 1))),
            ("store_product_day", Input("dws", dws.STORE_PRODUCT_DAY)),
            ("bill_of_materials", _dwd("bill_of_materials")),
        ),
        _store_material_day,
    ),
    Step(
        "dws",
        dws.PERSON_DAY,
        (
            *_ORDER_INPUTS,
            ("coupon_redemptions", _dwd("coupon_redemptions")),
            ("app_events", _dwd("app_events")),
        ),
        _person_day,
    ),
)
