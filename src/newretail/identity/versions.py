"""Every linking value each identity record has carried, over all its versions in the lake's ODS
layer (an old phone still links the person who changed it).

The ODS holds thousands of small partition files, so the values are kept in a cache beside the
identity model, each row tagged with the file it came from, and a manifest of each file's size and
modification time: a run reads only the files that are new or were replaced since the last one. A
missing or unreadable cache is simply rebuilt from every file.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.identity.rules import IdentityRules
from newretail.lake import Lake
from newretail.lake.storage import replacing

IDENTITY_TABLE = "identity_records"
_CACHE = "versions.parquet"
_MANIFEST = "versions.json"


def version_identifiers(lake: Lake, cache_dir: Path, rules: IdentityRules) -> Path:
    """A Parquet file of (source, source_record_id, one column per identifier, file) for every ODS
    version row that carries an identifier, brought up to date with the ODS first."""
    columns = [rule.column for rule in rules.identifiers]
    current = {str(path): _stamp(path) for path in lake.files("ods", IDENTITY_TABLE)}
    manifest = _read_manifest(cache_dir)
    unchanged = {
        name: int(str(entry["id"]))
        for name, entry in manifest.items()
        if current.get(name) == entry["stamp"]
    }
    cache = cache_dir / _CACHE
    if len(unchanged) == len(manifest) == len(current) and _readable(cache, columns):
        return cache
    cached = _read_cache(cache, columns)
    if cached is None:
        unchanged = {}
        cached = _schema(columns).empty_table()
    kept = cached.filter(pc.is_in(cached["file"], value_set=pa.array(list(unchanged.values()))))
    # Never an id the manifest gave another file: rows of a replaced file must not pass as new.
    next_id = max((int(str(entry["id"])) for entry in manifest.values()), default=-1) + 1
    new_files = {name: next_id + i for i, name in enumerate(sorted(set(current) - set(unchanged)))}
    table = pa.concat_tables([kept, _read_files(new_files, columns)])
    entries = {
        name: {"id": i, "stamp": current[name]} for name, i in {**unchanged, **new_files}.items()
    }
    _write_cache(cache_dir, table, entries)
    return cache


def read_version_files(files: list[Path], rules: IdentityRules) -> pa.Table:
    """The identifier-carrying rows of these ODS files, without a cache."""
    columns = [rule.column for rule in rules.identifiers]
    numbered = {str(path): i for i, path in enumerate(files)}
    return _read_files(numbered, columns).drop_columns(["file"])


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def _schema(columns: list[str]) -> pa.Schema:
    names = ("source", "source_record_id", *columns)
    return pa.schema([pa.field("file", pa.int32())] + [pa.field(n, pa.string()) for n in names])


def _read_manifest(cache_dir: Path) -> dict[str, dict[str, object]]:
    try:
        manifest = json.loads((cache_dir / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _readable(cache: Path, columns: list[str]) -> bool:
    try:
        return pq.read_schema(cache) == _schema(columns)
    except (OSError, pa.ArrowInvalid):
        return False


def _read_cache(cache: Path, columns: list[str]) -> pa.Table | None:
    """The cached rows, or None when the cache is missing, unreadable or of other columns."""
    if not _readable(cache, columns):
        return None
    return pq.read_table(cache)


def _read_files(files: dict[str, int], columns: list[str]) -> pa.Table:
    """Rows of ``files`` (path -> id) that carry an identifier, tagged with their file's id."""
    if not files:
        return _schema(columns).empty_table()
    present = " OR ".join(f"{column} IS NOT NULL" for column in columns)
    picked = ", ".join(f"{column}::VARCHAR AS {column}" for column in columns)
    db = duckdb.connect()
    db.register(
        "ids",
        pa.table({"filename": list(files), "file": pa.array(list(files.values()), pa.int32())}),
    )
    table: pa.Table = db.sql(
        f"""
        SELECT ids.file, source, source_record_id, {picked}
        FROM read_parquet({list(files)!r}, hive_partitioning = true, union_by_name = true,
                          filename = true) JOIN ids USING (filename)
        WHERE {present}
        """
    ).to_arrow_table()
    db.close()
    return table.cast(_schema(columns))


def _write_cache(cache_dir: Path, table: pa.Table, manifest: dict[str, dict[str, object]]) -> None:
    """The table first, then the manifest, each replaced by rename: a crash in between leaves the
    old manifest, whose files' rows the new table still holds, and new rows it does not name,
    which the next run drops and reads again."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with replacing(cache_dir / _CACHE, suffix=".parquet") as handle:
        pq.write_table(table, handle, compression="zstd")
    with replacing(cache_dir / _MANIFEST, suffix=".json") as handle:
        handle.write(json.dumps(manifest).encode())
