"""A sale to try the flash-sale path on the demo: open now, for a list of synthetic shoppers
``P00000000``, ``P00000001``… (the ids bench/wrk/flashsale.lua sends), armed, with a channel
backend's API key to reserve with."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select

from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.sale import Eligibility, Sale, SaleDraft, SaleItem
from newretail.flashsale.sales import arm_sale, create_sale
from newretail.oltp.tables import users
from newretail.security import Principal, Role, create_user, create_user_key, generate_password

CHANNEL_EMAIL = "channel@demo.newretail"
SKU = "SKU-A"


@dataclass(frozen=True, slots=True)
class DemoSale:
    sale: Sale
    channel_key: str  # shown once: a new key every run
    persons: int


def shopper_id(number: int) -> str:
    """The id of synthetic shopper ``number``, as the load script makes them."""
    return f"P{number:08d}"


def prepare_demo_sale(
    database: Engine,
    engine: FlashSaleEngine,
    *,
    persons: int,
    stock: int,
    minutes: int,
    now: dt.datetime,
) -> DemoSale:
    """Create and arm a sale of ``stock`` units of :data:`SKU` at 9.90 CNY, 2 per person, open from
    ``now`` for ``minutes``, for ``persons`` synthetic shoppers; make a channel key for it."""
    draft = SaleDraft(
        id=f"fs-demo-{secrets.token_hex(3)}",
        name="Demo flash sale",
        starts_at=now,
        ends_at=now + dt.timedelta(minutes=minutes),
        per_person_limit=2,
        payment_window_seconds=300,
        channels=("app", "mini_program"),
        items=(SaleItem(SKU, stock, 990, "CNY"),),
        eligibility=Eligibility.LIST,
        eligible_person_ids=[shopper_id(n) for n in range(persons)],
    )
    cli = Principal.cli()
    with database.begin() as conn:
        sale = create_sale(conn, draft, now=now)
        exists = conn.execute(select(users.c.id).where(users.c.email == CHANNEL_EMAIL)).first()
        if exists is None:
            create_user(
                conn,
                actor=cli,
                email=CHANNEL_EMAIL,
                role=Role.CHANNEL.value,
                password=generate_password(),
                now=now,
            )
        key = create_user_key(conn, actor=cli, email=CHANNEL_EMAIL, now=now)
    armed = arm_sale(database, engine, sale.id, now=now)
    return DemoSale(sale=armed, channel_key=key.key, persons=persons)
