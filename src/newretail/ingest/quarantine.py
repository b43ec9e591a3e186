"""Rejected rows in the lake: ``quarantine/<table>/file=<source file>/data.parquet``.

One partition per source file, replaced whole when the file is ingested again, so a corrected
file's old rejects disappear. The raw row is JSON text with its PII fields masked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import pyarrow as pa

from newretail.ingest.mapping import Parse, SourceFile
from newretail.ingest.protect import mask_row
from newretail.ingest.readers import Broken, RawFile
from newretail.ingest.validate import Validated
from newretail.lake.storage import Lake
from newretail.model.spec import col

SCHEMA = pa.schema(
    [
        col("source", pa.string(), "Source system of the file.", required=True),
        col("declaration", pa.string(), "Declared file kind, e.g. pos.orders.", required=True),
        col(
            "source_file",
            pa.string(),
            "Path of the file under the ingest directory.",
            required=True,
        ),
        col(
            "line",
            pa.int64(),
            "CSV physical line (header is 1), JSONL line, or Parquet row index.",
            required=True,
        ),
        col(
            "reason",
            pa.string(),
            "Stable reason code, e.g. bad_money, unknown_store.",
            required=True,
        ),
        col(
            "column",
            pa.string(),
            "Canonical column the row failed on; null for an unreadable record.",
        ),
        col(
            "raw",
            pa.string(),
            "The row as delivered, as JSON, PII masked; null if it cannot be masked.",
        ),
    ]
)


def partition(rel: str) -> dict[str, str]:
    # Hive's own escaping (%2F for "/") keeps paths flat; "." too, so no folder ends in ".parquet"
    # and a reader's glob for "*.parquet" matches only files.
    return {"file": quote(rel, safe="").replace(".", "%2E")}


def rejects_table(
    decl: SourceFile, rel: str, raw: RawFile, validated: Validated, broken: Sequence[Broken]
) -> pa.Table:
    """The quarantine rows of one file, ordered by line."""
    pii = {c.source: c.parse for c in decl.columns if c.source and c.parse in ("phone", "email")}
    rows = validated.rejects["row"]
    # Row by row: Table.take concatenates a column's chunks first, which overflows 32-bit string
    # offsets once a file's text passes 2 GiB (a month of a large chain's app events).
    taken = [raw.raw.slice(int(row), 1).to_pylist()[0] for row in rows.to_numpy()]
    if decl.format == "jsonl":
        texts = [_jsonl_raw(row["line"], pii) for row in taken]
    else:
        texts = [json.dumps(mask_row(row, pii), ensure_ascii=False) for row in taken]
    lines: list[int] = raw.lines.take(rows).to_numpy().tolist()
    reasons = validated.rejects["reason"].to_pylist()
    columns = validated.rejects["column"].to_pylist()
    for record in broken:
        lines.append(record.line)
        reasons.append("bad_record")
        columns.append(None)
        # A record that cannot be split cannot have its PII fields found: keep it only without PII.
        texts.append(None if pii else json.dumps({"text": record.text}, ensure_ascii=False))
    order = sorted(range(len(lines)), key=lines.__getitem__)
    n = len(lines)
    return pa.Table.from_arrays(
        [
            pa.array([decl.source] * n, pa.string()),
            pa.array([decl.name] * n, pa.string()),
            pa.array([rel] * n, pa.string()),
            pa.array([lines[i] for i in order], pa.int64()),
            pa.array([reasons[i] for i in order], pa.string()),
            pa.array([columns[i] for i in order], pa.string()),
            pa.array([texts[i] for i in order], pa.string()),
        ],
        schema=SCHEMA,
    )


def _jsonl_raw(line: str, pii: Mapping[str, Parse]) -> str | None:
    if not pii:
        return line
    record = json.loads(line)  # rows that reach validation are JSON objects
    return json.dumps(mask_row(record, pii), ensure_ascii=False)


def store(lake: Lake, *, table: str, rel: str, rejects: pa.Table) -> None:
    """Replace the file's quarantine partition (or remove it when the file has no rejects now)."""
    where = partition(rel)
    if rejects.num_rows:
        lake.write_partition("quarantine", table, where, rejects)
    elif lake.exists("quarantine", table, where):
        lake.delete_partition("quarantine", table, where)
