"""Validate every row of a file in DuckDB: parse, required, enums, references, then duplicates.

One query gives each row its canonical values and at most one reason (the first check it fails, in
the order the checks are listed), so a row is accepted or rejected whole; a hash aggregate then
marks repeated keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newretail.ingest.mapping import Column
from newretail.ingest.parse import REASONS, duck_type, parse_sql
from newretail.ingest.plan import PII_PARSES, Plan
from newretail.ingest.readers import RawFile
from newretail.ingest.references import SOURCES, References

_EMPTY = pa.scalar(None, pa.string())
_BLANK = pa.scalar("", pa.string())


@dataclass(frozen=True)
class Validated:
    """Accepted rows (canonical columns, PII still clear, sorted by partition and key) and rejects.

    ``rejects`` has ``row`` (index into the file's rows), ``reason`` and ``column``.
    """

    good: pa.Table
    rejects: pa.Table


@dataclass
class _Query:
    """SQL fragments and bound parameters collected while walking a declaration."""

    params: dict[str, Any]
    checks: list[tuple[str, str, str]]  # (condition, reason, column), first match wins

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"${name}"


def validate(
    plan: Plan, raw: RawFile, *, refs: References, con: duckdb.DuckDBPyConnection
) -> Validated:
    """Check every row of ``raw`` against ``plan`` (see the module docstring)."""
    stage, coded = _stage(plan, raw)
    query = _Query(params={}, checks=[])
    sql, outputs = _build(plan, coded, query)
    spec = plan.spec
    con.register("stage", stage)
    for name in SOURCES:
        con.register(name, refs.get(name))
    try:
        checked = con.sql(sql, params=query.params).to_arrow_table()
    finally:
        con.unregister("stage")
    del stage
    check = _mark_duplicates(checked, spec.key, len(query.checks), con=con)
    passed = pc.is_null(check)
    good = checked.select([f"o_{name}" for name in outputs]).rename_columns(outputs)
    if check.null_count != len(check):
        good = good.filter(passed)
    failed = pc.invert(passed)
    which = check.filter(failed)
    checks = [*query.checks, ("", "duplicate_key", ",".join(spec.key))]
    reasons = pa.chunked_array([pa.array([c[1] for c in checks], pa.string())])
    columns = pa.chunked_array([pa.array([c[2] for c in checks], pa.string())])
    rejects = pa.Table.from_arrays(
        [checked["__row"].filter(failed), reasons.take(which), columns.take(which)],
        names=["row", "reason", "column"],
    )
    return Validated(good=good, rejects=rejects)


def _mark_duplicates(
    checked: pa.Table, key: tuple[str, ...], dup: int, *, con: duckdb.DuckDBPyConnection
) -> pa.ChunkedArray[Any]:
    """``__check`` with ``dup`` on every valid row whose key an earlier valid row already has.

    A hash aggregate finds the (usually no) repeated keys; a window over all rows would sort them.
    """
    keys = ", ".join(f"o_{k}" for k in key)
    con.register("checked", checked.select(["__row", "__check", *(f"o_{k}" for k in key)]))
    try:
        later = con.sql(
            f"""
            WITH valid AS (SELECT * FROM checked WHERE __check IS NULL),
            repeated AS (
                SELECT {keys}, min(__row) AS __first FROM valid GROUP BY {keys} HAVING count(*) > 1
            )
            SELECT valid.__row FROM valid JOIN repeated USING ({keys})
            WHERE valid.__row <> repeated.__first
            """
        ).to_arrow_table()["__row"]
    finally:
        con.unregister("checked")
    check: pa.ChunkedArray[Any] = checked["__check"]
    if len(later) == 0:
        return check
    is_later = pc.is_in(checked["__row"], value_set=later.combine_chunks())
    marked: pa.ChunkedArray[Any] = pc.if_else(is_later, pa.scalar(dup, pa.int32()), check)
    return marked


def _stage(plan: Plan, raw: RawFile) -> tuple[pa.Table, set[int]]:
    """The text of each declared source column; coded columns trimmed and translated already."""
    names = ["__row"]
    arrays: list[pa.Array[Any] | pa.ChunkedArray[Any]] = [
        pa.array(np.arange(raw.values.num_rows, dtype=np.int64))
    ]
    coded: set[int] = set()
    for i, column in enumerate(plan.decl.columns):
        if column.source is None:
            continue
        text: pa.ChunkedArray[Any] = raw.values[column.source]
        if column.codes is not None:
            text = pc.utf8_trim_whitespace(text)
            text = pc.if_else(pc.equal(text, _BLANK), _EMPTY, text)
            keys = pa.array(list(column.codes), pa.string())
            index = pc.index_in(text, value_set=keys)
            names.append(f"k{i}")
            arrays.append(pc.and_(pc.is_valid(text), pc.is_null(index)))
            text = pa.chunked_array([pa.array(list(column.codes.values()), pa.string())]).take(
                index
            )
            coded.add(i)
        names.append(f"c{i}")
        arrays.append(text)
    return pa.Table.from_arrays(arrays, names=names), coded


def _build(plan: Plan, coded: set[int], q: _Query) -> tuple[str, list[str]]:
    """The validating SELECT over ``stage`` and the columns of an accepted row."""
    decl, spec = plan.decl, plan.spec
    by_target = {c.target: i for i, c in enumerate(decl.columns)}
    texts, parsed = ["s.__row"], ["t.*"]
    for i, column in enumerate(decl.columns):
        if column.source is None:
            texts.append(f"CAST({q.bind(f'const{i}', column.const)} AS VARCHAR) AS v{i}")
        else:
            # Spaces only: trim with a character set costs three times as much per value.
            texts.append(f"NULLIF(trim(s.c{i}), '') AS v{i}")
        parsed.append(f"{parse_sql(column.parse, f'v{i}', _arrow_type(plan, column))} AS p{i}")
        if i in coded:
            texts.append(f"s.k{i}")
            q.checks.append((f"k{i}", "bad_enum", column.target))
    for i, column in enumerate(decl.columns):
        if column.parse in REASONS:
            q.checks.append(
                (f"v{i} IS NOT NULL AND p{i} IS NULL", REASONS[column.parse], column.target)
            )

    tz, joins = _time_zone(plan, by_target)
    value = {"source": q.bind("source", decl.source)}
    for i, column in enumerate(decl.columns):
        value[column.target] = f"timezone(__tz, p{i})" if column.parse == "local_time" else f"p{i}"
    date = decl.business_date
    if date is not None:
        instant = value[date.from_column]
        clock = f"timezone(__tz, {instant})" if date.local else instant
        value["business_date"] = f"CAST({clock} AS DATE)"
        if date.hour:
            value[date.hour] = f"hour({clock})"
    types = {f.name: f.type for f in spec.schema}
    select_o = ", ".join(
        f"CAST({expr} AS {duck_type(types.get(name, pa.string()))}) AS o_{name}"
        for name, expr in value.items()
    )

    for name in spec.required:
        if name in by_target:
            # The text, not the value: a local time is NULL until its time zone is known.
            q.checks.append((f"v{by_target[name]} IS NULL", "missing_required", name))
    for n, (name, allowed) in enumerate(spec.enums):
        if name in value:
            enum = q.bind(f"enum{n}", list(allowed))
            q.checks.append((f"NOT list_contains({enum}, o_{name})", "bad_enum", name))
    _reference_checks(plan, q)
    if tz != "NULL":
        reason = "unknown_store" if decl.tz_from == "store_id" else "unknown_location"
        q.checks.append(("__tz IS NULL", reason, str(decl.tz_from)))
    if date is not None:
        q.checks.append((f"o_{date.from_column} IS NULL", "missing_required", date.from_column))

    case = " ".join(f"WHEN {cond} THEN {n}" for n, (cond, _, _) in enumerate(q.checks))
    outputs = ", ".join(f"o_{name}" for name in value)
    # Accepted rows leave sorted by partition then key: partitions split off in order, sorted.
    order = ", ".join(f"o_{c}" for c in dict.fromkeys((*spec.partition_by, *spec.key)))
    sql = f"""
        WITH t AS (SELECT {", ".join(texts)} FROM stage s),
        p AS (SELECT {", ".join(parsed)} FROM t),
        j AS (SELECT p.*, {tz} AS __tz FROM p {joins}),
        o AS (SELECT j.*, {select_o} FROM j)
        SELECT __row, CAST(CASE {case} END AS INTEGER) AS __check, {outputs} FROM o
        ORDER BY {order}
    """
    return sql, list(value)


def _arrow_type(plan: Plan, column: Column) -> pa.DataType:
    if column.parse in PII_PARSES:
        return pa.string()
    target: pa.DataType = plan.spec.schema.field(column.target).type
    return target


def _time_zone(plan: Plan, by_target: dict[str, int]) -> tuple[str, str]:
    """The SQL for each row's IANA time zone and the joins it needs ("NULL" when none is)."""
    decl = plan.decl
    date = decl.business_date
    needed = any(c.parse == "local_time" for c in decl.columns) or bool(date and date.local)
    if not needed:
        return "NULL", ""
    place = f"p.p{by_target[str(decl.tz_from)]}"
    if decl.tz_from == "store_id":
        return "tz_s.tz", f"LEFT JOIN ref_store tz_s ON tz_s.id = {place}"
    kind = f"p.p{by_target['location_type']}"
    return "COALESCE(tz_s.tz, tz_w.tz)", (
        f"LEFT JOIN ref_store tz_s ON {kind} = 'store' AND tz_s.id = {place}"
        f" LEFT JOIN ref_warehouse tz_w ON {kind} = 'warehouse' AND tz_w.id = {place}"
    )


def _reference_checks(plan: Plan, q: _Query) -> None:
    refs = plan.decl.references
    for columns, table, reason in (
        (refs.store, "ref_store", "unknown_store"),
        (refs.product, "ref_product", "unknown_product"),
        (refs.material, "ref_material", "unknown_material"),
    ):
        for name in columns:
            q.checks.append((f"o_{name} NOT IN (SELECT id FROM {table})", reason, name))
    for name in refs.location:
        known = (
            f"CASE o_location_type WHEN 'store' THEN o_{name} IN (SELECT id FROM ref_store)"
            f" WHEN 'warehouse' THEN o_{name} IN (SELECT id FROM ref_warehouse) ELSE false END"
        )
        q.checks.append((f"NOT ({known})", "unknown_location", name))
