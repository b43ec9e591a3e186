"""Dense ids: the small integer each person or store key has in bitmaps, the same on every refresh.

An id is handed out once, in order of first appearance, and never reused, not even after an erasure
forgets its key (the slot keeps a null tombstone), so an id always names the same person or store.
"""

from __future__ import annotations

import array
from pathlib import Path
from typing import Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyroaring import AbstractBitMap, BitMap

from newretail.lake.storage import replacing

Ids = npt.NDArray[np.uint32]
Keys: TypeAlias = "pa.Array[Any] | pa.ChunkedArray[Any]"

# Ids are positions Arrow's index_in answers as int32 (bitmaps would take 2^32);
# large_string so 50M+ long keys never reach string's 2 GiB of offsets.
MAX_IDS = 2**31 - 1
_KEY_TYPE = pa.large_string()
_COLUMN = "key"


def to_bitmap(ids: npt.NDArray[np.integer]) -> BitMap:
    """A bitmap of an array of ids; sorted input builds fastest.

    pyroaring reads an ``array.array('I')`` several times faster than a numpy array it iterates.
    """
    packed = array.array("I")
    packed.frombytes(np.ascontiguousarray(ids, dtype=np.uint32).data.cast("B"))
    return BitMap(packed)


def to_ids(bitmap: AbstractBitMap) -> Ids:
    """The ids of a bitmap as a uint32 array, ascending."""
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


class DenseIds:
    """The key ↔ id mapping of one entity: ``assign`` grows it, ``forget`` tombstones keys.

    >>> dense = DenseIds.empty()
    >>> dense.assign(pa.array(["p2", "p1", "p2"])).tolist()
    [0, 1, 0]
    >>> dense.assign(pa.array(["p3", "p1"])).tolist()
    [2, 1]
    """

    def __init__(self, keys: pa.Array[Any]) -> None:
        # Position is the id; a null is a forgotten key.
        self._keys = keys.cast(_KEY_TYPE)

    @classmethod
    def empty(cls) -> DenseIds:
        return cls(pa.array([], type=_KEY_TYPE))

    @classmethod
    def load(cls, path: Path) -> DenseIds:
        """The mapping saved at ``path``, or an empty one when there is no file yet."""
        if not path.exists():
            return cls.empty()
        column = pq.read_table(path, columns=[_COLUMN]).column(_COLUMN)
        return cls(column.combine_chunks())

    def save(self, path: Path) -> None:
        """Write the mapping to ``path`` atomically (a reader sees the old file or the new one)."""
        with replacing(path, suffix=".parquet") as handle:
            pq.write_table(pa.table({_COLUMN: self._keys}), handle, compression="zstd")

    def __len__(self) -> int:
        """Keys currently mapped (forgotten ones excluded)."""
        return len(self._keys) - self._keys.null_count

    @property
    def next_id(self) -> int:
        """The id the next new key gets: every id below it has been handed out."""
        return len(self._keys)

    def assign(self, keys: Keys) -> Ids:
        """The id of each key; keys never seen (or forgotten) get the next ids, in order of first
        appearance. Null keys are refused."""
        values = _strings(keys)
        found = self._find(values)
        ids = found.fill_null(0).to_numpy(zero_copy_only=False).astype(np.uint32)
        unknown = found.is_null()
        if not pc.any(unknown).as_py():
            return ids
        # One hash pass gives the new keys in order of first appearance (Arrow's memo table
        # appends in input order) and each row's position among them.
        fresh = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(values.filter(unknown)))
        start = self.next_id
        if start + len(fresh.dictionary) > MAX_IDS:
            raise OverflowError(f"{start} ids + {len(fresh.dictionary)} new keys exceed {MAX_IDS}")
        self._keys = pa.concat_arrays([self._keys, fresh.dictionary])
        offsets = fresh.indices.to_numpy(zero_copy_only=False).astype(np.uint32)
        ids[unknown.to_numpy(zero_copy_only=False)] = offsets + np.uint32(start)
        return ids

    def lookup(self, keys: Keys) -> pa.Array[Any]:
        """The id of each key as a uint32 array, null for keys without one; nothing is assigned."""
        return self._find(_strings(keys)).cast(pa.uint32())

    def keys_of(self, ids: Ids | AbstractBitMap) -> pa.Array[Any]:
        """The key of each id, aligned with ``ids``: null where the key was forgotten."""
        positions = to_ids(ids) if isinstance(ids, AbstractBitMap) else np.asarray(ids)
        if positions.size and int(positions.max()) >= self.next_id:
            raise IndexError(
                f"id {int(positions.max())} was never assigned (next is {self.next_id})"
            )
        return self._keys.take(pa.array(positions, type=pa.uint32()))

    def forget(self, keys: Keys) -> BitMap:
        """Erase keys (a person's right to erasure): their ids stay taken but name no one.

        Returns the ids forgotten; keys not mapped are ignored.
        """
        gone = to_bitmap(np.unique(self._find(_strings(keys)).drop_null().to_numpy()))
        if gone:
            mask = np.zeros(self.next_id, dtype=bool)
            mask[to_ids(gone)] = True
            self._keys = pc.if_else(pa.array(mask), pa.scalar(None, _KEY_TYPE), self._keys)
        return gone

    def _find(self, values: pa.Array[Any]) -> pa.Array[Any]:
        """Each key's id (its position in the map), null if it has none."""
        if len(values) * 8 < len(self._keys):
            # A few keys against a large map: hash the few and scan the map once, rather than
            # hash 10M keys to look up a handful (2 s -> 0.1 s).
            hits = pc.is_in(self._keys, value_set=values).to_numpy(zero_copy_only=False)
            positions = pa.array(np.flatnonzero(hits), pa.int64())
            return positions.take(pc.index_in(values, value_set=self._keys.take(positions)))
        return pc.index_in(values, value_set=self._keys, skip_nulls=True)


def _strings(keys: Keys) -> pa.Array[Any]:
    values = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if values.null_count:
        raise ValueError(f"{values.null_count} null keys: every person or store needs a key")
    return values.cast(_KEY_TYPE)
