"""The deterministic ID graph: identifier values join records, hub and shared values are demoted,
and persons are the connected components of what is left (plus decisions people made by hand)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from newretail.identity.records import RecordSet
from newretail.identity.rules import CONTACT_KINDS, IdentityRules


@dataclass(frozen=True)
class IdGraph:
    """``demoted``: (kind, value, reason, records). Per record: ``linked_by`` (the identifier kinds it
    shares with another record, '+'-joined, '' if none) and ``has_contact`` (its cluster holds a
    usable value of a contact kind, ``rules.CONTACT_KINDS``). ``edge_a``/``edge_b``: record pairs
    joined by an identifier."""

    demoted: pa.Table
    edge_a: np.ndarray
    edge_b: np.ndarray
    linked_by: pa.Array[Any]
    cluster: np.ndarray
    has_contact: np.ndarray


def build_graph(
    records: RecordSet, rules: IdentityRules, demoted_before: pa.Table | None = None
) -> IdGraph:
    """``demoted_before`` (kind, value, reason, records): values earlier runs demoted, which stay
    demoted when ``records`` is a part of the chain whose own counts cannot show it."""
    db = duckdb.connect()
    db.register("ids", records.identifiers)
    db.register("before", demoted_before if demoted_before is not None else _NONE_DEMOTED)
    db.register(
        "records", records.records.select(["record_key", "birthday", "gender", "name", "city"])
    )
    limits = " UNION ALL ".join(
        f"SELECT '{r.kind}' AS kind, {r.max_records} AS max_records, {r.conflict_check} AS check_"
        for r in rules.identifiers
    )
    db.sql(
        f"""
        CREATE TABLE stats AS
        SELECT i.kind, i.value, count(DISTINCT i.record_key) AS records,
               count(DISTINCT r.birthday) AS birthdays,
               count(DISTINCT r.gender) FILTER (WHERE r.gender IN ('F', 'M')) AS genders,
               -- All but the last character: a typo only ever changes the last one, so two
               -- different stems (王建国, 王小明) are two people.
               count(DISTINCT left(r.name, length(r.name) - 1)) AS stems,
               -- A one-character given name has the surname for its stem (孟艳, 孟子), and
               -- family members often share surname and gender: their cities tell them apart.
               count(DISTINCT trim(r.city)) AS cities,
               any_value(l.max_records) AS max_records, any_value(l.check_) AS check_
        FROM ids i JOIN records r USING (record_key) JOIN ({limits}) l USING (kind)
        GROUP BY i.kind, i.value
        """
    )
    demoted = db.sql(
        """
        SELECT kind, value,
               CASE WHEN records > max_records THEN 'fanout' ELSE 'conflict' END AS reason,
               records::INTEGER AS records
        FROM stats
        WHERE records > max_records
           OR (check_ AND (birthdays > 1 OR genders > 1 OR stems > 1 OR cities > 1))
        """
    ).to_arrow_table()
    db.register("found", demoted)
    demoted = db.sql(
        """
        SELECT f.kind, f.value, f.reason, greatest(f.records, coalesce(b.records, 0))::INTEGER AS records
        FROM found f LEFT JOIN before b USING (kind, value)
        UNION ALL
        SELECT b.kind, b.value, b.reason, b.records::INTEGER FROM before b
        SEMI JOIN stats USING (kind, value) ANTI JOIN found USING (kind, value)
        ORDER BY kind, value
        """
    ).to_arrow_table()
    db.register("demoted", demoted)
    db.sql(
        """
        CREATE TABLE usable AS
        SELECT i.record_key, i.kind, i.value, s.records
        FROM ids i JOIN stats s USING (kind, value) ANTI JOIN demoted d USING (kind, value)
        """
    )
    # A value shared by a family still links each member's own records: those with the same full
    # name that agree on birthday, gender and city (a father and son share a surname and a gender,
    # and one of their records may lack a birthday). A hub, demoted for fan-out, links nothing.
    db.sql(
        """
        INSERT INTO usable
        WITH members AS (
            SELECT i.record_key, i.kind, i.value, r.name AS full_name,
                   r.birthday, r.gender, trim(r.city) AS city
            FROM ids i JOIN demoted d USING (kind, value) JOIN records r USING (record_key)
            WHERE d.reason = 'conflict' AND r.name IS NOT NULL
        ), agreeing AS (
            SELECT kind, value, full_name FROM members GROUP BY ALL
            HAVING count(DISTINCT birthday) <= 1
               AND count(DISTINCT gender) FILTER (WHERE gender IN ('F', 'M')) <= 1
               AND count(DISTINCT city) <= 1
               AND count(DISTINCT record_key) > 1
        )
        SELECT m.record_key, m.kind, m.value || '/' || m.full_name, 2
        FROM members m JOIN agreeing a USING (kind, value, full_name)
        """
    )
    edges = db.sql(
        """
        SELECT min(record_key) OVER (PARTITION BY kind, value) AS a, record_key AS b
        FROM usable WHERE records > 1
        """
    ).to_arrow_table()
    a = edges["a"].to_numpy()
    b = edges["b"].to_numpy()
    n = len(records)
    linked = db.sql(
        f"""
        SELECT k.record_key, coalesce(string_agg(DISTINCT u.kind, '+' ORDER BY u.kind), '') AS by
        FROM range({n}) k(record_key)
        LEFT JOIN usable u ON u.record_key = k.record_key AND u.records > 1
        GROUP BY k.record_key ORDER BY k.record_key
        """
    ).to_arrow_table()
    contact_kinds = ", ".join(f"'{kind}'" for kind in CONTACT_KINDS)
    contact_keys = (
        db.sql(f"SELECT DISTINCT record_key FROM usable WHERE kind IN ({contact_kinds})")
        .to_arrow_table()["record_key"]
        .to_numpy()
    )
    db.close()
    cluster = components(n, [(a, b)])
    contact = np.zeros(n, dtype=bool)
    contact[contact_keys] = True
    cluster_contact = np.zeros(n, dtype=bool)
    cluster_contact[cluster[contact]] = True
    return IdGraph(
        demoted=demoted,
        edge_a=a,
        edge_b=b,
        linked_by=linked["by"].combine_chunks(),
        cluster=cluster,
        has_contact=cluster_contact[cluster],
    )


_NONE_DEMOTED = pa.table(
    {
        "kind": pa.array([], pa.string()),
        "value": pa.array([], pa.string()),
        "reason": pa.array([], pa.string()),
        "records": pa.array([], pa.int32()),
    }
)


def components(
    n: int,
    edges: Sequence[tuple[np.ndarray, np.ndarray]],
    apart: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """Connected components of ``n`` records joined by ``edges``, labelled by their smallest member.

    Each array in ``apart`` is a set of records that an un-merge separated from the rest of its
    person: an edge between the set and a record outside it is cut, so the set stands alone again.
    """
    a = np.concatenate([np.asarray(e[0], dtype=np.int64) for e in edges] or [np.empty(0, np.int64)])
    b = np.concatenate([np.asarray(e[1], dtype=np.int64) for e in edges] or [np.empty(0, np.int64)])
    for members in apart:
        inside = np.zeros(n, dtype=bool)
        inside[members] = True
        keep = inside[a] == inside[b]
        a, b = a[keep], b[keep]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Relabel each component by its smallest record key: stable, and independent of scipy's order.
    smallest = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n, dtype=np.int64))
    result: np.ndarray = smallest[labels]
    return result
