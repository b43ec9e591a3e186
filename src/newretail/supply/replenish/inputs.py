"""What a replenishment proposal is computed from (stock, forecast, ordering terms), checked item by
item so a bad value is reported with the location and material it belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from newretail.errors import InvalidInput

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class StockPosition:
    """Stock per location × material in base units.

    ``on_hand`` (S, M) is what is on the shelf after tonight's expiry; ``in_transit`` (S, M, K) holds
    what arrives on the morning of day t+1+k.
    """

    on_hand: ArrayLike
    in_transit: ArrayLike


@dataclass(frozen=True)
class DemandForecast:
    """Material demand per location in base units, ``mean`` and ``sigma`` (S, M, H) for days t+1+h."""

    mean: ArrayLike
    sigma: ArrayLike


@dataclass(frozen=True)
class OrderTerms:
    """How a location orders a material: lead days (S,) or (S, M) >= 1; per material (M,) the review
    period in days >= 1, pack size in base units > 0, minimum order in packs >= 0, shelf life in days
    >= 1 (a lot received on day r is usable on days r .. r+shelf-1)."""

    lead_days: ArrayLike
    review_days: ArrayLike
    pack_size: ArrayLike
    min_order_packs: ArrayLike
    shelf_life_days: ArrayLike


@dataclass(frozen=True)
class Checked:
    """The inputs as arrays, validated; ``lead`` broadcast to (S, M)."""

    on_hand: Ints
    in_transit: Ints
    mean: Floats
    sigma: Floats
    lead: Ints
    review: Ints
    pack: Ints
    min_packs: Ints
    shelf: Ints
    location_ids: tuple[str, ...]
    material_ids: tuple[str, ...]


def check(
    stock: StockPosition,
    forecast: DemandForecast,
    terms: OrderTerms,
    *,
    location_ids: Sequence[str] | None,
    material_ids: Sequence[str] | None,
) -> Checked:
    """Arrays of the right shapes and ranges, or :class:`InvalidInput` naming the first bad item."""
    on_hand_raw = np.asarray(stock.on_hand)
    if on_hand_raw.ndim != 2:
        raise InvalidInput(
            "supply.bad_shape",
            f"on hand must be (locations, materials), got shape {on_hand_raw.shape}",
            field="on_hand",
        )
    n_loc, n_mat = on_hand_raw.shape
    names = _Names(
        _ids(location_ids, n_loc, "location", "location_ids"),
        _ids(material_ids, n_mat, "material", "material_ids"),
    )
    grid = (n_loc, n_mat)
    transit_raw = np.asarray(stock.in_transit)
    mean_raw = np.asarray(forecast.mean)
    horizon = (*grid, _depth(mean_raw))
    lead_raw = np.asarray(terms.lead_days)
    lead_axes = _GRID if lead_raw.ndim == 2 else _LOC
    lead = names.whole(lead_raw, lead_axes, "lead_days", "lead time", 1)
    return Checked(
        on_hand=names.whole(on_hand_raw, _GRID, "on_hand", "stock on hand", 0),
        in_transit=names.whole(
            transit_raw, _GRID, "in_transit", "stock in transit", 0, depth=_depth(transit_raw)
        ),
        mean=names.forecast(mean_raw, horizon, "forecast_mean"),
        sigma=names.forecast(forecast.sigma, horizon, "forecast_sigma"),
        lead=np.broadcast_to(lead.reshape(n_loc, -1), grid).copy(),
        review=names.whole(terms.review_days, _MAT, "review_days", "review period", 1),
        pack=names.whole(terms.pack_size, _MAT, "pack_size", "pack size", 1),
        min_packs=names.whole(terms.min_order_packs, _MAT, "min_order_packs", "minimum order", 0),
        shelf=names.whole(terms.shelf_life_days, _MAT, "shelf_life_days", "shelf life", 1),
        location_ids=names.locations,
        material_ids=names.materials,
    )


_LOC, _MAT, _GRID = ("location",), ("material",), ("location", "material")


@dataclass(frozen=True)
class _Names:
    """Checks arrays whose leading axes are locations and/or materials, naming a bad item by its ids."""

    locations: tuple[str, ...]
    materials: tuple[str, ...]

    def shape(self, axes: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(len(self.locations if a == "location" else self.materials) for a in axes)

    def item(self, axes: tuple[str, ...], at: tuple[int, ...]) -> str:
        return ", ".join(
            f"{a} {(self.locations if a == 'location' else self.materials)[i]}"
            for a, i in zip(axes, at, strict=False)
        )

    def whole(
        self,
        values: ArrayLike,
        axes: tuple[str, ...],
        field: str,
        label: str,
        minimum: int,
        *,
        depth: int | None = None,
    ) -> Ints:
        """Whole numbers >= ``minimum``; NaN (and a zero pack size) count as missing."""
        shape = self.shape(axes) + (() if depth is None else (depth,))
        array = _shaped(values, shape, field)
        missing = ~np.isfinite(array)
        if field == "pack_size":
            missing |= array == 0
        bad = ~missing & ((array < minimum) | (array != np.round(array)))
        for mask, code, why in (
            (missing, f"supply.missing_{field}", "missing"),
            (bad, f"supply.invalid_{field}", f"not a whole number >= {minimum}"),
        ):
            if mask.any():
                at = tuple(int(i) for i in np.argwhere(mask)[0])
                shown = "" if why == "missing" else f" (got {array[at]:g})"
                raise InvalidInput(
                    code, f"{label} {why} for {self.item(axes, at)}{shown}", field=field
                )
        return array.astype(np.int64)

    def forecast(self, values: ArrayLike, shape: tuple[int, ...], field: str) -> Floats:
        """Finite numbers >= 0 of shape (S, M, H)."""
        array = _shaped(values, shape, field)
        bad = ~np.isfinite(array) | (array < 0)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InvalidInput(
                "supply.invalid_forecast",
                f"{field} is {array[at]:g} for {self.item(_GRID, at)} on day +{at[2] + 1}; "
                "expected a number >= 0",
                field=field,
            )
        return array


def _ids(given: Sequence[str] | None, n: int, kind: str, field: str) -> tuple[str, ...]:
    if given is None:
        return tuple(f"#{i}" for i in range(n))
    if len(given) != n:
        raise InvalidInput(
            "supply.bad_shape", f"{len(given)} {kind} ids for {n} {kind}s", field=field
        )
    return tuple(str(i) for i in given)


def _depth(array: NDArray[np.generic]) -> int:
    """The length of a third axis, or -1 (a shape no array matches) when there is none."""
    return int(array.shape[2]) if array.ndim == 3 else -1


def _shaped(values: ArrayLike, shape: tuple[int, ...], field: str) -> Floats:
    array = np.asarray(values)
    if array.shape != shape or array.dtype.kind not in "biuf":
        wanted = ", ".join("any" if n < 0 else str(n) for n in shape)
        raise InvalidInput(
            "supply.bad_shape",
            f"{field} must be numbers of shape ({wanted}), got {array.dtype} {array.shape}",
            field=field,
        )
    return array.astype(np.float64)
