"""A tiny chain written straight into the lake: DWD orders and the DWS store_day rows they sum to.

Unit tests pass a handful of orders whose figures can be checked by hand; the console's end-to-end
test passes a seeded month of them so the charts have a shape.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from newretail.lake import Lake
from newretail.model import dwd, dws

STORES = {"SH01": "CNY", "SH02": "CNY", "SG01": "SGD"}
CHANNELS = ("app", "mini_program", "pos", "meituan", "eleme", "tmall")


@dataclass(frozen=True)
class Order:
    store_id: str
    business_date: dt.date
    channel: str
    paid_minor: int
    member: str | None = None
    status: str = "completed"

    @property
    def currency(self) -> str:
        return STORES[self.store_id]


def write_chain(lake: Lake, orders: Iterable[Order]) -> None:
    """Write ``orders`` as DWD orders and the store_day rows built from them, one file per day."""
    by_day: dict[dt.date, list[Order]] = defaultdict(list)
    for order in orders:
        by_day[order.business_date].append(order)
    for day, day_orders in sorted(by_day.items()):
        partition = {"business_date": day}
        rows = [_order_row(n, order) for n, order in enumerate(day_orders)]
        orders_schema = dwd.table("orders").schema
        lake.write_partition(
            "dwd", "orders", partition, pa.Table.from_pylist(rows, schema=orders_schema)
        )
        lake.write_partition(
            "dws",
            "store_day",
            partition,
            pa.Table.from_pylist(_store_days(day_orders), schema=dws.STORE_DAY.schema),
        )


def seeded_month(last: dt.date, *, days: int = 45, seed: int = 7) -> list[Order]:
    """A plausible few weeks of trade: weekends busier, the SGD store smaller, a third anonymous."""
    rng = random.Random(seed)
    orders = []
    for offset in range(days):
        day = last - dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        for store in STORES:
            base = 18 if store == "SG01" else 40
            for _ in range(int(base * (1.35 if weekend else 1.0)) + rng.randint(0, 8)):
                channel = rng.choices(CHANNELS, weights=(30, 25, 28, 8, 6, 3))[0]
                if store == "SG01" and channel in ("meituan", "eleme", "tmall"):
                    channel = "pos"
                paid = rng.randint(900, 5200) if store == "SG01" else rng.randint(1500, 9800)
                member = f"m{rng.randint(1, 600)}" if rng.random() > 0.33 else None
                status = "cancelled" if rng.random() < 0.04 else "completed"
                orders.append(Order(store, day, channel, paid, member, status))
    return orders


def _order_row(n: int, order: Order) -> dict[str, object]:
    placed = dt.datetime.combine(order.business_date, dt.time(9, n % 60), tzinfo=dt.UTC)
    return {
        "source": "pos",
        "order_id": f"{order.store_id}-{order.business_date:%Y%m%d}-{n}",
        "channel": order.channel,
        "store_id": order.store_id,
        "identity_source": "app" if order.member else None,
        "identity_record_id": order.member,
        "fulfilment": "takeaway",
        "status": order.status,
        "placed_at": placed,
        "currency": order.currency,
        "gross_minor": order.paid_minor,
        "discount_minor": 0,
        "paid_minor": order.paid_minor,
        "payment_method": "wechat_pay",
        "business_hour": 9,
        "business_date": order.business_date,
    }


def _store_days(orders: list[Order]) -> list[dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for order in orders:
        row = rows.setdefault(order.store_id, _empty_store_day(order))
        row["orders"] = _int(row["orders"]) + 1
        if order.status != "completed":
            row["cancelled_orders"] = _int(row["cancelled_orders"]) + 1
            continue
        family = next(f for f, chans in dws.CHANNEL_FAMILIES.items() if order.channel in chans)
        for column, value in (
            ("completed_orders", 1),
            ("paid_minor", order.paid_minor),
            ("gross_minor", order.paid_minor),
            (f"orders_{family}", 1),
            (f"paid_{family}_minor", order.paid_minor),
            ("member_orders" if order.member else "anonymous_orders", 1),
        ):
            row[column] = _int(row[column]) + value
    return list(rows.values())


def _empty_store_day(order: Order) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(dws.STORE_DAY.schema.names, 0)
    row.update(store_id=order.store_id, business_date=order.business_date, currency=order.currency)
    return row


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value
