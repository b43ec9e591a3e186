"""Score a OneID assignment against the generator's truth: pairwise and B-cubed accuracy, split into
strong and fuzzy pairs, and the shared phones (families, cashiers' hubs) it wrongly merged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from newretail.errors import InvalidInput, NoData

STRONG_F1_TARGET = 0.995
FUZZY_F1_TARGET = 0.95
_KEY = ("source", "source_record_id")
_STRONG_IDS = ("phone_hash", "email_hash", "wechat_unionid")


@dataclass(frozen=True)
class PairScores:
    """Record pairs of one class: in one true person, in one predicted person, and in both.

    A ratio with nothing to divide by is None (no pairs of the class), never a flattering 1.0.
    """

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float | None:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else None

    @property
    def recall(self) -> float | None:
        return self.correct_pairs / self.true_pairs if self.true_pairs else None

    @property
    def f1(self) -> float | None:
        if self.precision is None and self.recall is None:
            return None
        return _f1(self.precision or 0.0, self.recall or 0.0)


@dataclass(frozen=True)
class BCubed:
    """Per-record averages of |predicted ∩ true| / |predicted| and / |true|."""

    precision: float
    recall: float

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass(frozen=True)
class Evaluation:
    """How one assignment scores against the truth.

    ``records`` are the truth's records; those the assignment left out (``missing_from_assignment``)
    are scored as unlinked singletons, and its records unknown to the truth (``missing_from_truth``)
    cannot be scored. A pair is strong when a chain of shared phones, e-mails or unionids joins its two
    records within their true person (linkable without fuzzy evidence); every other pair is fuzzy.
    A wrongly merged pair counts as strong when its records share such a value (a family's phone).
    """

    records: int
    true_persons: int
    predicted_persons: int
    strong_records: int
    fuzzy_records: int
    missing_from_assignment: int
    missing_from_truth: int
    pairwise: PairScores
    strong: PairScores
    fuzzy: PairScores
    bcubed: BCubed
    families_total: int
    families_merged: int
    hub_groups_total: int
    hub_groups_merged: int
    hub_persons_merged_max: int


def evaluate(assignment: pa.Table, truth_dir: Path, identifiers: pa.Table) -> Evaluation:
    """Score ``assignment`` (source, source_record_id, person_id) against ``truth_dir``'s
    identity_map and shared_phones, with ``identifiers`` (every version's phone_hash, email_hash and
    wechat_unionid) deciding which records are strong.

    Only contingency counts (true person x predicted person) are built, so a predicted giant cluster
    costs no more than any other.
    """
    _require(assignment, (*_KEY, "person_id"), "assignment")
    _require(identifiers, (*_KEY, *_STRONG_IDS), "identifiers")
    con = duckdb.connect()
    try:
        con.register("assignment", assignment)
        con.register("identifiers", identifiers)
        paths = {
            "map": str(_truth_file(truth_dir, "identity_map")),
            "phones": str(_truth_file(truth_dir, "shared_phones")),
        }
        con.execute(_TRUTH, {"map": paths["map"]})
        con.execute(_PREDICTED)
        _refuse_ambiguous(con, "truth", "identity_map")
        _refuse_ambiguous(con, "predicted", "the assignment")
        con.execute(_OWNED)
        con.register("strong", _strong_components(con))
        con.execute(_WRONG_SHARED)
        con.execute(_CELLS)
        con.execute(_PERSON_CELLS)
        con.execute(_PAIRS)
        counts = _one(con, _COUNTS)
        if not counts["records"]:
            raise NoData("identity.no_truth", f"{paths['map']} holds no identity records")
        groups = {
            kind: (int(total), int(merged), int(most))
            for kind, total, merged, most in con.execute(
                _GROUPS, {"phones": paths["phones"]}
            ).fetchall()
        }
    finally:
        con.close()
    families = groups.get("family", (0, 0, 0))
    hubs = groups.get("hub", (0, 0, 0))
    c = {name: int(value) for name, value in counts.items() if not name.startswith("bcubed")}
    return Evaluation(
        records=c["records"],
        true_persons=c["true_persons"],
        predicted_persons=c["predicted_persons"],
        strong_records=c["strong_records"],
        fuzzy_records=c["records"] - c["strong_records"],
        missing_from_assignment=c["missing_from_assignment"],
        missing_from_truth=c["missing_from_truth"],
        pairwise=PairScores(c["true_all"], c["predicted_all"], c["correct_all"]),
        strong=PairScores(c["true_strong"], c["predicted_strong"], c["correct_strong"]),
        fuzzy=PairScores(
            c["true_all"] - c["true_strong"],
            c["predicted_all"] - c["predicted_strong"],
            c["correct_all"] - c["correct_strong"],
        ),
        bcubed=BCubed(
            float(counts["bcubed_precision"]) / c["records"],
            float(counts["bcubed_recall"]) / c["records"],
        ),
        families_total=families[0],
        families_merged=families[1],
        hub_groups_total=hubs[0],
        hub_groups_merged=hubs[1],
        hub_persons_merged_max=hubs[2],
    )


def _strong_components(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Records joined to another record of their own true person by a chain of shared identifier
    values, labelled by chain (connected components over the values they share)."""
    edges = con.sql(_STAR_EDGES).to_arrow_table()
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    size = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels, minlength=labels.max(initial=-1) + 1) if size else labels
    keep = np.flatnonzero(counts[labels] > 1) if size else np.empty(0, dtype=np.int64)
    return pa.table({"record": pa.array(keep, pa.int64()), "component": pa.array(labels[keep])})


