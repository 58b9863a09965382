"""Poland's PUWG 1992 (EPSG:2180) to WGS84: the one module that talks to pyproj.

In PUWG 1992, as Polish registers write it, X is the northing and Y the easting
(metres); PRG address exports give X and Y that way.
"""

from __future__ import annotations

from functools import cache

from pyproj import Transformer


@cache
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:2180", "EPSG:4326", always_xy=True)


@cache
def _from_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:2180", always_xy=True)


def puwg1992_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) in degrees of the PUWG 1992 point X (northing), Y (easting) in metres."""
    lon, lat = _to_wgs84().transform(y, x)
    return float(lat), float(lon)


def wgs84_to_puwg1992(lat: float, lon: float) -> tuple[float, float]:
    """(X northing, Y easting) in metres of the WGS84 point (lat, lon): the demo data and tests write it."""
    easting, northing = _from_wgs84().transform(lon, lat)
    return float(northing), float(easting)
