"""Read a CSV, JSONL or Parquet source file into text columns, with each row's line number.

Everything becomes text here so that one set of parse rules (``validate``) serves every format.
CSV lines are physical lines counting the header; JSONL lines count from 1; Parquet gives row indexes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from newretail.ingest.preflight import Checked


@dataclass(frozen=True)
class Broken:
    """A record that cannot be split into fields (wrong field count, not a JSON object)."""

    line: int
    text: str


@dataclass(frozen=True)
class RawFile:
    """A source file as text.

    ``values`` holds one string column per declared source field; ``raw`` the whole rows as
    delivered (what quarantine shows); ``lines`` the line of each row; ``broken`` the records that
    could not be read as rows at all.
    """

    values: pa.Table
    raw: pa.Table
    lines: pa.Array[Any]
    broken: list[Broken] = field(default_factory=list)


def read(checked: Checked) -> RawFile:
    fmt = checked.found.plan.decl.format
    if fmt == "csv":
        return _read_csv(checked)
    if fmt == "jsonl":
        return _read_jsonl(checked)
    return _read_parquet(checked)


def _fields(checked: Checked) -> list[str]:
    # Unique: one source field may feed several canonical columns.
    fields = (c.source for c in checked.found.plan.source_columns if c.source is not None)
    return list(dict.fromkeys(fields))


def _header(checked: Checked) -> list[str]:
    decl = checked.found.plan.decl
    with checked.found.path.open(encoding=decl.encoding, newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def _read_csv(checked: Checked) -> RawFile:
    header = [name.lstrip("\ufeff") for name in _header(checked)]
    invalid: list[Broken] = []

    def on_invalid(row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        invalid.append(Broken(line=row.number or 0, text=row.text))
        return "skip"

    def load(threads: bool) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            checked.found.path,
            read_options=pacsv.ReadOptions(
                use_threads=threads,
                column_names=header,
                skip_rows=1,
                encoding=checked.found.plan.decl.encoding,
                block_size=16 << 20,
            ),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )

    table = load(threads=True)
    if invalid:
        # Only a single-threaded read tells the line of a bad record; bad records are rare.
        table = load(threads=False)
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if checked.lines > 1 + table.num_rows + len(invalid) and table.num_rows:
        # A quoted field may span lines: shift every later row by the newlines it holds.
        newlines = np.zeros(table.num_rows, dtype=np.int64)
        for column in table.columns:
            newlines += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
        lines[1:] += np.cumsum(newlines)[:-1]
    for bad in sorted(invalid, key=lambda b: b.line):
        lines[lines >= bad.line] += 1
    broken = [b for b in invalid if b.text.strip()]  # an empty line is no record
    return RawFile(
        values=table.select(_fields(checked)), raw=table, lines=pa.array(lines), broken=broken
    )


def _read_jsonl(checked: Checked) -> RawFile:
    text = pacsv.read_csv(
        checked.found.path,
        read_options=pacsv.ReadOptions(
            column_names=["line"], encoding=checked.found.plan.decl.encoding, block_size=16 << 20
        ),
        # One field per physical line: JSON escapes control characters, so \x01 never splits it.
        parse_options=pacsv.ParseOptions(
            delimiter="\x01",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    numbers = pa.array(np.arange(1, text.num_rows + 1, dtype=np.int64))
    keep = pc.not_equal(pc.utf8_trim_whitespace(text["line"]), pa.scalar("", pa.string()))
    text = text.filter(keep)
    numbers = numbers.filter(keep)
    fields = _fields(checked)
    paths = ["$." + _json_key(name) for name in fields]
    con = duckdb.connect()
    try:
        con.register("lines", text)
        extracted = con.sql(
            # A valid JSON text that starts with "{" is an object; json_type would parse it again.
            "SELECT CASE WHEN json_valid(line) AND starts_with(ltrim(line), '{')"
            " THEN json_extract_string(line, $paths) END AS v FROM lines",
            params={"paths": paths},
        ).to_arrow_table()
    finally:
        con.close()
    values = cast(
        "pa.ListArray[Any]",
        extracted["v"].combine_chunks()
        if extracted.num_rows
        else pa.array([], pa.list_(pa.string())),
    )
    ok = pc.is_valid(values)
    broken = [
        Broken(line=line, text=str(row))
        for line, row in zip(
            numbers.filter(pc.invert(ok)).to_numpy().tolist(),
            text["line"].filter(pc.invert(ok)).to_pylist(),
            strict=True,
        )
    ]
    objects = values.filter(ok)
    columns: list[pa.Array[Any]] = [pc.list_element(objects, i) for i in range(len(fields))]
    return RawFile(
        values=pa.Table.from_arrays(columns, names=fields),
        raw=text.filter(ok),
        lines=numbers.filter(ok),
        broken=broken,
    )


def _json_key(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_parquet(checked: Checked) -> RawFile:
    table = pq.read_table(checked.found.path)
    names: list[str] = []
    columns: list[pa.ChunkedArray[Any]] = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            continue  # nested values cannot be declared fields; quarantine shows the rest
        names.append(name)
        columns.append(text)
    raw = pa.Table.from_arrays(columns, names=names)
    lines = pa.array(np.arange(table.num_rows, dtype=np.int64))
    return RawFile(values=raw.select(_fields(checked)), raw=raw, lines=lines)
