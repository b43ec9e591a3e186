"""Named, chunked random streams: every subject and chunk draws from its own SeedSequence child."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, chunk: int = 0) -> np.random.Generator:
    """A generator for one subject (``name``) and chunk (a month, a member block).

    Streams are independent of the order in which they are requested, so adding a subject never
    shifts the numbers another subject draws.
    """
    key = (zlib.crc32(name.encode()), chunk)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
