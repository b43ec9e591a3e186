"""Sales in the OLTP store: create one, read it back, arm it in the engine, re-arm after a restart.

Functions that take a ``Connection`` run inside the caller's transaction; a refused draft raises
before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
from sqlalchemy import ColumnElement, Connection, Engine, func, select, update

from newretail.errors import Conflict, InvalidInput, NotFound
from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.sale import (
    ITEM_OR_PERSON_ID,
    Eligibility,
    Sale,
    SaleDraft,
    SaleItem,
    SaleStatus,
)
from newretail.oltp.bulk import upsert_rows
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import flashsale_eligible, flashsale_items, flashsale_sales

# Resolves an audience id to the ids of its persons; the audience engine supplies it.
AudienceResolver = Callable[[str], Iterable[str]]


def create_sale(conn: Connection, draft: SaleDraft, *, now: dt.datetime) -> Sale:
    """Store a validated draft as a ``draft`` sale with its items and uploaded person list.

    Raises :class:`InvalidInput` ``flashsale.bad_request`` or :class:`Conflict`
    ``flashsale.duplicate_sale``.
    """
    sale = draft.validate()
    created = insert_if_absent(
        conn,
        flashsale_sales,
        {
            "id": sale.id,
            "name": sale.name,
            "status": sale.status.value,
            "starts_at": sale.starts_at,
            "ends_at": sale.ends_at,
            "per_person_limit": sale.per_person_limit,
            "payment_window_seconds": sale.payment_window_seconds,
            "channels": list(sale.channels),
            "eligibility": sale.eligibility.value,
            "audience_id": sale.audience_id,
            "created_at": now,
        },
        unique=["id"],
    )
    if not created:
        raise Conflict("flashsale.duplicate_sale", f"a sale {sale.id} exists already")
    conn.execute(
        flashsale_items.insert(),
        [
            {
                "sale_id": sale.id,
                "sku": item.sku,
                "stock": item.stock,
                "price_minor": item.price_minor,
                "currency": item.currency,
            }
            for item in sale.items
        ],
    )
    _store_eligible(conn, sale.id, draft.eligible_person_ids)
    return sale


def get_sale(conn: Connection, sale_id: str) -> Sale:
    """The stored sale; :class:`NotFound` ``flashsale.unknown_sale`` when there is none."""
    found = _read_sales(conn, flashsale_sales.c.id == sale_id)
    if not found:
        raise NotFound("flashsale.unknown_sale", "there is no such sale")
    return found[0]


def list_sales(conn: Connection) -> list[Sale]:
    """Every sale, the latest start first (ties by id)."""
    return _read_sales(conn, None)


def _read_sales(conn: Connection, where: ColumnElement[bool] | None) -> list[Sale]:
    sales = flashsale_sales.c
    query = select(flashsale_sales).order_by(sales.starts_at.desc(), sales.id)
    rows = conn.execute(query if where is None else query.where(where)).all()
    if not rows:
        return []
    items: dict[str, list[SaleItem]] = {row.id: [] for row in rows}
    for sale_id, *item in conn.execute(
        select(
            flashsale_items.c.sale_id,
            flashsale_items.c.sku,
            flashsale_items.c.stock,
            flashsale_items.c.price_minor,
            flashsale_items.c.currency,
        )
        .where(flashsale_items.c.sale_id.in_(list(items)))
        .order_by(flashsale_items.c.sale_id, flashsale_items.c.sku)
    ):
        items[sale_id].append(SaleItem(*item))
    return [
        Sale(
            id=row.id,
            name=row.name,
            status=SaleStatus(row.status),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            per_person_limit=row.per_person_limit,
            payment_window_seconds=row.payment_window_seconds,
            channels=tuple(row.channels),
            eligibility=Eligibility(row.eligibility),
            audience_id=row.audience_id,
            items=tuple(items[row.id]),
            closed_at=row.closed_at,
        )
        for row in rows
    ]


def add_eligible(conn: Connection, sale_id: str, person_ids: Iterable[str]) -> int:
    """Add persons to the uploaded list of a ``list`` sale that is still a draft; returns how many
    the list holds now. Adding a person twice changes nothing.

    Raises :class:`NotFound` ``flashsale.unknown_sale``, :class:`Conflict`
    ``flashsale.not_a_list_sale`` or ``flashsale.already_armed``, or :class:`InvalidInput`
    ``flashsale.bad_request`` for a malformed id (nothing is added then).
    """
    sale = get_sale(conn, sale_id)
    if sale.eligibility is not Eligibility.LIST:
        raise Conflict("flashsale.not_a_list_sale", "only a sale for a person list takes a list")
    if sale.status is not SaleStatus.DRAFT:
        # The engine snapshots the list when armed: a later addition would never reach it.
        raise Conflict("flashsale.already_armed", "the sale is armed; its list is fixed")
    _store_eligible(conn, sale_id, person_ids)
    query = select(func.count()).where(flashsale_eligible.c.sale_id == sale_id)
    return int(conn.execute(query).scalar_one())


def eligible_person_ids(conn: Connection, sale_id: str) -> list[str]:
    """The persons a list or audience sale is open to (empty for a sale open to everyone)."""
    query = select(flashsale_eligible.c.person_id).where(flashsale_eligible.c.sale_id == sale_id)
    return list(conn.execute(query).scalars())


def arm_sale(
    database: Engine,
    engine: FlashSaleEngine,
    sale_id: str,
    *,
    now: dt.datetime,
    resolve_audience: AudienceResolver | None = None,
) -> Sale:
    """Mark a sale armed (snapshotting its audience's persons) and load it into ``engine``.

    Arming again, or after a restart, loads the same sale and eligible set; the engine keeps the
    stock taken so far.
    """
    with database.begin() as conn:
        sale, eligible = mark_armed(conn, sale_id, now=now, resolve_audience=resolve_audience)
    engine.arm(sale, eligible=eligible)
    return sale


def mark_armed(
    conn: Connection,
    sale_id: str,
    *,
    now: dt.datetime,
    resolve_audience: AudienceResolver | None = None,
) -> tuple[Sale, list[str]]:
    """The OLTP half of :func:`arm_sale`, in the caller's transaction: the armed sale and the persons
    to load into the engine with it (none for a sale open to everyone)."""
    sale = get_sale(conn, sale_id)
    claimed = conn.execute(
        update(flashsale_sales)
        .where(flashsale_sales.c.id == sale_id, flashsale_sales.c.status == "draft")
        .values(status="armed", armed_at=now)
    ).rowcount
    if claimed and sale.audience_id is not None:
        if resolve_audience is None:
            raise Conflict(
                "flashsale.audience_unavailable",
                "this sale's audience cannot be resolved: the audience engine is not set up",
            )
        _store_eligible(conn, sale_id, list(resolve_audience(sale.audience_id)))
    sale = dataclasses.replace(sale, status=SaleStatus.ARMED)
    eligible = (
        [] if sale.eligibility is Eligibility.EVERYONE else eligible_person_ids(conn, sale_id)
    )
    return sale, eligible


def close_sale(
    conn: Connection, engine: FlashSaleEngine, sale_id: str, *, now: dt.datetime
) -> Sale:
    """End an armed sale at ``now`` (unless it has ended already), in OLTP and in ``engine``.

    Closing again changes nothing. Raises :class:`Conflict` ``flashsale.not_armed`` for a draft.
    """
    sale = get_sale(conn, sale_id)
    if sale.status is not SaleStatus.ARMED:
        raise Conflict("flashsale.not_armed", "only an armed sale can be closed")
    if now >= sale.ends_at:
        return sale
    ends = max(now, sale.starts_at)  # closed before it opened: it never opens
    conn.execute(
        update(flashsale_sales)
        .where(flashsale_sales.c.id == sale_id)
        .values(ends_at=ends, closed_at=now)
    )
    # After the OLTP update: should the commit fail, the engine ends early and a retry closes OLTP.
    engine.end_sale(sale_id, now=ends)
    return dataclasses.replace(sale, ends_at=ends, closed_at=now)


def restore_engine(database: Engine, engine: FlashSaleEngine) -> list[str]:
    """Arm every armed sale in ``engine`` (a restarted in-process engine rebuilds them from its log);
    returns their ids.
    """
    with database.connect() as conn:
        sale_ids = list(
            conn.execute(
                select(flashsale_sales.c.id)
                .where(flashsale_sales.c.status == "armed")
                .order_by(flashsale_sales.c.id)
            ).scalars()
        )
        for sale_id in sale_ids:
            sale = get_sale(conn, sale_id)
            everyone = sale.eligibility is Eligibility.EVERYONE
            engine.arm(sale, eligible=() if everyone else _eligible_lazily(conn, sale_id))
    return sale_ids


def _eligible_lazily(conn: Connection, sale_id: str) -> Iterator[str]:
    # A generator runs its query only when iterated: an engine that holds the sale already (Redis,
    # after a restart of the server) never reads a list of a million persons.
    yield from eligible_person_ids(conn, sale_id)


def _store_eligible(conn: Connection, sale_id: str, person_ids: Iterable[str]) -> None:
    persons = list(dict.fromkeys(person_ids))
    for position, person_id in enumerate(persons):
        if not ITEM_OR_PERSON_ID.fullmatch(person_id):
            raise InvalidInput(
                "flashsale.bad_request",
                "not a person id",
                field="person_id",
                position=str(position),
            )
    if persons:
        rows = pa.table({"sale_id": [sale_id] * len(persons), "person_id": persons})
        upsert_rows(conn, flashsale_eligible, rows, ["sale_id", "person_id"], update=False)
