"""Vectorised text formatting for source files: ids, money in major units, timestamps and dates."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as _pc

from newretail.model.spec import TIMESTAMP

# pyarrow-stubs cannot type element-wise kernels that mix arrays and str scalars, so columns
# built here are typed loosely; the tests check their content.
Column: TypeAlias = Any
pc: Any = _pc

_B36 = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_B62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-", dtype=np.uint8
)


def idx(values: np.ndarray) -> Column:
    """An Arrow index array (for ``take``) from any integer-like numpy array."""
    return pa.array(np.asarray(values, dtype=np.int64))


def ids(prefix: str, numbers: np.ndarray, width: int) -> Column:
    """``prefix`` + zero-padded decimal numbers: ids("S", [1], 4) -> "S0001"."""
    text = pc.utf8_lpad(pa.array(numbers.astype(np.int64)).cast(pa.string()), width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def tokens(prefix: str, numbers: np.ndarray, width: int, *, alphabet: str = "b36") -> Column:
    """Opaque fixed-width tokens (openids, unionids, device ids) hashed from distinct integers."""
    table = _B36 if alphabet == "b36" else _B62
    base = np.uint64(len(table))
    out = np.empty((len(numbers), width), dtype=np.uint8)
    for position in range(width):
        digest = scramble(numbers, 1_000 + position)
        out[:, position] = table[(digest % base).astype(np.intp)]
    raw = pa.array(out.view(f"S{width}").ravel(), pa.binary()).cast(pa.string())
    return pc.binary_join_element_wise(prefix, raw, "")


def scramble(numbers: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic 64-bit mix (splitmix64) so sequential ids look random but stay unique."""
    with np.errstate(over="ignore"):
        z = numbers.astype(np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def money(minor: np.ndarray) -> Column:
    """Minor units as a major-unit decimal with two places: 1850 -> "18.50"."""
    minor = minor.astype(np.int64)
    major = pa.array(minor // 100).cast(pa.string())
    cents = pc.utf8_lpad(pa.array(minor % 100).cast(pa.string()), 2, padding="0")
    return pc.binary_join_element_wise(major, cents, ".")


def nullable(values: Column, mask: np.ndarray) -> Column:
    """``values`` with nulls where ``mask`` is false."""
    return pc.if_else(pa.array(mask), values, pa.nulls(len(values), values.type))


def _stamp(epoch_s: np.ndarray) -> Column:
    return pa.array(epoch_s.astype("datetime64[s]"), pa.timestamp("s"))


def local_time(epoch_s: np.ndarray, offset_s: np.ndarray | int) -> Column:
    """Naive local "YYYY-MM-DD HH:MM:SS" for a UTC instant and a UTC offset in seconds."""
    return pc.strftime(_stamp(epoch_s + offset_s), format="%Y-%m-%d %H:%M:%S")


def iso_utc(epoch_s: np.ndarray) -> Column:
    """ISO 8601 in UTC with a Z: "2026-01-03T01:02:03Z"."""
    return pc.strftime(_stamp(epoch_s), format="%Y-%m-%dT%H:%M:%SZ")


def iso_offset(epoch_s: np.ndarray, offset_s: int) -> Column:
    """ISO 8601 with the local offset: "2026-01-03 09:02:03+08:00" (offset whole hours)."""
    hours = offset_s // 3600
    suffix = f"+{hours:02d}:00" if hours >= 0 else f"-{-hours:02d}:00"
    text = pc.strftime(_stamp(epoch_s + offset_s), format="%Y-%m-%d %H:%M:%S")
    return pc.binary_join_element_wise(text, suffix, "")


def epoch_ms(epoch_s: np.ndarray) -> Column:
    return pa.array(epoch_s.astype(np.int64) * 1000)


def dates(epoch_days: np.ndarray, fmt: str = "%Y-%m-%d") -> Column:
    """Dates (days since 1970-01-01) as text."""
    return pc.strftime(
        pa.array(epoch_days.astype("datetime64[D]").astype("datetime64[s]"), pa.timestamp("s")),
        format=fmt,
    )


def utc_timestamps(epoch_s: np.ndarray) -> Column:
    """Canonical timestamps for the truth files."""
    return pa.array(epoch_s.astype("datetime64[s]")).cast(TIMESTAMP)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(prefix: str, numbers: np.ndarray, salt: int) -> Column:
    """``prefix`` + 16 hex digits of a bijective mix: distinct numbers, distinct ids, random-looking."""
    digest = scramble(numbers, salt)
    out = np.empty((len(numbers), 16), dtype=np.uint8)
    for position in range(16):
        shift = np.uint64(4 * (15 - position))
        out[:, position] = _HEX[((digest >> shift) & np.uint64(15)).astype(np.intp)]
    raw = pa.array(out.view("S16").ravel(), pa.binary()).cast(pa.string())
    return pc.binary_join_element_wise(prefix, raw, "")
