"""Great-circle distances: a known city pair, exact spherical cases, broadcasting, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.supply.geo import EARTH_RADIUS_KM, distance_km, distance_matrix_km

SHANGHAI = (31.2304, 121.4737)
BEIJING = (39.9042, 116.4074)
GUANGZHOU = (23.1291, 113.2644)

latitudes = st.floats(-90, 90)
longitudes = st.floats(-180, 180)


def test_shanghai_to_beijing_is_about_1068_km() -> None:
    assert float(distance_km(*SHANGHAI, *BEIJING)) == pytest.approx(1068, abs=5)


def test_exact_spherical_cases() -> None:
    quarter = math.pi / 2 * EARTH_RADIUS_KM
    assert float(distance_km(0, 0, 90, 0)) == pytest.approx(quarter)
    assert float(distance_km(0, 0, 0, 90)) == pytest.approx(quarter)
    # Antipodes: h rounds to a hair over 1 here without the clip.
    assert float(distance_km(0, 0, 0, 180)) == pytest.approx(2 * quarter)
    assert float(distance_km(45, 10, -45, -170)) == pytest.approx(2 * quarter)
    # One degree of latitude is the same length everywhere on a sphere.
    assert float(distance_km(10, 50, 11, 50)) == pytest.approx(float(distance_km(60, -3, 61, -3)))


def test_matrix_broadcasts_points_against_points() -> None:
    lat = np.array([SHANGHAI[0], BEIJING[0], GUANGZHOU[0]])
    lon = np.array([SHANGHAI[1], BEIJING[1], GUANGZHOU[1]])
    matrix = distance_matrix_km(lat, lon, lat[:2], lon[:2])
    assert matrix.shape == (3, 2)
    assert matrix[0, 0] == 0
    assert matrix[1, 0] == pytest.approx(float(distance_km(*BEIJING, *SHANGHAI)))
    same = distance_km(lat[:, None], lon[:, None], lat[None, :2], lon[None, :2])
    np.testing.assert_allclose(matrix, same)


@settings(max_examples=60, deadline=None)
@given(latitudes, longitudes, latitudes, longitudes, latitudes, longitudes)
def test_metric_properties(
    lat1: float, lon1: float, lat2: float, lon2: float, lat3: float, lon3: float
) -> None:
    ab = float(distance_km(lat1, lon1, lat2, lon2))
    assert ab == pytest.approx(float(distance_km(lat2, lon2, lat1, lon1)), abs=1e-6)
    assert 0 <= ab <= math.pi * EARTH_RADIUS_KM + 1e-6
    ac = float(distance_km(lat1, lon1, lat3, lon3))
    cb = float(distance_km(lat3, lon3, lat2, lon2))
    assert ab <= ac + cb + 1e-6


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((float("nan"), 0.0, 0.0, 0.0), "from.lat"),
        ((0.0, 0.0, 0.0, float("inf")), "to.lon"),
        ((91.0, 0.0, 0.0, 0.0), "from.lat"),
        ((0.0, -180.5, 0.0, 0.0), "from.lon"),
    ],
)
def test_bad_coordinates_name_the_field(args: tuple[float, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        distance_km(*args)
    assert caught.value.code == "supply.bad_coordinate"
    assert caught.value.field == field


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        distance_km(np.zeros(3), np.zeros(2), 0.0, 0.0)
    assert caught.value.code == "supply.bad_shape"
