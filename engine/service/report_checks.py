"""The checks a report's location and attributes pass, the same on intake and on a dispatcher's edit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.schema.tenant import Point
from komunikator.engine.service.errors import invalid


def check_location(tenant: CompiledTenant, lat: float | None, lon: float | None, address: str | None) -> None:
    """A map pin inside the city (both coordinates or neither), or at least an address; 422 otherwise.

    Inside the city: within its map's bounds, and within its boundary when it
    ships one (`tenant.geography`, engine/geo/).
    """
    if (lat is None) != (lon is None):
        raise invalid("give both lat and lon, or neither", "lat" if lat is None else "lon")
    if lat is not None and lon is not None:
        if not tenant.config.map.bounds.contains(Point(lat=lat, lon=lon)):
            raise invalid("the location lies outside the city", "lat", "outside_tenant")
        if tenant.geography is not None and not tenant.geography.contains(lat, lon):
            raise invalid("the location lies outside the city's boundary: the city takes reports only within it",
                          "lat", "outside_tenant")
    elif not (address and address.strip()):
        raise invalid("give a location (lat and lon) or an address", "lat", "missing_location")


def check_attributes(tenant: CompiledTenant, category: str, given: Mapping[str, Any], *, staff: bool,
                     complete: bool) -> None:
    """`given` answers to `category`'s questions: known (staff-only ones for staff), valid values; 422 otherwise.

    `complete`: `given` is the whole set (a new report), so every required
    question must be answered; otherwise (an edit) only what is given is
    checked, and a required answer may not be removed (`None`).
    """
    found = tenant.categories.get(category)  # None after a definition change: it asks nothing any more
    specs = found.spec.attributes if found is not None else {}
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None or (spec.staff_only and not staff):
            raise invalid(f"category {category!r} has no attribute {name!r}", f"attributes.{name}",
                          "unknown_attribute")
        if value is None and not complete:
            if spec.required:
                raise invalid(f"attribute {name!r} is required", f"attributes.{name}", "missing_attribute")
            continue
        problem = spec.check_value(value)
        if problem:
            raise invalid(f"attribute {name!r}: {problem}", f"attributes.{name}", "invalid_attribute")
    if complete:
        for name, spec in specs.items():
            if spec.required and name not in given and not (spec.staff_only and not staff):
                raise invalid(f"attribute {name!r} is required", f"attributes.{name}", "missing_attribute")


def district_of(tenant: CompiledTenant, lat: float | None, lon: float | None) -> str | None:
    """The key of the city's district the pin lies in (`tenant.geography`), or None (no pin, no districts)."""
    if lat is None or lon is None or tenant.geography is None:
        return None
    district = tenant.geography.district_at(lat, lon)
    return district.key if district is not None else None
