"""The compiled boundary and districts of a city: point-in-polygon questions for intake and the portal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shapely import Point, prepare
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class District:
    """An osiedle or sołectwo: its key (`id` in the GeoJSON), names per language, kind and shape."""

    key: str
    name: Mapping[str, str]
    kind: str | None
    shape: BaseGeometry


@dataclass(frozen=True)
class Geography:
    """A city's boundary and districts (WGS84: x is longitude, y latitude)."""

    boundary: BaseGeometry
    districts: tuple[District, ...] = ()
    #: the files they came from, relative to the tenant folder
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        prepare(self.boundary)  # many point tests against one polygon: build its index once
        for district in self.districts:
            prepare(district.shape)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies inside the boundary (or on it)."""
        return bool(self.boundary.covers(Point(lon, lat)))

    def district_at(self, lat: float, lon: float) -> District | None:
        """The district the point lies in (the first, if districts touch at the point), or None."""
        point = Point(lon, lat)
        return next((d for d in self.districts if d.shape.covers(point)), None)

    def district(self, key: str) -> District | None:
        """The district with this key."""
        return next((d for d in self.districts if d.key == key), None)

    def summary(self) -> dict[str, Any]:
        """What `explain` and the API say about it: the bounds and the districts' keys."""
        west, south, east, north = self.boundary.bounds
        return {"bounds": {"south": south, "west": west, "north": north, "east": east},
                "districts": [d.key for d in self.districts]}
