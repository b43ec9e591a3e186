"""Writes source files (CSV, GBK CSV, JSONL, Parquet) and counts rows per file kind."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from newretail.sim.text import Column, pc


class Output:
    """The generator's output tree; every write goes through here so row counts stay complete."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: Counter[str] = Counter()
        self.truth_rows: Counter[str] = Counter()

    def _path(self, rel: str) -> Path:
        path = self.root / "sources" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def csv(self, kind: str, rel: str, columns: dict[str, Column], encoding: str = "utf-8") -> None:
        table = pa.table(columns)
        buffer = io.BytesIO()
        pcsv.write_csv(table, buffer, pcsv.WriteOptions(quoting_style="needed"))
        data = buffer.getvalue()
        if encoding != "utf-8":
            data = data.decode("utf-8").encode(encoding)
        self._path(rel).write_bytes(data)
        self.rows[kind] += table.num_rows

    def jsonl(
        self, kind: str, rel: str, columns: dict[str, Column], raw: tuple[str, ...] = ()
    ) -> None:
        """One JSON object per line; string columns are quoted (null stays null), numbers are bare.

        Columns named in ``raw`` already hold JSON (a nested object) and are written as they are.
        """
        pieces: list[Column] = []
        n = len(next(iter(columns.values())))
        for i, (name, values) in enumerate(columns.items()):
            head = ("{" if i == 0 else ",") + f'"{name}":'
            if pa.types.is_string(values.type) and name not in raw:
                escaped = pc.replace_substring(
                    pc.replace_substring(values, "\\", "\\\\"), '"', '\\"'
                )
                text = pc.binary_join_element_wise('"', escaped, '"', "")
            else:
                text = values.cast(pa.string())
            pieces.append(pc.binary_join_element_wise(head, pc.fill_null(text, "null"), ""))
        line = pc.binary_join_element_wise(*pieces, "}\n", "") if n else pa.array([], pa.string())
        self._path(rel).write_bytes(_concat(line))
        self.rows[kind] += n

    def parquet(self, kind: str, rel: str, columns: dict[str, Column]) -> None:
        table = pa.table(columns)
        pq.write_table(table, self._path(rel), compression="zstd")
        self.rows[kind] += table.num_rows

    def truth(self, name: str, table: pa.Table, writers: dict[str, pq.ParquetWriter]) -> None:
        """Append to a truth file; one streaming writer per file keeps memory bounded."""
        if name not in writers:
            path = self.root / "truth" / f"{name}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
        writers[name].write_table(table)
        self.truth_rows[name] += table.num_rows


def _concat(lines: Column) -> bytes:
    """The bytes of all values back to back (the data buffer of an unsliced string array)."""
    if isinstance(lines, pa.ChunkedArray):  # past 2 GiB of text Arrow splits the column
        return b"".join(_concat(chunk) for chunk in lines.chunks)
    if len(lines) == 0:
        return b""
    offsets, data = lines.buffers()[1], lines.buffers()[2]
    off = np.frombuffer(offsets, dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    content: bytes = data.to_pybytes()[off[0] : off[-1]]
    return content
