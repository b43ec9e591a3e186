"""Reconciliation: the engine's stock and counters against the orders in OLTP, item by item.

It proves, per SKU, that units sold by the engine (reserved - expired) = units of live orders in
OLTP (reserved or paid) = stock taken (initial - remaining), that paid and expired units agree, and,
over the whole sale, that no person holds more than the limit and no ineligible person holds
anything. Run it after the order writer has caught up: records still in flight show as differences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, func, select

from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.results import ItemCounts
from newretail.flashsale.sale import Eligibility
from newretail.flashsale.sales import get_sale
from newretail.oltp.tables import flashsale_eligible, flashsale_orders


@dataclass(frozen=True, slots=True)
class ItemReconciliation:
    """One SKU in units: the sale's stock, the engine's view, and the orders in OLTP by status."""

    sku: str
    stock: int
    engine: ItemCounts
    orders_reserved: int
    orders_paid: int
    orders_expired: int

    @property
    def taken(self) -> int:
        return self.engine.initial - self.engine.remaining

    @property
    def sold(self) -> int:
        return self.engine.reserved - self.engine.expired

    def differences(self) -> dict[str, int]:
        """Each check that does not come out at zero, by name; empty when the item reconciles."""
        checks = {
            "engine initial - sale stock": self.engine.initial - self.stock,
            "stock taken - sold": self.taken - self.sold,
            "orders in OLTP - sold": self.orders_reserved + self.orders_paid - self.sold,
            "paid orders - paid in engine": self.orders_paid - self.engine.paid,
            "expired orders - expired in engine": self.orders_expired - self.engine.expired,
            "oversold": max(0, self.taken - self.stock),
        }
        return {name: value for name, value in checks.items() if value}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    sale_id: str
    items: tuple[ItemReconciliation, ...]
    reservations: int
    orders: int
    persons_over_limit: int
    ineligible_orders: int

    @property
    def differences(self) -> dict[str, int]:
        """Every non-zero check, named ``<sku>: <check>`` or after the sale-wide check."""
        found = {
            f"{item.sku}: {name}": value
            for item in self.items
            for name, value in item.differences().items()
        }
        for name, value in (
            ("orders - reservations", self.orders - self.reservations),
            ("persons over the limit", self.persons_over_limit),
            ("orders of ineligible persons", self.ineligible_orders),
        ):
            if value:
                found[name] = value
        return found

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(conn: Connection, engine: FlashSaleEngine, sale_id: str) -> Reconciliation:
    """Compare ``engine`` with the OLTP orders of ``sale_id`` (which must be armed in the engine).

    >>> reconcile(conn, engine, "fs-double11").ok  # doctest: +SKIP
    True
    """
    sale = get_sale(conn, sale_id)
    counts = engine.counts(sale_id)
    orders = flashsale_orders.c
    units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    number = 0
    for sku, status, quantity, rows in conn.execute(
        select(orders.sku, orders.status, func.sum(orders.quantity), func.count())
        .where(orders.sale_id == sale_id)
        .group_by(orders.sku, orders.status)
    ):
        units[sku][status] = int(quantity)
        number += rows
    stock = {item.sku: item.stock for item in sale.items}
    in_engine = {item.sku: item for item in counts.items}
    items = tuple(
        ItemReconciliation(
            sku=sku,
            stock=stock.get(sku, 0),
            engine=in_engine.get(sku, ItemCounts(sku, 0, 0, 0, 0, 0)),
            orders_reserved=units[sku]["reserved"],
            orders_paid=units[sku]["paid"],
            orders_expired=units[sku]["expired"],
        )
        for sku in sorted(stock.keys() | in_engine.keys() | units.keys())
    )
    return Reconciliation(
        sale_id=sale_id,
        items=items,
        reservations=counts.reservations,
        orders=number,
        persons_over_limit=_persons_over_limit(conn, sale_id, sale.per_person_limit),
        ineligible_orders=0
        if sale.eligibility is Eligibility.EVERYONE
        else _ineligible_orders(conn, sale_id),
    )


def orders_by_status(conn: Connection, sale_id: str) -> dict[str, int]:
    """How many orders of the sale OLTP holds in each status (reserved, paid, expired)."""
    orders = flashsale_orders.c
    query = (
        select(orders.status, func.count()).where(orders.sale_id == sale_id).group_by(orders.status)
    )
    found: dict[str, int] = {"reserved": 0, "paid": 0, "expired": 0}
    found.update({status: int(number) for status, number in conn.execute(query)})
    return found


def _persons_over_limit(conn: Connection, sale_id: str, limit: int) -> int:
    orders = flashsale_orders.c
    over = (
        select(orders.person_id)
        .where(orders.sale_id == sale_id, orders.status != "expired")
        .group_by(orders.person_id)
        .having(func.sum(orders.quantity) > limit)
        .subquery()
    )
    return int(conn.execute(select(func.count()).select_from(over)).scalar_one())


def _ineligible_orders(conn: Connection, sale_id: str) -> int:
    orders = flashsale_orders.c
    eligible = flashsale_eligible.c
    listed = exists().where(
        and_(eligible.sale_id == orders.sale_id, eligible.person_id == orders.person_id)
    )
    query = select(func.count()).where(orders.sale_id == sale_id, ~listed)
    return int(conn.execute(query).scalar_one())
