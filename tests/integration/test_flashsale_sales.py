"""Sales in OLTP on both databases: create, read back, refuse bad input writing nothing, arm with a
list or a resolved audience, and re-arm a restarted engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.unit.flashsale.engines import OPEN, START, Engines
from tests.unit.flashsale.engines import engines as engines

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.flashsale import (
    Eligibility,
    Rejection,
    Reservation,
    SaleDraft,
    SaleItem,
    SaleStatus,
    arm_sale,
    create_sale,
    eligible_person_ids,
    get_sale,
    restore_engine,
)
from newretail.oltp.tables import flashsale_eligible, flashsale_items, flashsale_sales


def draft(**change: object) -> SaleDraft:
    base = SaleDraft(
        id=f"fs-{uuid.uuid4().hex[:12]}",
        name="Double 11",
        starts_at=START,
        ends_at=START + dt.timedelta(hours=1),
        per_person_limit=2,
        payment_window_seconds=600,
        channels=["app", "wechat_mini"],
        items=[SaleItem("SKU-A", 100, 990, "CNY"), SaleItem("SKU-B", 5, 12_900, "CNY")],
    )
    return dataclasses.replace(base, **change)


def rows(database: Engine) -> list[int]:
    """How many sales, items and eligible persons are stored."""
    with database.connect() as conn:
        return [
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (flashsale_sales, flashsale_items, flashsale_eligible)
        ]


def test_a_created_sale_reads_back_as_it_was_given(migrated_engine: Engine) -> None:
    given = draft(eligibility=Eligibility.LIST, eligible_person_ids=["p1", "p2", "p1"])
    with migrated_engine.begin() as conn:
        created = create_sale(conn, given, now=START)
    with migrated_engine.connect() as conn:
        assert get_sale(conn, created.id) == created
        assert sorted(eligible_person_ids(conn, created.id)) == ["p1", "p2"]
    assert created.status is SaleStatus.DRAFT
    assert [(i.sku, i.price_minor, i.currency) for i in created.items] == [
        ("SKU-A", 990, "CNY"),
        ("SKU-B", 12_900, "CNY"),
    ]


def test_bad_or_duplicate_sales_write_nothing(migrated_engine: Engine) -> None:
    before = rows(migrated_engine)
    bad = draft(items=[SaleItem("SKU-A", 1, 990, "CNY"), SaleItem("SKU-A", 1, 990, "CNY")])
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        create_sale(conn, bad, now=START)
    assert caught.value.code == "flashsale.bad_request"
    assert rows(migrated_engine) == before
    first = draft()
    with migrated_engine.begin() as conn:
        create_sale(conn, first, now=START)
    after_first = rows(migrated_engine)
    with pytest.raises(Conflict) as duplicate, migrated_engine.begin() as conn:
        create_sale(
            conn,
            draft(id=first.id, eligibility=Eligibility.LIST, eligible_person_ids=["p9"]),
            now=START,
        )
    assert duplicate.value.code == "flashsale.duplicate_sale"
    assert rows(migrated_engine) == after_first
    with pytest.raises(NotFound) as missing, migrated_engine.connect() as conn:
        get_sale(conn, "fs-none")
    assert missing.value.code == "flashsale.unknown_sale"


def test_arming_snapshots_the_audience_and_loads_the_engine(
    migrated_engine: Engine, engines: Engines
) -> None:
    engine = engines.open()
    given = draft(eligibility=Eligibility.AUDIENCE, audience_id="aud-vip")
    with migrated_engine.begin() as conn:
        create_sale(conn, given, now=START)
    assert given.id is not None
    with pytest.raises(Conflict) as caught:
        arm_sale(migrated_engine, engine, given.id, now=START)
    assert caught.value.code == "flashsale.audience_unavailable"
    with migrated_engine.connect() as conn:
        assert get_sale(conn, given.id).status is SaleStatus.DRAFT  # rolled back
    asked: list[str] = []

    def vip(audience_id: str) -> list[str]:
        asked.append(audience_id)
        return [f"vip{n}" for n in range(1_000)]

    armed = arm_sale(migrated_engine, engine, given.id, now=START, resolve_audience=vip)
    assert armed.status is SaleStatus.ARMED and asked == ["aud-vip"]
    assert isinstance(
        engine.reserve(
            given.id, sku="SKU-A", person_id="vip7", quantity=1, request_key="k", now=OPEN
        ),
        Reservation,
    )
    outsider = engine.reserve(
        given.id, sku="SKU-A", person_id="p1", quantity=1, request_key="k", now=OPEN
    )
    assert isinstance(outsider, Rejection) and outsider.reason.value == "flashsale.ineligible"
    # Arming again neither asks the audience again nor resets the stock.
    arm_sale(migrated_engine, engine, given.id, now=START, resolve_audience=vip)
    assert asked == ["aud-vip"]
    assert engine.counts(given.id).items[0].remaining == 99
    with migrated_engine.connect() as conn:
        assert len(eligible_person_ids(conn, given.id)) == 1_000


def test_a_restarted_engine_gets_its_armed_sales_back(
    migrated_engine: Engine, engines: Engines
) -> None:
    engine = engines.open()
    given = draft(eligibility=Eligibility.LIST, eligible_person_ids=["p1"])
    with migrated_engine.begin() as conn:
        create_sale(conn, given, now=START)
    assert given.id is not None
    arm_sale(migrated_engine, engine, given.id, now=START)
    taken = engine.reserve(
        given.id, sku="SKU-B", person_id="p1", quantity=2, request_key="k", now=OPEN
    )
    assert isinstance(taken, Reservation)
    engines.close(engine)
    restarted = engines.open()
    assert given.id in restore_engine(migrated_engine, restarted)
    assert restarted.counts(given.id).items[1].remaining == 3
    again = restarted.reserve(
        given.id, sku="SKU-B", person_id="p1", quantity=2, request_key="k", now=OPEN
    )
    assert isinstance(again, Reservation) and again.id == taken.id and again.replayed
