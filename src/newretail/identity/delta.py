"""The scope of an incremental OneID run: the records new or changed since the last run, and every
record of each person they could touch. Persons outside it keep their records and ids untouched,
so the run costs what the new records touch, not what the chain holds.

A person is touched when one of its records shares an identifier value with a new record (any
version's, demoted values too: a family's phone may link a newcomer to one member), when its
records are candidates for a new record's fuzzy match, when a hand decision names it, or when it
was edited by hand since the last run (the lake does not show that yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection

from newretail.identity import store
from newretail.identity.features import link_features
from newretail.identity.population import load_population
from newretail.identity.records import (
    KEY,
    RecordSet,
    api_record_keys,
    key_pairs,
    key_strings,
    load_records,
)
from newretail.identity.rules import CONTACT_KINDS, IdentityRules
from newretail.identity.versions import IDENTITY_TABLE
from newretail.lake import Lake
from newretail.model import oneid
from newretail.model.spec import TableSpec

# Fields a fuzzy candidate must share with a new record, as linking's blocking rules pair them.
_CANDIDATE_KEYS = (
    ("surname", "phone_masked"),
    ("surname", "given_name", "city"),
    ("surname", "birthday"),
    ("surname", "address"),
)


@dataclass(frozen=True)
class Scope:
    """``records``: the new records and every record of the persons they touch; ``previous``:
    the current links of those records; ``fresh``: per record, new or changed since the last run.

    ``name_frequencies``: how common each full name is in the whole chain (fuzzy weights must not
    come from the scope alone, which gathers records of the same names); ``population`` and
    ``fresh_features``: the chain's linking features as kept, and the new records' own;
    ``touched``: every person the scope was drawn from, linked to records now or not (a person
    emptied by a hand merge since the last run still has rows in the lake)."""

    records: RecordSet
    previous: pa.Table
    fresh: np.ndarray
    name_frequencies: pa.Table
    population: pa.Table
    fresh_features: pa.Table
    touched: frozenset[str]


def incremental_scope(
    lake: Lake,
    conn: Connection,
    rules: IdentityRules,
    *,
    watermark: dt.datetime,
    last_started: dt.datetime,
    versions: Path,
    cache_dir: Path,
) -> Scope | None:
    """The scope of a run after one that finished with ``watermark`` (newest updated_at it took);
    None when the lake holds no person links or no population was kept (a whole run is needed).
    ``versions``: the file of every record version's identifiers (``version_identifiers``)."""
    link_files = lake.files("dwd", oneid.PERSON_LINKS.name)
    record_files = lake.files("dwd", IDENTITY_TABLE)
    kept = load_population(cache_dir)
    if not link_files or not record_files or kept is None:
        return None
    population, frequencies = kept
    db = duckdb.connect()
    try:
        db.register("api_keys", api_record_keys(conn))
        fresh_keys = db.sql(
            f"""
            WITH everything AS (
                SELECT source, source_record_id, updated_at FROM read_parquet({_paths(record_files)})
                UNION ALL
                SELECT source, source_record_id, updated_at FROM api_keys
            ), linked AS (SELECT source, source_record_id FROM read_parquet({_paths(link_files)}))
            SELECT DISTINCT source, source_record_id FROM everything e
            WHERE e.updated_at > $watermark
               OR NOT EXISTS (SELECT 1 FROM linked l
                              WHERE l.source = e.source AND l.source_record_id = e.source_record_id)
            """,
            params={"watermark": watermark},
        ).to_arrow_table()
        fresh = load_records(lake, conn, rules, only=fresh_keys, versions=versions)
        fresh_features = keyed_features(link_features(fresh.records), fresh.records)
        persons = _persons_sharing(db, conn, fresh, rules, record_files, link_files, versions)
        persons |= _fuzzy_candidate_persons(db, fresh, fresh_features, population, link_files)
        db.register("fresh_keys", fresh.records.select(list(KEY)))
        linked_before = db.sql(
            f"""SELECT DISTINCT person_id FROM read_parquet({_paths(link_files)})
                SEMI JOIN fresh_keys USING (source, source_record_id)"""
        ).fetchall()
        persons |= {str(row[0]) for row in linked_before}
    finally:
        db.close()
    # A record the API wrote is linked in the OLTP store before the lake knows it.
    from_api = fresh.records.filter(fresh.records["from_api"])
    persons |= store.persons_of_records(conn, key_pairs(from_api))
    persons |= store.persons_edited_since(conn, last_started)
    persons |= store.persons_of_records(conn, _constraint_records(conn))
    previous = store.links_of_persons(conn, persons)
    key_schema = previous.select(list(KEY)).schema
    keys = pa.concat_tables(
        [previous.select(list(KEY)), fresh.records.select(list(KEY)).cast(key_schema)]
    )
    records = load_records(lake, conn, rules, only=keys, versions=versions)
    is_fresh = pc.is_in(key_strings(records.records), value_set=key_strings(fresh.records))
    return Scope(
        records=records,
        previous=previous,
        fresh=is_fresh.to_numpy(zero_copy_only=False),
        name_frequencies=frequencies,
        population=population,
        fresh_features=fresh_features,
        touched=frozenset(persons),
    )


