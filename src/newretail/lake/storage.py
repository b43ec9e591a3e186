"""The lake on disk: Hive-partitioned Parquet, one file per partition, each swapped in atomically.

Layout: ``<root>/<layer>/<table>/<col>=<value>/.../data.parquet``. A partition is always exactly one
file, written beside its final name and moved into place with ``os.replace``, so a reader (DuckDB,
Spark, pyarrow) sees either the old partition or the new one, never a half-written one; a writer
killed midway leaves only a hidden temporary file, which the next writer removes. Partition columns
live in the path, not in the file (the Hive convention every engine reads).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.parquet as pq

Layer = Literal["ods", "dwd", "dws", "ads", "quarantine"]
LAYERS: tuple[Layer, ...] = ("ods", "dwd", "dws", "ads", "quarantine")
DATA_FILE = "data.parquet"
_TMP_PREFIX = ".tmp-"

PartitionValue = str | dt.date
Partition = Mapping[str, PartitionValue]


def _fmt(value: PartitionValue) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if not text or "/" in text or "=" in text or text.startswith("."):
        raise ValueError(f"unusable partition value {value!r}")
    return text


class Lake:
    """A Parquet lake rooted at ``root``; one writer at a time (see :meth:`writer`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths ---------------------------------------------------------------------------------
    def table_dir(self, layer: Layer, table: str) -> Path:
        return self.root / layer / table

    def partition_dir(self, layer: Layer, table: str, partition: Partition) -> Path:
        path = self.table_dir(layer, table)
        for column, value in partition.items():
            path = path / f"{column}={_fmt(value)}"
        return path

    def partition_file(self, layer: Layer, table: str, partition: Partition) -> Path:
        return self.partition_dir(layer, table, partition) / DATA_FILE

    # -- listing -------------------------------------------------------------------------------
    def files(self, layer: Layer, table: str) -> list[Path]:
        """Every partition file of a table, sorted by path (so reads are deterministic)."""
        root = self.table_dir(layer, table)
        # os.walk, not Path.rglob: a table of thousands of partitions is listed several times
        # faster, and the sort on strings is cheaper than on paths.
        found = [
            f"{folder}/{DATA_FILE}" for folder, _, names in os.walk(root) if DATA_FILE in names
        ]
        return [Path(name) for name in sorted(found)]

    def partitions(self, layer: Layer, table: str) -> list[dict[str, str]]:
        """The partition values of every partition of a table, as strings, in path order."""
        root = self.table_dir(layer, table)
        out = []
        for file in self.files(layer, table):
            parts = file.parent.relative_to(root).parts
            out.append(dict(part.split("=", 1) for part in parts))
        return out

    def exists(self, layer: Layer, table: str, partition: Partition) -> bool:
        return self.partition_file(layer, table, partition).exists()

    # -- reading and writing ---------------------------------------------------------------------
    def read_partition(
        self, layer: Layer, table: str, partition: Partition, schema: pa.Schema | None = None
    ) -> pa.Table:
        """One partition as an Arrow table, partition columns dropped (they are in the path)."""
        return pq.read_table(self.partition_file(layer, table, partition), schema=schema)

    def write_partition(
        self, layer: Layer, table: str, partition: Partition, data: pa.Table
    ) -> Path:
        """Replace one partition with ``data`` atomically and durably.

        Partition columns present in ``data`` are dropped: their value is the path's.
        """
        staged = self.stage_partition(layer, table, partition, data)
        staged.publish()
        return staged.final

    def stage_partition(
        self, layer: Layer, table: str, partition: Partition, data: pa.Table
    ) -> StagedFile:
        """Write ``data`` for a partition durably but hidden beside its file; ``publish`` swaps it
        in; one never published (its writer failed or was killed) is swept by the next ``writer``."""
        directory = self.partition_dir(layer, table, partition)
        directory.mkdir(parents=True, exist_ok=True)
        keep = [name for name in data.column_names if name not in partition]
        hidden = directory / f"{_TMP_PREFIX}{uuid.uuid4().hex}.parquet"
        try:
            with hidden.open("wb") as handle:
                pq.write_table(
                    data.select(keep), handle, compression="zstd", row_group_size=256_000
                )
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            hidden.unlink(missing_ok=True)
            raise
        return StagedFile(hidden, directory / DATA_FILE)

    def delete_partition(self, layer: Layer, table: str, partition: Partition) -> None:
        file = self.partition_file(layer, table, partition)
        file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            file.parent.rmdir()

    def leftover_temporaries(self, *tables: tuple[Layer, str]) -> list[Path]:
        """Temporary files a killed writer left behind (never visible to readers), in the given
        (layer, table)s or anywhere in the lake."""
        roots = [self.table_dir(layer, table) for layer, table in tables] or [self.root]
        found = [
            Path(folder) / name
            for root in roots
            for folder, _, names in os.walk(root)
            for name in names
            if name.startswith(_TMP_PREFIX)
        ]
        return sorted(found)

    @contextlib.contextmanager
    def writer(self, *tables: tuple[Layer, str]) -> Iterator[None]:
        """Hold the lake's single-writer lock; on entry, sweep what a killed writer left in the
        ``tables`` (layer, table) the holder writes, or in the whole lake when none are named (a
        lake of a large chain holds tens of thousands of partitions: a second to walk)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".writer.lock").open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                for leftover in self.leftover_temporaries(*tables):
                    leftover.unlink(missing_ok=True)
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class StagedFile:
    """A partition file written but not yet visible: ``hidden`` replaces ``final`` on publish."""

    hidden: Path
    final: Path

    def publish(self) -> None:
        self.hidden.replace(self.final)
        _fsync_dir(self.final.parent)


@contextlib.contextmanager
def replacing(final: Path, *, suffix: str) -> Iterator[BinaryIO]:
    """Write ``final`` atomically and durably: the caller writes a hidden temporary beside it,
    which is fsync'd and moved into place on success and removed on failure.

    The temporary's ``.tmp-`` prefix is the lake's: its writer lock sweeps what a killed run left.
    """
    tmp = final.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}{suffix}"
    try:
        with tmp.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
