"""What customer service sees of a person beyond OLTP's orders and balances: complaints and ratings
from the lake's DWD tables, tied to the person through OneID, and whether each coupon can be
re-issued. Everything here reads; nothing writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, select

from newretail.lake import Lake
from newretail.loyalty.coupon_issue import REISSUE_PREFIX
from newretail.loyalty.coupons import REISSUABLE_STATUSES, Coupon
from newretail.model import dwd
from newretail.oltp.tables import coupon_templates, coupons, identity_links
from newretail.trade.outbox import SOURCE as OMS

# Re-issue replaces a coupon that expired (or was never usable); a redeemed one comes back with its
# order's refund instead, and a revoked one was withdrawn on purpose.


@dataclass(frozen=True, slots=True)
class Complaint:
    source: str
    complaint_id: str
    order_source: str | None
    order_id: str | None
    store_id: str
    category: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Rating:
    source: str
    rating_id: str
    order_source: str
    order_id: str
    store_id: str
    stars: int
    rated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ServiceRecords:
    """The person's complaints and ratings (newest first), and whether the lake holds any order of
    the person in the stores asked about (a store manager's test of "one of my customers")."""

    complaints: list[Complaint]
    ratings: list[Rating]
    lake_orders: int


@dataclass(frozen=True, slots=True)
class ReissueState:
    replaced_by: str | None  # the replacement a re-issue made already
    reissuable: bool


def service_records(
    conn: Connection,
    lake: Lake,
    person_id: str,
    *,
    order_ids: Sequence[str],
    store_scope: Collection[str] | None,
) -> ServiceRecords:
    """The complaints and ratings of ``person_id``: a complaint made from one of the person's
    identity records or about one of their orders, a rating of one of their orders. Their orders
    are those the lake attributes to the person's records plus ``order_ids`` (OMS orders, whose
    relay to the lake may still be pending). With ``store_scope``, only those stores' records."""
    links = conn.execute(
        select(identity_links.c.source, identity_links.c.source_record_id).where(
            identity_links.c.person_id == person_id
        )
    ).all()
    db = duckdb.connect()
    try:
        db.register(
            "person_keys",
            pa.table(
                {
                    "source": pa.array([str(r.source) for r in links], pa.string()),
                    "record_id": pa.array([str(r.source_record_id) for r in links], pa.string()),
                }
            ),
        )
        db.register(
            "oms_orders",
            pa.table(
                {
                    "source": pa.array([OMS] * len(order_ids), pa.string()),
                    "order_id": pa.array(list(order_ids), pa.string()),
                }
            ),
        )
        scoped = store_scope is not None
        db.register(
            "scope", pa.table({"store_id": pa.array(sorted(store_scope or ()), pa.string())})
        )
        in_scope = "store_id IN (SELECT store_id FROM scope)" if scoped else "TRUE"
        orders = _source(db, lake, "orders")
        db.execute(
            f"""
            CREATE TEMP TABLE person_orders AS
            SELECT o.source, o.order_id, o.store_id FROM {orders} o
            WHERE EXISTS (SELECT 1 FROM person_keys k
                          WHERE k.source = o.identity_source AND k.record_id = o.identity_record_id)
            """
        )
        lake_orders = _scalar(db, f"SELECT count(*) FROM person_orders WHERE {in_scope}")
        ours = "(SELECT source, order_id FROM person_orders UNION SELECT source, order_id FROM oms_orders)"
        complaints = db.sql(
            f"""
            SELECT source, complaint_id, order_source, order_id, store_id, category, created_at,
                   resolved_at
            FROM {_source(db, lake, "complaints")} c
            WHERE {in_scope} AND (
                EXISTS (SELECT 1 FROM person_keys k
                        WHERE k.source = c.identity_source AND k.record_id = c.identity_record_id)
                OR EXISTS (SELECT 1 FROM {ours} o
                           WHERE o.source = c.order_source AND o.order_id = c.order_id))
            ORDER BY created_at DESC, complaint_id
            """
        ).fetchall()
        ratings = db.sql(
            f"""
            SELECT source, rating_id, order_source, order_id, store_id, stars, rated_at
            FROM {_source(db, lake, "ratings")} r
            WHERE {in_scope} AND EXISTS (SELECT 1 FROM {ours} o
                                         WHERE o.source = r.order_source AND o.order_id = r.order_id)
            ORDER BY rated_at DESC, rating_id
            """
        ).fetchall()
    finally:
        db.close()
    return ServiceRecords(
        complaints=[Complaint(*row) for row in complaints],
        ratings=[Rating(*row) for row in ratings],
        lake_orders=lake_orders,
    )


def reissue_states(
    conn: Connection, held: Sequence[Coupon], *, now: dt.datetime
) -> dict[str, ReissueState]:
    """For each coupon: the replacement a re-issue made, if any, and whether a re-issue would give
    a new one now (its status allows it, none was made, and the template is active, within its
    window and its budget)."""
    if not held:
        return {}
    keys = {f"{REISSUE_PREFIX}{c.id}": c.id for c in held}
    replaced = {
        keys[key]: code
        for key, code in conn.execute(
            select(coupons.c.issue_key, coupons.c.id).where(
                coupons.c.person_id.in_({c.person_id for c in held}),
                coupons.c.issue_key.in_(list(keys)),
            )
        )
    }
    t = coupon_templates.c
    open_templates = set(
        conn.execute(
            select(t.id).where(
                t.id.in_({c.template_id for c in held}),
                t.status == "active",
                (t.valid_until.is_(None)) | (t.valid_until > now),
                (t.budget_total.is_(None)) | (t.issued_count < t.budget_total),
            )
        ).scalars()
    )
    return {
        c.id: ReissueState(
            replaced_by=replaced.get(c.id),
            reissuable=c.id not in replaced
            and c.status in REISSUABLE_STATUSES
            and c.template_id in open_templates,
        )
        for c in held
    }


def _source(db: duckdb.DuckDBPyConnection, lake: Lake, table: str) -> str:
    """The lake's DWD ``table`` as a relation for SQL (an empty one when nothing is written yet)."""
    files = lake.files("dwd", table)
    if files:
        return f"read_parquet({[str(f) for f in files]}, hive_partitioning = true)"
    name = f"empty_{table}"
    db.register(name, dwd.table(table).schema.empty_table())
    return name


def _scalar(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = db.sql(sql).fetchall()
    return int(rows[0][0]) if rows else 0
