"""Ordering policies the simulation replays: what a store sees each evening and the packs it orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from newretail.supply.replenish import DemandForecast, OrderTerms, StockPosition, propose

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class StoreState:
    """What the stores know at the close of ``day`` (after expiry), all in base units.

    ``on_hand`` (S, M); ``in_transit`` (S, M, K) arriving on the morning of day+1+k;
    ``consumption`` (day+1, S, M) used on days 0 .. day (sales as served, never the true demand);
    ``terms`` the ordering terms with ``lead_days`` (S,). Arrays are read-only views.
    """

    day: int
    on_hand: Ints
    in_transit: Ints
    consumption: Ints
    terms: OrderTerms


class Policy(Protocol):
    def order(self, day: int, state: StoreState) -> Ints:
        """Packs (S, M) ordered at the close of ``day``; they arrive on day + lead."""
        ...


class ForecastProvider(Protocol):
    def __call__(self, day: int) -> tuple[Floats, Floats]:
        """Material demand mean and sigma (S, M, H) for days day+1 .. day+H."""
        ...


def reviewed(day: int, terms: OrderTerms) -> NDArray[np.bool_]:
    """Materials (M,) reviewed at the close of ``day``: those whose review period divides the day."""
    return np.asarray(day % np.asarray(terms.review_days) == 0)


@dataclass(frozen=True)
class OrderUpToLastWeek:
    """The obvious policy: on a review day, order whole packs to bring the position up to last week's use.

    For each store × material reviewed today: level = consumption over the last ``window_days`` days
    (days day-6 .. day; while fewer days have passed, the mean daily consumption so far times
    ``window_days``, rounded up); position = on hand + everything in transit; order
    ceil(max(0, level - position) / pack) packs, raised to the minimum order when positive and below
    it. It ignores lead time, shelf life and weekday patterns, as a busy store manager would.
    """

    window_days: int = 7

    def order(self, day: int, state: StoreState) -> Ints:
        history = state.consumption[-self.window_days :]
        used = history.sum(axis=0)
        level = -(-used * self.window_days // len(history))
        position = state.on_hand + state.in_transit.sum(axis=2)
        pack = np.asarray(state.terms.pack_size, dtype=np.int64)
        minimum = np.asarray(state.terms.min_order_packs, dtype=np.int64)
        packs = -(-np.maximum(0, level - position) // pack)
        packs = np.where((packs > 0) & (packs < minimum), minimum, packs)
        return np.where(reviewed(day, state.terms), packs, 0).astype(np.int64)


@dataclass(frozen=True)
class ForecastDriven:
    """On a review day, order what :func:`newretail.supply.replenish.propose` proposes from forecasts.

    ``forecasts(day)`` gives material demand for days day+1 .. day+H; materials not reviewed today
    get no order.
    """

    forecasts: ForecastProvider
    service_level: float

    def order(self, day: int, state: StoreState) -> Ints:
        mean, sigma = self.forecasts(day)
        proposal = propose(
            StockPosition(on_hand=state.on_hand, in_transit=state.in_transit),
            DemandForecast(mean=mean, sigma=sigma),
            state.terms,
            service_level=self.service_level,
        )
        return np.where(reviewed(day, state.terms), proposal.packs, 0).astype(np.int64)
