"""OneID's state in the OLTP store: what the last run decided, and writing a run's outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, delete, func, insert, select, update

from newretail.identity.assign import Move
from newretail.oltp.bulk import indexes_deferred, upsert_rows
from newretail.oltp.tables import (
    identity_constraints,
    identity_demoted,
    identity_events,
    identity_links,
    identity_persons,
    identity_runs,
)

LINK_COLUMNS = (
    "source",
    "source_record_id",
    "person_id",
    "phone_hash",
    "email_hash",
    "wechat_unionid",
    "reason_kind",
    "reason",
    "match_weight",
    "origin",
    "run_id",
    "linked_at",
)


def current_links(conn: Connection) -> pa.Table:
    """Every record's current link, as the last run and later hand edits left it."""
    rows = conn.execute(
        select(
            identity_links.c.source,
            identity_links.c.source_record_id,
            identity_links.c.person_id,
            identity_links.c.reason_kind,
            identity_links.c.reason,
            identity_links.c.phone_hash,
            identity_links.c.email_hash,
            identity_links.c.wechat_unionid,
            identity_links.c.match_weight,
        )
    ).all()
    names = (
        "source",
        "source_record_id",
        "person_id",
        "reason_kind",
        "reason",
        "phone_hash",
        "email_hash",
        "wechat_unionid",
    )
    columns: dict[str, pa.Array[Any]] = {
        name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(names)
    }
    columns["match_weight"] = pa.array([row[len(names)] for row in rows], pa.float64())
    return pa.table(columns)


def issued_person_ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(identity_persons.c.person_id)).scalars())


def dormant_person_ids(conn: Connection) -> set[str]:
    """Provisional and retired persons: a run that gives one of them records makes it active."""
    return set(
        conn.execute(
            select(identity_persons.c.person_id).where(identity_persons.c.status != "active")
        ).scalars()
    )


def active_constraints(conn: Connection) -> list[tuple[str, list[Any], list[Any]]]:
    rows = conn.execute(
        select(
            identity_constraints.c.kind,
            identity_constraints.c.left_records,
            identity_constraints.c.right_records,
        )
        .where(identity_constraints.c.active)
        .order_by(identity_constraints.c.id)
    ).all()
    return [(str(kind), list(left), list(right)) for kind, left, right in rows]


def start_run(conn: Connection, mode: str, now: dt.datetime) -> int:
    run_id = conn.execute(
        insert(identity_runs)
        .values(mode=mode, started_at=now, stats={})
        .returning(identity_runs.c.id)
    ).scalar_one()
    return int(run_id)


def last_watermark(conn: Connection) -> dt.datetime | None:
    value = conn.execute(
        select(func.max(identity_runs.c.watermark)).where(identity_runs.c.finished_at.is_not(None))
    ).scalar()
    return value if isinstance(value, dt.datetime) else None


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    now: dt.datetime,
    watermark: dt.datetime | None,
    stats: dict[str, Any],
) -> None:
    conn.execute(
        update(identity_runs)
        .where(identity_runs.c.id == run_id)
        .values(finished_at=now, watermark=watermark, stats=stats)
    )


def write_links(conn: Connection, changed: pa.Table) -> int:
    with indexes_deferred(conn, identity_links):
        return upsert_rows(
            conn, identity_links, changed.select(list(LINK_COLUMNS)), ("source", "source_record_id")
        )


def write_persons(
    conn: Connection,
    *,
    new: Iterable[str],
    retired: dict[str, str],
    live: Iterable[str],
    origin: str,
    now: dt.datetime,
) -> None:
    """Create new persons, retire merged ones, and make provisional persons the batch kept active."""
    new_rows = pa.table(
        {
            "person_id": pa.array(list(new), pa.string()),
        }
    )
    n = new_rows.num_rows
    new_rows = new_rows.append_column("status", pa.array(["active"] * n, pa.string()))
    new_rows = new_rows.append_column("origin", pa.array([origin] * n, pa.string()))
    stamp = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
    new_rows = new_rows.append_column("created_at", stamp).append_column("updated_at", stamp)
    upsert_rows(conn, identity_persons, new_rows, ("person_id",))
    for was, into in retired.items():
        conn.execute(
            update(identity_persons)
            .where(identity_persons.c.person_id == was)
            .values(status="retired", retired_into=into, updated_at=now)
        )
    live_ids = list(live)
    for start in range(0, len(live_ids), 5_000):
        conn.execute(
            update(identity_persons)
            .where(identity_persons.c.person_id.in_(live_ids[start : start + 5_000]))
            .where(identity_persons.c.status != "active")
            .values(status="active", retired_into=None, updated_at=now)
        )


def write_events(conn: Connection, moves: list[Move], *, actor: str, now: dt.datetime) -> None:
    if not moves:
        return
    conn.execute(
        insert(identity_events),
        [
            {
                "at": now,
                "kind": move.kind,
                "actor": actor,
                "person_id": move.person_id,
                "other_person_id": move.other_person_id,
                "moves": [[s, r, move.other_person_id, move.person_id] for s, r in move.records],
                "reason": f"{move.kind} by the identity run",
            }
            for move in moves
        ],
    )


def replace_demoted(conn: Connection, demoted: pa.Table, run_id: int) -> None:
    conn.execute(delete(identity_demoted))
    rows = demoted.append_column("run_id", pa.array([run_id] * demoted.num_rows, pa.int32()))
    upsert_rows(conn, identity_demoted, rows, ("kind", "value"))
