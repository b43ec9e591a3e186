"""Record framing for the embedded log: a length and a CRC-32 before each payload, so a torn tail shows."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence

_HEADER = struct.Struct("<II")  # payload length, CRC-32 of the payload
HEADER_SIZE = _HEADER.size
# Far above the 32 KB event limit; a larger length can only be garbage from a torn write.
MAX_RECORD = 1 << 20


def encode(payloads: Sequence[bytes]) -> tuple[bytes, list[int]]:
    """The framed bytes for ``payloads`` and each record's start within them."""
    parts: list[bytes] = []
    starts: list[int] = []
    position = 0
    for payload in payloads:
        if len(payload) > MAX_RECORD:
            raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_RECORD}")
        starts.append(position)
        parts.append(_HEADER.pack(len(payload), zlib.crc32(payload)))
        parts.append(payload)
        position += HEADER_SIZE + len(payload)
    return b"".join(parts), starts


def decode(data: bytes, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """``(position, payload)`` of each whole, intact record from ``start``; stops at the first bad one."""
    position = start
    end = len(data)
    while position + HEADER_SIZE <= end:
        length, crc = _HEADER.unpack_from(data, position)
        body_start = position + HEADER_SIZE
        if length > MAX_RECORD or body_start + length > end:
            return
        payload = data[body_start : body_start + length]
        if zlib.crc32(payload) != crc:
            return
        yield position, payload
        position = body_start + length


def valid_end(data: bytes) -> int:
    """Where the intact records of ``data`` end (a torn tail starts here)."""
    end = 0
    for position, payload in decode(data):
        end = position + HEADER_SIZE + len(payload)
    return end
