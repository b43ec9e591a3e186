"""Stable person ids: each new cluster keeps the id most of its records had, so ids survive re-runs;
an id is retired only when its records join another person (a merge), and a new one is made only
for a cluster with no previous person or one split off from a person (a split)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Move:
    """Records that changed person in a merge or split: (source, source_record_id) pairs."""

    kind: str  # merge or split
    person_id: str  # the person the records now belong to
    other_person_id: str  # the person they came from
    records: list[tuple[str, str]]


@dataclass(frozen=True)
class Assignment:
    person_id: pa.Array[Any]  # per record, in record-key order
    new_persons: list[str]
    retired: dict[str, str]  # retired person -> the person it was merged into
    moves: list[Move]


def derived_person_id(source: str, record_id: str, attempt: int = 0) -> str:
    """A person id derived from its founding record: deterministic, so a re-run gives the same id."""
    digest = hashlib.sha256(f"{source}\x1f{record_id}\x1f{attempt}".encode()).digest()
    return "P" + base64.b32encode(digest).decode()[:12]


def assign_persons(
    records: pa.Table, cluster: np.ndarray, previous: pa.Table, taken: Set[str]
) -> Assignment:
    """``records``: record_key, source, source_record_id; ``previous``: source, source_record_id,
    person_id of the last resolution; ``taken``: every id ever issued (never reused by another)."""
    db = duckdb.connect()
    db.register("records", records.select(["record_key", "source", "source_record_id"]))
    db.register(
        "clusters",
        pa.table({"record_key": pa.array(np.arange(len(cluster))), "cluster": pa.array(cluster)}),
    )
    db.register("previous", previous.select(["source", "source_record_id", "person_id"]))
    db.sql(
        """
        CREATE TABLE keyed AS
        SELECT r.record_key, r.source, r.source_record_id, c.cluster, p.person_id AS was
        FROM records r JOIN clusters c USING (record_key)
        LEFT JOIN previous p USING (source, source_record_id)
        """
    )
    # Each previous person belongs with the cluster holding most of its records; each cluster takes,
    # of the persons that chose it, the one with most records there (ties: the older, smaller id).
    chosen = db.sql(
        """
        WITH counts AS (
            SELECT cluster, was, count(*) AS n FROM keyed WHERE was IS NOT NULL GROUP BY ALL
        ), home AS (
            SELECT was, cluster, n FROM counts
            QUALIFY row_number() OVER (PARTITION BY was ORDER BY n DESC, cluster) = 1
        )
        SELECT cluster, was, n,
               first(was ORDER BY n DESC, was) OVER (PARTITION BY cluster) AS kept
        FROM home
        """
    ).to_arrow_table()
    db.register("chosen", chosen)
    kept_rows = db.sql("SELECT DISTINCT cluster, kept FROM chosen").fetchall()
    person_of_cluster: dict[int, str] = {int(c): str(p) for c, p in kept_rows}
    retired = {
        str(was): str(kept)
        for was, kept in db.sql("SELECT was, kept FROM chosen WHERE was <> kept").fetchall()
    }
    founders = db.sql(
        """
        SELECT cluster, source, source_record_id FROM keyed
        WHERE cluster NOT IN (SELECT cluster FROM chosen) AND record_key = cluster
        """
    ).fetchall()
    # ``taken`` may be backed by the database, so it is only asked, never copied.
    issued: set[str] = set()
    new_persons: list[str] = []
    for label, source, record_id in founders:
        attempt = 0
        person = derived_person_id(source, record_id)
        while person in issued or person in taken:
            attempt += 1
            person = derived_person_id(source, record_id, attempt)
        issued.add(person)
        new_persons.append(person)
        person_of_cluster[int(label)] = person
    labels = np.array(list(person_of_cluster), dtype=np.int64)
    ids = pa.array(list(person_of_cluster.values()), pa.string())
    position = np.searchsorted(labels, cluster, sorter=np.argsort(labels))
    order = np.argsort(labels)
    person_id = ids.take(order[position])
    db.register(
        "assigned", pa.table({"record_key": pa.array(np.arange(len(cluster))), "now": person_id})
    )
    moved = db.sql(
        """
        SELECT k.was, a.now, list([k.source, k.source_record_id] ORDER BY k.source_record_id)
        FROM keyed k JOIN assigned a USING (record_key)
        WHERE k.was IS NOT NULL AND k.was <> a.now GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    db.close()
    moves = [
        Move(
            kind="merge" if was in retired and retired[was] == now else "split",
            person_id=str(now),
            other_person_id=str(was),
            records=[(str(s), str(r)) for s, r in recs],
        )
        for was, now, recs in moved
    ]
    return Assignment(person_id, new_persons, retired, moves)
