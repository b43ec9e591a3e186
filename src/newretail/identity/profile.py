"""The member 360 view: one person's identities, memberships, golden profile, consent, orders across
channels, refunds, complaints, a timeline and the merge history, read from OLTP and the lake.

PII stays masked here; revealing a phone or e-mail is the audited reveal in ``newretail.security``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, select

from newretail.errors import NotFound
from newretail.identity.golden import golden_profiles
from newretail.identity.manual import history, live_person
from newretail.identity.records import RECORD_SCHEMA, records_of
from newretail.identity.rules import IdentityRules
from newretail.lake import Lake
from newretail.model import dwd
from newretail.oltp.tables import identity_links, identity_persons

_CONSENTS = ("consent_sms", "consent_email", "consent_wechat", "consent_push")
_HIDDEN = ("phone_hash", "phone_cipher", "email_hash", "email_cipher")


@dataclass(frozen=True)
class Member360:
    person_id: str
    requested_id: str  # differs from person_id when the request named a merged-away id
    status: str
    identities: list[dict[str, Any]]
    golden: dict[str, Any]
    memberships: list[dict[str, Any]]
    membership_summary: dict[str, Any]
    orders: list[dict[str, Any]]
    orders_by_channel: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    merges: list[dict[str, Any]] = field(default_factory=list)


def member_360(
    conn: Connection,
    lake: Lake,
    person_id: str,
    *,
    rules: IdentityRules,
    store_scope: frozenset[str] | None = None,
    limit: int = 50,
) -> Member360:
    """Everything known about a person; ``store_scope`` limits orders and service records to those
    stores, and a person with nothing there is not found (a store manager sees only their customers)."""
    live = live_person(conn, person_id)
    status = conn.execute(
        select(identity_persons.c.status).where(identity_persons.c.person_id == live)
    ).scalar_one()
    links = conn.execute(
        select(
            identity_links.c.source,
            identity_links.c.source_record_id,
            identity_links.c.reason_kind,
            identity_links.c.reason,
            identity_links.c.match_weight,
            identity_links.c.origin,
            identity_links.c.linked_at,
        )
        .where(identity_links.c.person_id == live)
        .order_by(identity_links.c.source, identity_links.c.source_record_id)
    ).all()
    keys = pa.table(
        {
            "source": pa.array([r.source for r in links], pa.string()),
            "source_record_id": pa.array([r.source_record_id for r in links], pa.string()),
        }
    )
    db = duckdb.connect()
    db.register("keys", keys)
    records = records_of(
        conn,
        lake,
        [(str(r.source), str(r.source_record_id)) for r in links],
        RECORD_SCHEMA.names,
    )
    orders = _orders(db, lake, store_scope)
    if store_scope is not None and orders.num_rows == 0:
        raise NotFound("identity.person_not_found", f"no person {person_id} in your stores")
    db.register("person_orders", orders)
    reasons = {(r.source, r.source_record_id): r for r in links}
    identities = []
    for row in records.to_pylist():
        link = reasons[(row["source"], row["source_record_id"])]
        identities.append(
            {
                **{k: v for k, v in row.items() if k not in _HIDDEN},
                "reason_kind": link.reason_kind,
                "reason": link.reason,
                "match_weight": link.match_weight,
                "origin": link.origin,
                "linked_at": link.linked_at,
            }
        )
    golden_rows = golden_profiles(
        records.append_column("person_id", pa.array([live] * records.num_rows, pa.string())),
        rules,
    ).to_pylist()
    golden = {k: v for k, v in (golden_rows[0] if golden_rows else {}).items() if k not in _HIDDEN}
    memberships = _query(
        db,
        lake,
        "memberships",
        "SELECT m.* EXCLUDE (business_date) FROM {t} m JOIN keys USING (source, source_record_id)"
        " ORDER BY joined_at",
    )
    refunds = _query(
        db,
        lake,
        "refunds",
        "SELECT r.* FROM {t} r JOIN person_orders o"
        " ON r.order_source = o.source AND r.order_id = o.order_id ORDER BY requested_at DESC",
    )
    complaints = _query(
        db,
        lake,
        "complaints",
        "SELECT c.* FROM {t} c JOIN person_orders o"
        " ON c.order_source = o.source AND c.order_id = o.order_id ORDER BY created_at DESC",
    )
    by_channel = db.sql(
        """
        SELECT channel, currency, count(*) AS orders,
               count(*) FILTER (WHERE status = 'completed') AS completed,
               sum(paid_minor) FILTER (WHERE status = 'completed') AS paid_minor,
               min(placed_at) AS first_order_at, max(placed_at) AS last_order_at
        FROM person_orders GROUP BY ALL ORDER BY orders DESC
        """
    ).to_arrow_table()
    events = _query(
        db,
        lake,
        "app_events",
        "SELECT e.source, e.event, e.type, e.store_id, e.occurred_at FROM {t} e"
        " JOIN keys k ON k.source = e.source AND k.source_record_id = e.user_id"
        f" ORDER BY occurred_at DESC LIMIT {limit}",
    )
    db.close()
    merges = history(conn, live)
    timeline = _timeline(orders, refunds, complaints, events, merges, limit)
    return Member360(
        person_id=live,
        requested_id=person_id,
        status=str(status),
        identities=identities,
        golden=golden,
        memberships=memberships.to_pylist(),
        membership_summary=_summary(memberships),
        orders=orders.slice(0, limit).to_pylist(),
        orders_by_channel=by_channel.to_pylist(),
        refunds=refunds.to_pylist(),
        complaints=complaints.to_pylist(),
        timeline=timeline,
        merges=merges,
    )


def _orders(
    db: duckdb.DuckDBPyConnection, lake: Lake, store_scope: frozenset[str] | None
) -> pa.Table:
    scope = ""
    if store_scope is not None:
        stores = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(store_scope)) or "NULL"
        scope = f" WHERE o.store_id IN ({stores})"
    return _query(
        db,
        lake,
        "orders",
        "SELECT o.* EXCLUDE (identity_source, identity_record_id), o.identity_source"
        " FROM {t} o JOIN keys k"
        " ON k.source = o.identity_source AND k.source_record_id = o.identity_record_id"
        f"{scope} ORDER BY placed_at DESC",
    )


def _query(db: duckdb.DuckDBPyConnection, lake: Lake, table: str, sql: str) -> pa.Table:
    """Run ``sql`` with ``{t}`` standing for the lake table; an empty lake table reads as empty."""
    files = lake.files("dwd", table)
    if files:
        source = f"read_parquet({[str(f) for f in files]}, hive_partitioning = true)"
    else:
        source = f"empty_{table}"
        db.register(source, dwd.table(table).schema.empty_table())
    result: pa.Table = db.sql(sql.replace("{t}", source)).to_arrow_table()
    return result


def _summary(memberships: pa.Table) -> dict[str, Any]:
    """What adds up across programmes; points stay per programme (a WeChat card's points and an
    app's points are different currencies)."""
    rows = memberships.to_pylist()
    return {
        "programmes": len(rows),
        "sources": sorted({r["source"] for r in rows}),
        "first_joined_at": min((r["joined_at"] for r in rows), default=None),
        "paid_until": max((r["expires_on"] for r in rows if r.get("expires_on")), default=None),
        "points_by_programme": {f"{r['source']}:{r['program']}": r["points"] for r in rows},
    }


def _timeline(
    orders: pa.Table,
    refunds: pa.Table,
    complaints: pa.Table,
    events: pa.Table,
    merges: list[dict[str, Any]],
    limit: int,
) -> list[dict[str, Any]]:
    """The newest happenings of every kind, merged by time."""
    items: list[dict[str, Any]] = []
    for o in orders.slice(0, limit).to_pylist():
        items.append(
            {
                "at": o["placed_at"],
                "kind": "order",
                "channel": o["channel"],
                "store_id": o["store_id"],
                "status": o["status"],
                "amount_minor": o["paid_minor"],
                "currency": o["currency"],
            }
        )
    for r in refunds.to_pylist()[:limit]:
        items.append(
            {
                "at": r["requested_at"],
                "kind": "refund",
                "store_id": r["store_id"],
                "amount_minor": r["amount_minor"],
                "currency": r["currency"],
                "reason": r["reason"],
            }
        )
    for c in complaints.to_pylist()[:limit]:
        items.append(
            {
                "at": c["created_at"],
                "kind": "complaint",
                "store_id": c["store_id"],
                "category": c["category"],
            }
        )
    for e in events.to_pylist():
        items.append(
            {
                "at": e["occurred_at"],
                "kind": "event",
                "event": e["event"] or e["type"],
                "channel": e["source"],
            }
        )
    for m in merges:
        items.append({"at": m["at"], "kind": m["kind"], "other_person_id": m["other_person_id"]})
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    items.sort(key=lambda item: item["at"] or epoch, reverse=True)
    return items[:limit]
