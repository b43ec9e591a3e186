"""Readers of the generated chain's source files for the generator's tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


def csv_rows(chain: Path, pattern: str, encoding: str = "utf-8") -> list[dict[str, Any]]:
    """Every row of the matching CSV files, all values as text (empty is None)."""
    rows: list[dict[str, Any]] = []
    for path in sorted((chain / "sources").glob(pattern)):
        header = path.read_bytes().split(b"\n", 1)[0].decode(encoding).split(",")
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding=encoding),
            convert_options=pcsv.ConvertOptions(
                column_types={h.strip('"'): pa.string() for h in header},
                strings_can_be_null=True,
            ),
        )
        rows.extend(table.to_pylist())
    return rows


def jsonl_rows(chain: Path, pattern: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((chain / "sources").glob(pattern)):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return rows


def parquet_rows(chain: Path, pattern: str) -> list[dict[str, Any]]:
    tables = [pq.read_table(p) for p in sorted((chain / "sources").glob(pattern))]
    return pa.concat_tables(tables).to_pylist()


def truth(chain: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(chain / "truth" / f"{name}.parquet").to_pylist()
