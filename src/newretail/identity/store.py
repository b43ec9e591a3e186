"""OneID's state in the OLTP store: what the last run decided, and writing a run's outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, delete, func, insert, select, tuple_, update

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


_LINK_READ = (
    "source",
    "source_record_id",
    "person_id",
    "reason_kind",
    "reason",
    "phone_hash",
    "email_hash",
    "wechat_unionid",
    "match_weight",
)
# Keys or ids per statement: SQLite caps the parameters of one statement.
_PER_QUERY = 2_000


def current_links(conn: Connection) -> pa.Table:
    """Every record's current link, as the last run and later hand edits left it."""
    return _links_table(conn.execute(select(*_link_columns())).all())


def links_of_persons(conn: Connection, person_ids: Iterable[str]) -> pa.Table:
    """The current links of every record of these persons (``current_links``' shape)."""
    ids = sorted(set(person_ids))
    rows: list[Any] = []
    for start in range(0, len(ids), _PER_QUERY):
        chunk = ids[start : start + _PER_QUERY]
        rows.extend(
            conn.execute(
                select(*_link_columns()).where(identity_links.c.person_id.in_(chunk))
            ).all()
        )
    return _links_table(rows)


def persons_of_records(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[str]:
    """The persons the given (source, source_record_id) records are linked to now."""
    wanted = list(keys)
    found: set[str] = set()
    key = tuple_(identity_links.c.source, identity_links.c.source_record_id)
    for start in range(0, len(wanted), _PER_QUERY):
        chunk = wanted[start : start + _PER_QUERY]
        query = select(identity_links.c.person_id).where(key.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found


def persons_holding(conn: Connection, values: dict[str, list[str]]) -> set[str]:
    """Persons with a record whose current phone hash, e-mail hash or unionid is among ``values``
    (keyed by link column)."""
    found: set[str] = set()
    for column, wanted in values.items():
        unique = sorted(set(wanted))
        for start in range(0, len(unique), _PER_QUERY):
            chunk = unique[start : start + _PER_QUERY]
            query = select(identity_links.c.person_id).where(identity_links.c[column].in_(chunk))
            found.update(conn.execute(query).scalars())
    return found


def persons_edited_since(conn: Connection, since: dt.datetime) -> set[str]:
    """Persons a hand merge, un-merge or re-merge touched after ``since``."""
    rows = conn.execute(
        select(identity_events.c.person_id, identity_events.c.other_person_id).where(
            identity_events.c.at >= since
        )
    ).all()
    return {str(p) for row in rows for p in row}


def _link_columns() -> list[Any]:
    return [identity_links.c[name] for name in _LINK_READ]


def _links_table(rows: Sequence[Any]) -> pa.Table:
    names = _LINK_READ[:-1]
    columns: dict[str, pa.Array[Any]] = {
        name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(names)
    }
    columns["match_weight"] = pa.array([row[len(names)] for row in rows], pa.float64())
    return pa.table(columns)


class IssuedIds(AbstractSet[str]):
    """Person ids ever issued, asked of the database one id at a time: an incremental run checks
    only the ids it is about to create, never loads them all."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __contains__(self, person_id: object) -> bool:
        query = select(identity_persons.c.person_id).where(
            identity_persons.c.person_id == str(person_id)
        )
        return self._conn.execute(query).first() is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._conn.execute(select(identity_persons.c.person_id)).scalars())

    def __len__(self) -> int:
        return int(
            self._conn.execute(select(func.count()).select_from(identity_persons)).scalar_one()
        )


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


def last_run_started(conn: Connection) -> dt.datetime | None:
    """When the newest finished run started: hand edits since then are not in the lake yet."""
    value = conn.execute(
        select(func.max(identity_runs.c.started_at)).where(identity_runs.c.finished_at.is_not(None))
    ).scalar()
    return value if isinstance(value, dt.datetime) else None


def demoted_values(conn: Connection) -> pa.Table:
    """Identifier values demoted by earlier runs: (kind, value, reason, records)."""
    rows = conn.execute(
        select(
            identity_demoted.c.kind,
            identity_demoted.c.value,
            identity_demoted.c.reason,
            identity_demoted.c.records,
        )
    ).all()
    return pa.table(
        {
            "kind": pa.array([r[0] for r in rows], pa.string()),
            "value": pa.array([r[1] for r in rows], pa.string()),
            "reason": pa.array([r[2] for r in rows], pa.string()),
            "records": pa.array([r[3] for r in rows], pa.int32()),
        }
    )


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
    add_demoted(conn, demoted, run_id)


def add_demoted(conn: Connection, demoted: pa.Table, run_id: int) -> None:
    rows = demoted.select(["kind", "value", "reason", "records"])
    rows = rows.append_column("run_id", pa.array([run_id] * demoted.num_rows, pa.int32()))
    upsert_rows(conn, identity_demoted, rows, ("kind", "value"))
