"""Great-circle distances between points given by latitude and longitude in degrees (numpy)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from newretail.errors import InvalidInput

EARTH_RADIUS_KM = 6371.0088
"""The mean Earth radius (IUGG); a sphere errs by up to ~0.5% against the ellipsoid."""


def coordinates(
    lat: ArrayLike, lon: ArrayLike, *, field: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``lat`` and ``lon`` as float arrays, checked: finite, within range, the same shape.

    ``field`` prefixes the error's field (``stores`` gives ``stores.lat``).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    if lat_a.shape != lon_a.shape:
        raise InvalidInput(
            "supply.bad_shape",
            f"latitude has shape {lat_a.shape} but longitude {lon_a.shape}",
            field=f"{field}.lon",
        )
    for name, values, bound in (("lat", lat_a, 90.0), ("lon", lon_a, 180.0)):
        bad = ~np.isfinite(values) | (np.abs(values) > bound)
        if bad.any():
            at = int(np.flatnonzero(bad.ravel())[0])
            raise InvalidInput(
                "supply.bad_coordinate",
                f"{name} at position {at} is {values.ravel()[at]}; expected a number "
                f"within ±{bound:g}",
                field=f"{field}.{name}",
            )
    return lat_a, lon_a


def distance_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance in km, broadcasting like numpy.

    The central angle comes from atan2 of its sine and cosine (Vincenty's spherical form), which
    stays exact from neighbours to antipodes, where haversine's arcsin loses precision.

    Pass column and row vectors for a matrix between two sets of points:

    >>> lat = np.array([31.2304, 39.9042]); lon = np.array([121.4737, 116.4074])
    >>> distance_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]).round(-1)
    array([[   0., 1070.],
           [1070.,    0.]])
    """
    lat1_a, lon1_a = coordinates(lat1, lon1, field="from")
    lat2_a, lon2_a = coordinates(lat2, lon2, field="to")
    phi1, phi2 = np.radians(lat1_a), np.radians(lat2_a)
    dlambda = np.radians(lon2_a - lon1_a)
    across = np.hypot(
        np.cos(phi2) * np.sin(dlambda),
        np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlambda),
    )
    along = np.sin(phi1) * np.sin(phi2) + np.cos(phi1) * np.cos(phi2) * np.cos(dlambda)
    return np.asarray(EARTH_RADIUS_KM * np.arctan2(across, along))


def distance_matrix_km(
    lat_a: ArrayLike, lon_a: ArrayLike, lat_b: ArrayLike, lon_b: ArrayLike
) -> NDArray[np.float64]:
    """Distances from each point a to each point b (1-D arrays): shape (len a, len b)."""
    la, oa = np.ravel(lat_a), np.ravel(lon_a)
    lb, ob = np.ravel(lat_b), np.ravel(lon_b)
    return distance_km(la[:, None], oa[:, None], lb[None, :], ob[None, :])