def keyed_features(features: pa.Table, records: pa.Table) -> pa.Table:
    """``features`` of ``records`` with each record's (source, source_record_id) instead of its
    run-local key, as the population keeps them."""
    return features.drop_columns(["record_key"]).append_column(
        "source_record_id", records["source_record_id"]
    )


def _persons_sharing(
    db: duckdb.DuckDBPyConnection,
    conn: Connection,
    fresh: RecordSet,
    rules: IdentityRules,
    record_files: list[Path],
    link_files: list[Path],
    versions: Path,
) -> set[str]:
    """Persons holding a record (any version of it) that carries one of ``fresh``'s identifier
    values, demoted ones included."""
    db.register("fresh_ids", fresh.identifiers)
    carrying = " OR ".join(
        f"{rule.column} IN (SELECT value FROM fresh_ids WHERE kind = '{rule.kind}')"
        for rule in rules.identifiers
    )
    found = db.sql(
        f"""
        SELECT DISTINCT l.person_id
        FROM (SELECT source, source_record_id FROM read_parquet('{versions}') WHERE {carrying}
              UNION
              SELECT source, source_record_id FROM read_parquet({_paths(record_files)})
              WHERE {carrying}) v
        JOIN read_parquet({_paths(link_files)}) l USING (source, source_record_id)
        """
    ).fetchall()
    persons = {str(row[0]) for row in found}
    # Records the API wrote since, and any hand edit, are in the OLTP store, not the lake yet.
    values: dict[str, list[str]] = {}
    for rule in rules.identifiers:
        if rule.column in store.LINK_COLUMNS:
            kind = pc.equal(fresh.identifiers["kind"], pa.scalar(rule.kind))
            chosen = fresh.identifiers["value"].filter(kind).to_pylist()
            values[rule.column] = [str(v) for v in chosen]
    return persons | store.persons_holding(conn, values)


def _fuzzy_candidate_persons(
    db: duckdb.DuckDBPyConnection,
    fresh: RecordSet,
    fresh_features: pa.Table,
    population: pa.Table,
    link_files: list[Path],
) -> set[str]:
    """Persons with a record that shares a blocking key with a fresh record lacking a phone and an
    e-mail of its own (the only ones fuzzy linking may score)."""
    contact = pc.is_in(fresh.identifiers["kind"], value_set=pa.array(CONTACT_KINDS))
    with_contact = pc.unique(fresh.identifiers["record_key"].filter(contact))
    lacking = pc.invert(pc.is_in(fresh.records["record_key"], value_set=with_contact))
    if not pc.any(lacking).as_py():
        return set()
    db.register("wanted", fresh_features.filter(lacking))
    db.register("population", population)
    # One equi-join per blocking key: an OR of them in one join condition is no hash join.
    joins = " UNION ".join(
        f"SELECT p.source, p.source_record_id FROM population p JOIN wanted w USING ({', '.join(key)})"
        for key in _CANDIDATE_KEYS
    )
    found = db.sql(
        f"""
        SELECT DISTINCT l.person_id
        FROM ({joins}) c JOIN read_parquet({_paths(link_files)}) l USING (source, source_record_id)
        """
    ).fetchall()
    return {str(row[0]) for row in found}


def _constraint_records(conn: Connection) -> list[tuple[str, str]]:
    """Every record a hand decision names: its person is always in scope, so the decision holds."""
    records: list[tuple[str, str]] = []
    for _, left, right in store.active_constraints(conn):
        records.extend((str(s), str(r)) for s, r in [*left, *right])
    return records


def _paths(files: list[Path]) -> str:
    return "[" + ", ".join(f"'{path}'" for path in files) + "]"


def merged_person_table(
    lake: Lake, spec: TableSpec, rows: pa.Table, *, replaced: AbstractSet[str]
) -> pa.Table:
    """The lake's person table ``spec`` (``person_links`` or ``persons``) with the scope's rows
    swapped for ``rows``. ``replaced`` names every person the scope held before or holds now: the
    rows of those persons go, and so every row of a record in the scope (its person before this
    run was one of them)."""
    gone = pa.array(sorted(replaced), pa.string())
    old = pq.read_table(lake.partition_file("dwd", spec.name, {}))
    kept = old.filter(pc.invert(pc.is_in(old["person_id"], value_set=gone)))
    return pa.concat_tables([kept, rows.cast(kept.schema)])
