"""Real-time tag signals on Redis: one native bitmap per signal and UTC day, bit n = dense id n.

Keys ``<prefix>rtag:<signal>:<YYYY-MM-DD>`` expire ``keep_days + 1`` days after their last change (a
TTL, not a time derived from their day: a replayed twin's past days live as long as today's).
A batch of changes is one MULTI/EXEC of ``BITFIELD key SET u1 <id> 1|0 ...`` commands (the bits
``SETBIT`` sets, many per command). A read is one GET (MGET for several days) of the whole bitmap,
a bitmap of 10M persons being 1.25 MB, turned into a pyroaring BitMap with numpy
(:func:`bits_to_bitmap`).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from newretail.stream.redis_conn import unavailable_on_error
from newretail.tags.dense_ids import to_ids
from newretail.tags.realtime_store import KEEP_DAYS, Change, RealtimeTagStore

if TYPE_CHECKING:
    from redis import Redis

_PER_COMMAND = 4_096  # ids per BITFIELD command: one reply stays small
# Roaring's portable serialization: a container per 65,536 values (8 KiB of bits); one of at most
# 4,096 values is an array, a fuller one a bitset; the cookie of a bitmap without run containers.
_CHUNK = 8_192
_ARRAY_MAX = 4_096
_NO_RUNS = 12_346
_REVERSED = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], dtype=np.uint8)


def bits_to_bitmap(data: bytes | None) -> BitMap:
    """The ids of the set bits of a Redis bitmap (bit 0 is the first byte's most significant bit).

    Written straight into roaring's portable format, one container per 65,536 bits: a chunk with
    more than 4,096 bits set is a bitset container, its bytes bit-reversed and copied; a sparser
    one an array of its values, found by unpacking only its non-zero bytes. A 10M-bit bitmap
    converts in a few milliseconds however many bits are set.

    >>> list(bits_to_bitmap(bytes([0b1000_0001, 0, 0b0100_0000])))
    [0, 7, 17]
    """
    if not data:
        return BitMap()
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) % _CHUNK:
        raw = np.concatenate([raw, np.zeros(-len(raw) % _CHUNK, dtype=np.uint8)])
    chunks = raw.reshape(-1, _CHUNK)
    cards = np.bitwise_count(chunks.view(np.uint64)).sum(axis=1, dtype=np.int64)
    keys = np.flatnonzero(cards)
    if not keys.size:
        return BitMap()
    cards = cards[keys]
    dense = cards > _ARRAY_MAX
    values = _values(chunks[keys[~dense]])
    bodies: list[bytes] = []
    start = 0
    for key, card, is_dense in zip(keys.tolist(), cards.tolist(), dense.tolist(), strict=True):
        if is_dense:
            bodies.append(_REVERSED[chunks[key]].tobytes())
        else:
            bodies.append(values[start : start + card].tobytes())
            start += card
    count = len(keys)
    sizes = np.array([len(body) for body in bodies], dtype=np.int64)
    offsets = 8 + 8 * count + np.cumsum(sizes) - sizes
    described = np.empty((count, 2), dtype="<u2")
    described[:, 0], described[:, 1] = keys, cards - 1
    header = struct.pack("<II", _NO_RUNS, count) + described.tobytes()
    return BitMap.deserialize(header + offsets.astype("<u4").tobytes() + b"".join(bodies))


def _values(chunks: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint16]:
    """The set bits of each chunk (a row) as values within it, chunk after chunk, ascending."""
    flat = chunks.reshape(-1)
    nonzero = np.flatnonzero(flat)
    bits = np.flatnonzero(np.unpackbits(flat[nonzero]))
    values: npt.NDArray[np.uint16] = ((nonzero[bits >> 3] << 3 | (bits & 7)) & 0xFFFF).astype("<u2")
    return values


class RedisTagStore(RealtimeTagStore):
    """The Redis twin; ``client`` must not decode responses (bitmaps are bytes)."""

    def __init__(
        self, client: Redis, *, prefix: str = "newretail:", keep_days: int = KEEP_DAYS
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self.keep_days = keep_days

    def key(self, signal: str, day: dt.date) -> str:
        return f"{self._prefix}rtag:{signal}:{day.isoformat()}"

    def apply(self, changes: Sequence[Change]) -> None:
        if not any(change.ids for change in changes):
            return
        with unavailable_on_error("realtime tags"):
            pipe = self._redis.pipeline(transaction=True)
            for change in changes:
                if not change.ids:
                    continue
                key = self.key(change.signal, change.day)
                ids = to_ids(change.ids)
                value = 1 if change.value else 0
                for start in range(0, len(ids), _PER_COMMAND):
                    command = pipe.bitfield(key)
                    for offset in ids[start : start + _PER_COMMAND].tolist():
                        command.set("u1", offset, value)
                    command.execute()  # queued in the transaction
                pipe.expire(key, (self.keep_days + 1) * 86_400)
            pipe.execute()

    def bitmap(self, signal: str, day: dt.date) -> BitMap:
        with unavailable_on_error("realtime tags"):
            data = cast("bytes | None", self._redis.get(self.key(signal, day)))
        return bits_to_bitmap(data)

    def bitmaps(self, signal: str, days: Iterable[dt.date]) -> list[BitMap]:
        keys = [self.key(signal, day) for day in days]
        if not keys:
            return []
        with unavailable_on_error("realtime tags"):
            found = cast("list[bytes | None]", self._redis.mget(keys))
        return [bits_to_bitmap(data) for data in found]

    def close(self) -> None:
        self._redis.close()