def meets_targets(e: Evaluation) -> list[tuple[str, float | int | None, str, bool]]:
    """(name, value, target, met) for OneID's acceptance targets; an unmeasurable F1 (None) fails."""
    strong, fuzzy = e.strong.f1, e.fuzzy.f1
    return [
        (
            "strong pairwise F1",
            strong,
            f">= {STRONG_F1_TARGET}",
            strong is not None and strong >= STRONG_F1_TARGET,
        ),
        (
            "fuzzy pairwise F1",
            fuzzy,
            f">= {FUZZY_F1_TARGET}",
            fuzzy is not None and fuzzy >= FUZZY_F1_TARGET,
        ),
        ("families merged", e.families_merged, "= 0", e.families_merged == 0),
    ]


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def _require(table: pa.Table, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInput("identity.bad_input", f"{name} lacks columns {', '.join(missing)}")


def _truth_file(truth_dir: Path, name: str) -> Path:
    path = truth_dir / f"{name}.parquet"
    if not path.is_file():
        raise InvalidInput("identity.no_truth", f"{path} does not exist", field="truth_dir")
    return path


def _refuse_ambiguous(con: duckdb.DuckDBPyConnection, table: str, what: str) -> None:
    bad = con.execute(
        f"SELECT source, record_id FROM {table} WHERE person_id IS NULL OR person_id <> other"
        " ORDER BY ALL LIMIT 1"
    ).fetchone()
    if bad is not None:
        raise InvalidInput(
            "identity.ambiguous_record",
            f"{what}: record {bad[0]}/{bad[1]} has no person or more than one",
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


# One row per record; a record whose versions name no person or several is refused (above).
_TRUTH = """
CREATE TEMP TABLE truth AS
SELECT source, source_record_id AS record_id, min(person_id) AS person_id, max(person_id) AS other
FROM read_parquet($map) GROUP BY ALL
"""
_PREDICTED = """
CREATE TEMP TABLE predicted AS
SELECT source, source_record_id AS record_id, min(person_id) AS person_id, max(person_id) AS other
FROM assignment GROUP BY ALL
"""
# UNPIVOT drops NULLs, so only values a record really carries count. Records are truth rowids from
# here on. A pair is "strong" when an identifier chain joins its two records within the true person
# (the pair could be linked with no fuzzy evidence at all); ``_strong_components`` labels those
# chains, and ``wrong_shared`` holds wrongly merged pairs that share a value (a family's phone).
_OWNED = """
CREATE TEMP TABLE owned AS
SELECT record, person_id, kind, value FROM (
    SELECT t.rowid AS record, t.person_id, i.phone_hash, i.email_hash, i.wechat_unionid
    FROM identifiers AS i
    JOIN truth AS t ON t.source = i.source AND t.record_id = i.source_record_id
) UNPIVOT (value FOR kind IN (phone_hash, email_hash, wechat_unionid))
"""
_STAR_EDGES = """
SELECT DISTINCT min(record) OVER (PARTITION BY person_id, kind, value) AS a, record AS b
FROM owned
"""
_WRONG_SHARED = """
CREATE TEMP TABLE wrong_shared AS
WITH carried AS (
    SELECT DISTINCT o.record, o.kind, o.value, o.person_id, p.person_id AS pred
    FROM owned AS o
    JOIN truth AS t ON t.rowid = o.record
    JOIN predicted AS p USING (source, record_id)
)
SELECT count(*) AS pairs FROM (
    SELECT DISTINCT l.record, r.record
    FROM carried AS l JOIN carried AS r
      ON l.kind = r.kind AND l.value = r.value AND l.pred = r.pred
     AND l.record < r.record AND l.person_id <> r.person_id
)
"""
# The predicted cluster is (pred_person, pred_orphan), both never NULL so joins can use `=`: a
# record the assignment left out is its own singleton, told apart by its truth rowid.
_CELLS = """
CREATE TEMP TABLE cells AS
SELECT t.person_id AS true_person,
       coalesce(p.person_id, '') AS pred_person,
       CASE WHEN p.person_id IS NULL THEN t.rowid ELSE -1 END AS pred_orphan,
       s.component,
       count(*) AS n
FROM truth AS t
LEFT JOIN predicted AS p USING (source, record_id)
LEFT JOIN strong AS s ON s.record = t.rowid
GROUP BY ALL
"""
# One true person in one predicted person, whatever its identifier chains.
_PERSON_CELLS = """
CREATE TEMP TABLE person_cells AS
SELECT true_person, pred_person, pred_orphan, sum(n) AS n FROM cells GROUP BY ALL
"""
# Exact pair counts: HUGEINT, so no sum of n·(n-1)/2 over any number of records can overflow.
_PAIRS = "CREATE TEMP MACRO pairs(n) AS n::HUGEINT * (n - 1) // 2"
_COUNTS = """
WITH true_sizes AS (
    SELECT true_person, sum(n) AS n FROM cells GROUP BY ALL
), pred_sizes AS (
    SELECT pred_person, pred_orphan, sum(n) AS n FROM cells GROUP BY ALL
), component_sizes AS (
    SELECT component, sum(n) AS n FROM cells WHERE component IS NOT NULL GROUP BY ALL
), bcubed AS (
    SELECT sum(c.n * c.n / p.n) AS precision, sum(c.n * c.n / t.n) AS recall
    FROM person_cells AS c
    JOIN true_sizes AS t USING (true_person)
    JOIN pred_sizes AS p USING (pred_person, pred_orphan)
)
SELECT
    (SELECT count(*) FROM truth) AS records,
    (SELECT count(*) FROM true_sizes) AS true_persons,
    (SELECT count(*) FROM pred_sizes) AS predicted_persons,
    (SELECT count(*) FROM strong) AS strong_records,
    (SELECT count(*) FROM person_cells WHERE pred_orphan >= 0) AS missing_from_assignment,
    (SELECT count(*) FROM predicted ANTI JOIN truth USING (source, record_id)) AS missing_from_truth,
    (SELECT coalesce(sum(pairs(n)), 0) FROM true_sizes) AS true_all,
    (SELECT coalesce(sum(pairs(n)), 0) FROM component_sizes) AS true_strong,
    (SELECT coalesce(sum(pairs(n)), 0) FROM pred_sizes) AS predicted_all,
    (SELECT coalesce(sum(pairs(n)), 0) FROM cells WHERE component IS NOT NULL)
        + (SELECT pairs FROM wrong_shared) AS predicted_strong,
    (SELECT coalesce(sum(pairs(n)), 0) FROM person_cells) AS correct_all,
    (SELECT coalesce(sum(pairs(n)), 0) FROM cells WHERE component IS NOT NULL) AS correct_strong,
    (SELECT precision FROM bcubed) AS bcubed_precision,
    (SELECT recall FROM bcubed) AS bcubed_recall
"""
# Per shared-phone group, the most of its true persons that any one predicted person holds (a cell
# is one true person in one predicted person, so counting cells counts persons).
_GROUPS = """
WITH members AS (
    SELECT DISTINCT kind, group_id, person_id FROM read_parquet($phones)
), per_cluster AS (
    SELECT m.kind, m.group_id, count(*) AS persons
    FROM members AS m JOIN person_cells AS c ON c.true_person = m.person_id
    GROUP BY m.kind, m.group_id, c.pred_person, c.pred_orphan
), per_group AS (
    SELECT g.kind, g.group_id, coalesce(max(c.persons), 0) AS most
    FROM (SELECT DISTINCT kind, group_id FROM members) AS g
    LEFT JOIN per_cluster AS c USING (kind, group_id)
    GROUP BY ALL
)
SELECT kind, count(*), count(*) FILTER (WHERE most > 1), max(most) FROM per_group GROUP BY kind
"""
