"""Tag index snapshots on disk: one immutable directory per refresh, published by swapping CURRENT.

Layout under ``<root>/<entity>/``: ``v000007/bitmaps.bin`` (every bitmap serialized back to back),
``v000007/manifest.json`` (where each one is, and the tags' specs and summaries), ``CURRENT`` (the
published version number) and ``dense_ids.parquet``, shared by all versions: ids only grow, so the
newest key map names every id of every older version. Opening maps ``bitmaps.bin`` and reads only
the manifest; a bitmap is deserialized the first time a query needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import mmap
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from pyroaring import BitMap

from newretail.errors import NewRetailError, NotFound
from newretail.lake.storage import replacing
from newretail.tags.dense_ids import DenseIds
from newretail.tags.index import TagIndex, TagLayout
from newretail.tags.spec import Entity, TagSpec

FORMAT = 1
KEEP = 3  # versions kept: the current one and two a slow reader may still be opening
DATA_FILE = "bitmaps.bin"
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
DENSE_FILE = "dense_ids.parquet"
_TMP_PREFIX = ".tmp-"
_VERSION = re.compile(r"v(\d{6,})")


class SnapshotNotFound(NotFound):
    """No snapshot (or not the asked-for version) has been written for the entity."""

    def __init__(self, entity: Entity, version: int | None = None) -> None:
        what = f"version {version} of the {entity} tags" if version else f"{entity} tags"
        super().__init__(
            "tags.snapshot_missing",
            f"no snapshot of {what}: run `newretail tags refresh`",
            field=entity,
        )


def current_version(root: Path, entity: Entity) -> int | None:
    """The published version of the entity's tags, None before the first snapshot."""
    try:
        return int((root / entity / CURRENT).read_text(encoding="ascii"))
    except FileNotFoundError:
        return None


def write_snapshot(root: Path, index: TagIndex, *, dense: DenseIds) -> int:
    """Write ``index`` as the entity's next version, publish it and prune old ones; its number.

    Readers see the previous version until CURRENT is swapped; a failure leaves no visible trace.
    """
    universe = index.store[index.universe_ref]
    if universe and universe.max() >= dense.next_id:
        raise ValueError(
            "the dense ids do not cover the index: pass the DenseIds it was built with"
        )
    home = root / index.entity
    home.mkdir(parents=True, exist_ok=True)
    with _writer_lock(home):
        # Saved first: a version must never name an id the key map on disk lacks.
        dense.save(home / DENSE_FILE)
        version = max(_versions(home), default=0) + 1
        staging = home / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            spans, size = _write_bitmaps(staging / DATA_FILE, index)
            _write_manifest(staging / MANIFEST, _manifest(index, spans, size))
            _fsync(staging)
            staging.rename(home / _dirname(version))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync(home)
        with replacing(home / CURRENT, suffix=".txt") as handle:
            handle.write(f"{version}\n".encode("ascii"))
        _prune(home, keep=KEEP, current=version)
    index.mark_saved(version)
    return version


def load_snapshot(root: Path, entity: Entity, version: int | None = None) -> TagIndex:
    """Open a version of the entity's tags (CURRENT's when None); SnapshotNotFound if none."""
    number = current_version(root, entity) if version is None else version
    if number is None:
        raise SnapshotNotFound(entity)
    folder = root / entity / _dirname(number)
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise SnapshotNotFound(entity, number) from None
    if manifest["format"] != FORMAT or manifest["entity"] != entity:
        raise NewRetailError("tags.snapshot_format", f"{folder} is not a format {FORMAT} snapshot")
    spans: list[tuple[int, int]] = []
    refs: dict[int, int] = {}  # offset -> bitmap number: a bitmap tags share is stored once

    def ref(span: Mapping[str, int]) -> int:
        if span["offset"] not in refs:
            refs[span["offset"]] = len(spans)
            spans.append((span["offset"], span["length"]))
        return refs[span["offset"]]

    universe = ref(manifest["universe"])
    tags = {tag["spec"]["id"]: _layout(tag, ref) for tag in manifest["tags"]}
    return TagIndex(
        entity=entity,
        as_of=dt.date.fromisoformat(manifest["as_of"]),
        row_count=manifest["row_count"],
        universe=universe,
        tags=tags,
        store=MappedBitmaps(folder / DATA_FILE, spans, size=manifest["data_bytes"]),
        dense=root / entity / DENSE_FILE,
        version=number,
    )


