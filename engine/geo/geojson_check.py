"""Read and check the GeoJSON files a city names in `tenant.geography`; every mistake at `file:line:col`.

    tenant:
      geography: {boundary: granica.geojson, districts: osiedla.geojson}

What is checked (all of it, all errors at once):

- the file is in the tenant folder, is UTF-8 JSON (a syntax error at its line);
- coordinates are WGS84 longitude/latitude (RFC 7946): a `crs` naming anything
  else, or numbers that are no degrees (metres of PUWG 1992, EPSG:2180, are the
  commonest), are refused with how to fix it;
- the boundary is one Polygon or MultiPolygon (a bare geometry, a Feature, or a
  FeatureCollection of one feature); districts are a FeatureCollection of them,
  each with `properties.id` (snake_case, unique), `name` (text or {pl, en}) and
  optionally `kind` (osiedle, sołectwo …);
- every ring has four positions or more and is closed; every polygon is valid
  (shapely: no self-intersection, holes inside their shell);
- the boundary lies within `map.bounds` (coordinates that would fit swapped are
  called swapped); each district lies inside the boundary, and no two overlap.

A feature's errors point at the line of its `"type": "Feature"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from komunikator.engine.errors import ErrorList, Position
from komunikator.engine.schema.tenant import Bounds, GeographyFiles

#: CRS names that mean WGS84 longitude/latitude
_WGS84 = ("CRS84", "EPSG::4326", "EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84")
_FEATURE = re.compile(r'"type"\s*:\s*"Feature"')
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: how far (degrees, about 10 cm) a district may poke out of the boundary: shared edges digitised twice, rounding
_TOLERANCE = 1e-6

Where = Callable[[], Position | None]


class _File:
    """One GeoJSON file: its text, parsed data and the positions of its features."""

    def __init__(self, path: Path, text: str, data: Any) -> None:
        self.path = path
        self.data = data
        self.text = text
        self.features = [_position(text, m.start()) for m in _FEATURE.finditer(text)]

    def at(self, index: int | None = None) -> Position:
        """The position of feature `index` (0-based), or of the file's start."""
        if index is not None and index < len(self.features):
            line, column = self.features[index]
            return Position(str(self.path), line, column)
        return Position(str(self.path), 1, 1)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _read(tenant_dir: Path, name: str, key: tuple[str | int, ...], where: Where, errors: ErrorList) -> _File | None:
    path = (tenant_dir / name).resolve()
    if not path.is_relative_to(tenant_dir.resolve()):
        errors.add(where(), key, f"{name!r} lies outside the tenant folder")
        return None
    if not path.is_file():
        errors.add(where(), key, f"no file {name!r} in the tenant folder")
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.add(Position(str(path), 1, 1), key, "the file is not UTF-8 text")
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        errors.add(Position(str(path), error.lineno, error.colno), key, f"not valid JSON: {error.msg}")
        return None
    return _File(path, text, data)


