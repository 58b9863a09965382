"""Distances on the sphere, enough for "the nearest address" within a city."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two WGS84 points, in metres (haversine)."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(sqrt(h))


def degrees_around(lat: float, radius_m: float) -> tuple[float, float]:
    """How many degrees of latitude and of longitude `radius_m` metres span at latitude `lat`."""
    dlat = radius_m / 111_320.0
    return dlat, radius_m / (111_320.0 * max(cos(radians(lat)), 0.01))
