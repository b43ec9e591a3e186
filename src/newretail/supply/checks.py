"""Input checks shared by the supply optimisers (shapes, signs, whole numbers); money rounding."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from newretail.errors import InvalidInput


def amounts(
    values: ArrayLike, shape: tuple[int, ...], *, field: str, minimum: float = 0.0
) -> NDArray[np.float64]:
    """Finite numbers of the given shape, none below ``minimum``."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        raise InvalidInput(
            "supply.bad_shape", f"expected shape {shape}, got {array.shape}", field=field
        )
    bad = ~np.isfinite(array) | (array < minimum)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at {at}" if at else ""
        raise InvalidInput(
            "supply.bad_value", f"{array[at]}{where} is not a number >= {minimum:g}", field=field
        )
    return array


def quantities(
    values: ArrayLike, shape: tuple[int, ...], *, field: str, minimum: int = 0
) -> NDArray[np.int64]:
    """Whole numbers (base units, packs, minor units) of the given shape, none below ``minimum``."""
    array = amounts(values, shape, field=field, minimum=minimum)
    fractional = array != np.round(array)
    if fractional.any():
        at = tuple(int(i) for i in np.argwhere(fractional)[0])
        where = f" at {at}" if at else ""
        raise InvalidInput(
            "supply.bad_value", f"{array[at]}{where} is not a whole number", field=field
        )
    return array.astype(np.int64)


def minor_units(value: Fraction) -> int:
    """An exact amount of money rounded half up to a whole minor unit."""
    return math.floor(value + Fraction(1, 2))