def _features(file: _File, key: tuple[str | int, ...], errors: ErrorList, *, single: bool) -> list[tuple[int, Any]]:
    """The (index, feature-or-geometry) pairs of a file; errors for a shape it cannot be."""
    data = file.data
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        errors.add(file.at(), key, "expected a GeoJSON object with a \"type\" (FeatureCollection, Feature, Polygon)")
        return []
    crs = data.get("crs")
    if crs is not None:
        name = str(((crs or {}).get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        if not name.endswith(_WGS84):
            errors.add(file.at(), key, f"coordinates must be WGS84 longitude/latitude (RFC 7946); the file declares "
                                       f"{name or 'another crs'}: reproject it, e.g. "
                                       f"ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson")
            return []
    kind = data["type"]
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            errors.add(file.at(), key, "the FeatureCollection has no features")
            return []
        if single and len(features) != 1:
            errors.add(file.at(), key, f"the boundary is one feature (a MultiPolygon for several parts), "
                                       f"not {len(features)}")
            return []
        return list(enumerate(features))
    if single and kind in ("Feature", "Polygon", "MultiPolygon"):
        return [(0, data)]
    wanted = "a Polygon, MultiPolygon, Feature or one-feature FeatureCollection" if single else "a FeatureCollection"
    errors.add(file.at(), key, f"expected {wanted}, not {kind!r}")
    return []


def _geometry(file: _File, index: int, item: Any, key: tuple[str | int, ...], errors: ErrorList,
              label: str) -> Any:
    """The shapely polygon of one feature (or bare geometry), or None with its errors added."""
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    where = file.at(index if file.features else None)
    geometry = item.get("geometry") if isinstance(item, dict) and item.get("type") == "Feature" else item
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        errors.add(where, key, f"{label}: expected a Polygon or MultiPolygon geometry, not {kind!r}")
        return None
    polygons = geometry.get("coordinates")
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not polygons:
        errors.add(where, key, f"{label}: \"coordinates\" holds no polygon")
        return None
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            errors.add(where, key, f"{label}: a polygon is a list of rings, each a list of [longitude, latitude]")
            return None
        for ring in polygon:
            problem = _ring_problem(ring)
            if problem:
                errors.add(where, key, f"{label}: {problem}")
                return None
    made = shape(geometry)
    if not made.is_valid:
        errors.add(where, key, f"{label}: not a valid polygon: {explain_validity(made)}")
        return None
    return made


def _ring_problem(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "a ring needs at least four positions (the last repeating the first)"
    for position in ring:
        if (not isinstance(position, list) or len(position) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)):
            return f"{json.dumps(position)} is not a position: write [longitude, latitude]"
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return (f"[{lon}, {lat}] is not WGS84 longitude/latitude in degrees (metres of PUWG 1992, EPSG:2180?): "
                    f"reproject it, e.g. ogr2ogr -t_srs EPSG:4326")
    if ring[0][:2] != ring[-1][:2]:
        return (f"a ring must be closed: its last position {json.dumps(ring[-1])} must repeat the first "
                f"{json.dumps(ring[0])}")
    return None


def _within_bounds(shape: Any, bounds: Bounds) -> str | None:
    west, south, east, north = shape.bounds
    if bounds.west <= west and east <= bounds.east and bounds.south <= south and north <= bounds.north:
        return None
    if bounds.west <= south and north <= bounds.east and bounds.south <= west and east <= bounds.north:
        return ("its coordinates look swapped: GeoJSON writes [longitude, latitude] (for Poland about "
                "[19.4, 51.8], not [51.8, 19.4])")
    return (f"it reaches beyond map.bounds (south {bounds.south}, west {bounds.west}, north {bounds.north}, "
            f"east {bounds.east}): its own bounds are south {south:.5f}, west {west:.5f}, north {north:.5f}, "
            f"east {east:.5f}; widen map.bounds or check the file")


def _name(value: Any) -> dict[str, str] | None:
    if isinstance(value, str) and value.strip():
        return {"*": value.strip()}
    if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                 for k, v in value.items()):
        return {k: v.strip() for k, v in value.items()}
    return None


def load_geography(tenant_dir: Path, files: GeographyFiles, bounds: Bounds, where: Callable[[str], Position | None],
                   errors: ErrorList) -> Any:
    """The city's `Geography` from its files, or None (with every problem in `errors`).

    `where(field)` is the position of `tenant.geography.<field>` in the YAML (for a missing file).
    """
    from komunikator.engine.geo.shapes import District, Geography

    before = len(errors.errors)
    key: tuple[str | int, ...] = ("tenant", "geography", "boundary")
    boundary = None
    file = _read(tenant_dir, files.boundary, key, lambda: where("boundary"), errors)
    if file is not None:
        for index, item in _features(file, key, errors, single=True):
            boundary = _geometry(file, index, item, key, errors, "the boundary")
        if boundary is not None:
            problem = _within_bounds(boundary, bounds)
            if problem:
                errors.add(file.at(0 if file.features else None), key, f"the boundary: {problem}")
    districts: list[District] = []
    if files.districts is not None:
        key = ("tenant", "geography", "districts")
        file = _read(tenant_dir, files.districts, key, lambda: where("districts"), errors)
        for index, item in _features(file, key, errors, single=False) if file is not None else []:
            assert file is not None  # noqa: S101 - for the type checker: items come from a file
            district = _district(file, index, item, key, errors, {d.key for d in districts})
            if district is None:
                continue
            if boundary is not None and not boundary.buffer(_TOLERANCE).covers(district.shape):
                outside = district.shape.difference(boundary).area / district.shape.area
                errors.add(file.at(index), key, f"district {district.key!r} reaches outside the boundary "
                                                f"(about {max(outside, 0.001):.1%} of its area)")
            for other in districts:
                shared = district.shape.intersection(other.shape).area
                if shared > 0.001 * min(district.shape.area, other.shape.area):
                    errors.add(file.at(index), key, f"district {district.key!r} overlaps {other.key!r} "
                                                    f"(about {shared / district.shape.area:.1%} of its area)")
            districts.append(district)
    if len(errors.errors) > before or boundary is None:
        return None
    return Geography(boundary, tuple(districts), tuple(n for n in (files.boundary, files.districts) if n))


def _district(file: _File, index: int, item: Any, key: tuple[str | int, ...], errors: ErrorList,
              taken: set[str]) -> Any:
    from komunikator.engine.geo.shapes import District

    where = file.at(index)
    properties = item.get("properties") if isinstance(item, dict) else None
    if not isinstance(item, dict) or item.get("type") != "Feature" or not isinstance(properties, dict):
        errors.add(where, key, f"feature {index + 1}: expected a Feature with properties (id, name)")
        return None
    ident = properties.get("id")
    label = f"district {ident!r}" if isinstance(ident, str) else f"feature {index + 1}"
    ok = True
    if not isinstance(ident, str) or not _ID.match(ident):
        errors.add(where, key, f"{label}: properties.id must be a name in snake_case (a-z, 0-9, _), "
                               f"e.g. \"osiedle_rudunki\"")
        ok = False
    elif ident in taken:
        errors.add(where, key, f"{label}: another district has this id")
        ok = False
    name = _name(properties.get("name"))
    if name is None:
        errors.add(where, key, f"{label}: properties.name must be text or {{\"pl\": …, \"en\": …}}")
        ok = False
    kind = properties.get("kind")
    if kind is not None and not (isinstance(kind, str) and kind.strip()):
        errors.add(where, key, f"{label}: properties.kind, when given, is text (osiedle, sołectwo …)")
        ok = False
    shape = _geometry(file, index, item, key, errors, label)
    if not ok or shape is None or name is None or not isinstance(ident, str):
        return None
    return District(ident, name, kind.strip() if isinstance(kind, str) else None, shape)
