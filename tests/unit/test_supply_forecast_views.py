"""Summing stores' forecast bands (property tests): one store keeps its own band; several add their
means, and each side of the band is at least the widest store's and at most the stores' widths
added, squared it is their squares added; a band floored at zero stays at or above zero."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.supply.forecast.view_reads import summed_band

DAY = dt.date(2026, 3, 16)
# (mean, down, up) per store, the low edge floored at zero as published bands are.
bands = st.lists(
    st.tuples(
        st.floats(0, 1e4, allow_nan=False),
        st.floats(0, 1e3, allow_nan=False),
        st.floats(0, 1e3, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
)


def rows(stores: list[tuple[float, float, float]], days: int = 1) -> pa.Table:
    return pa.table(
        {
            "business_date": pa.array(
                [DAY + dt.timedelta(days=d) for d in reversed(range(days)) for _ in stores],
                pa.date32(),
            ),
            "mean": [m for _ in range(days) for m, _, _ in stores],
            "lo": [max(m - d, 0.0) for _ in range(days) for m, d, _ in stores],
            "hi": [m + u for _ in range(days) for m, _, u in stores],
        }
    )


@settings(max_examples=60, deadline=None)
@given(bands)
def test_stores_add_their_means_and_their_band_widths_in_quadrature(
    stores: list[tuple[float, float, float]],
) -> None:
    (point,) = summed_band(rows(stores), mean="mean", lo="lo", hi="hi")
    downs = [m - max(m - d, 0.0) for m, d, _ in stores]
    ups = [u for _, _, u in stores]
    total = sum(m for m, _, _ in stores)
    assert point.business_date == DAY
    assert math.isclose(point.mean, total, rel_tol=1e-9, abs_tol=1e-9)
    for side, widths in ((point.mean - point.lo80, downs), (point.hi80 - point.mean, ups)):
        assert max(widths) - 1e-6 <= side <= sum(widths) + 1e-6
        assert math.isclose(side**2, sum(w * w for w in widths), rel_tol=1e-6, abs_tol=1e-6)
    assert point.lo80 >= -1e-6
    if len(stores) == 1:
        mean, down, up = stores[0]
        assert math.isclose(point.lo80, max(mean - down, 0.0), rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(point.hi80, mean + up, rel_tol=1e-9, abs_tol=1e-6)


def test_days_come_out_in_order_each_summed_on_its_own() -> None:
    points = summed_band(
        rows([(10.0, 3.0, 4.0), (5.0, 4.0, 3.0)], days=3), mean="mean", lo="lo", hi="hi"
    )
    assert [p.business_date for p in points] == [DAY + dt.timedelta(days=d) for d in range(3)]
    assert {(p.mean, p.lo80, p.hi80) for p in points} == {(15.0, 10.0, 20.0)}