class MappedBitmaps:
    """Bitmaps read from a mapped data file, each deserialized on first use and then kept.

    Deleting the file (pruning) does not disturb a process that mapped it: on Linux an unlinked
    file's pages stay readable until the last mapping goes, so a worker finishes on its version.
    Two threads asking for the same bitmap at once may both deserialize it; either copy is right.
    """

    def __init__(self, path: Path, spans: list[tuple[int, int]], *, size: int) -> None:
        with path.open("rb") as handle:
            actual = os.fstat(handle.fileno()).st_size
            if actual != size:
                raise NewRetailError(
                    "tags.snapshot_corrupt", f"{path} has {actual} bytes, not {size}"
                )
            # mmap keeps its own descriptor: closing the file leaves the mapping valid.
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._view = memoryview(mapped)
        self._spans = spans
        self._cache: list[BitMap | None] = [None] * len(spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __getitem__(self, ref: int, /) -> BitMap:
        bitmap = self._cache[ref]
        if bitmap is None:
            offset, length = self._spans[ref]
            # pyroaring reads any buffer (a slice of the map is not copied); its typing asks for bytes.
            bitmap = BitMap.deserialize(cast(bytes, self._view[offset : offset + length]))
            self._cache[ref] = bitmap
        return bitmap


# -- writing -------------------------------------------------------------------------------------
def _write_bitmaps(path: Path, index: TagIndex) -> tuple[list[dict[str, int]], int]:
    spans, offset = [], 0
    with path.open("wb") as handle:
        for ref in range(len(index.store)):
            data = index.store[ref].serialize()
            handle.write(data)
            spans.append({"offset": offset, "length": len(data)})
            offset += len(data)
        handle.flush()
        os.fsync(handle.fileno())
    return spans, offset


def _manifest(index: TagIndex, spans: list[dict[str, int]], size: int) -> dict[str, Any]:
    tags = []
    for tag_id in index.tag_ids:
        layout = index.layouts[tag_id]
        entry: dict[str, Any] = {
            "spec": dataclasses.asdict(layout.spec),
            "kind": layout.kind,
            "count": layout.count,
            "coverage": index.coverage(tag_id),
            "present": spans[layout.present],
        }
        if layout.kind == "bsi":
            entry["bsi"] = {
                "minimum": layout.minimum,
                "slice_count": len(layout.slices),
                "slices": [spans[ref] for ref in layout.slices],
            }
        if layout.values:
            entry["values"] = {value: spans[ref] for value, ref in layout.values.items()}
        entry["distribution"] = layout.summary
        tags.append(entry)
    return {
        "format": FORMAT,
        "entity": index.entity,
        "as_of": index.as_of.isoformat(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "row_count": index.row_count,
        "data_file": DATA_FILE,
        "data_bytes": size,
        "universe": spans[index.universe_ref],
        "tags": tags,
    }


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with path.open("wb") as handle:
        handle.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def _prune(home: Path, *, keep: int, current: int) -> None:
    for version in sorted(_versions(home))[:-keep]:
        if version != current:
            shutil.rmtree(home / _dirname(version), ignore_errors=True)


@contextlib.contextmanager
def _writer_lock(home: Path) -> Iterator[None]:
    """One writer per entity; on entry, sweep what a killed writer left (never visible to readers)."""
    with (home / ".writer.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            for leftover in home.glob(f"{_TMP_PREFIX}*"):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# -- reading -------------------------------------------------------------------------------------
def _layout(tag: Mapping[str, Any], ref: Callable[[Mapping[str, int]], int]) -> TagLayout:
    spec = TagSpec(**{**tag["spec"], "values": tuple(tag["spec"]["values"])})
    sliced = tag.get("bsi", {})
    return TagLayout(
        spec,
        present=ref(tag["present"]),
        count=tag["count"],
        values={value: ref(span) for value, span in tag.get("values", {}).items()},
        minimum=sliced.get("minimum", 0),
        slices=tuple(ref(span) for span in sliced.get("slices", ())),
        summary=tag["distribution"],
    )


def _versions(home: Path) -> list[int]:
    return [int(m.group(1)) for p in home.iterdir() if (m := _VERSION.fullmatch(p.name))]


def _dirname(version: int) -> str:
    return f"v{version:06d}"


def _fsync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
