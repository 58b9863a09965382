"""The city's address points: imported from its register (PRG CSV), searched by prefix, the nearest to a pin.

    result = await import_addresses(scope, tenant, text)          # all or nothing; AddressImportRefused lists bad rows
    hits = await search(scope, "dług 5")                            # ul. Długa 5, 5A, 50 … (diacritics ignored)
    point = await by_ref(scope, "PL.PZGIK.200/1020011-00001")       # by the register's identifier (Open311)
    near = await nearest(scope, 51.8590, 19.4103)                   # the closest address within 1 km, with metres

An import replaces the city's addresses with the file's (the register is
exported whole): bad rows are reported by line and nothing is written; a
good file is written in one transaction, each point marked with its district
when the city has districts (`tenant.geography`). Every query is the
tenant's (`TenantScope`); search runs on the index (tenant, street_key,
number_key), nearest on (tenant, lat) within a growing box.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.geo.address_csv import (
    REF_LENGTH,
    BadRow,
    address_label,
    fold,
    number_key,
    read_addresses,
    street_key,
)
from komunikator.engine.geo.distance import degrees_around, metres
from komunikator.engine.schema.tenant import Point
from komunikator.engine.service.read_models import ReadModel
from komunikator.engine.store.models import AddressPoint
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: How far `nearest` looks, widening the box step by step (metres).
NEAREST_STEPS = (150, 500, 1000)
_NUMBER_START = re.compile(r"^\d")
_NATURAL = re.compile(r"^(\d+)(.*)$")


class AddressImportRefused(Exception):
    """The file has bad rows (each with its line); nothing was written."""

    def __init__(self, bad: list[BadRow]) -> None:
        super().__init__(f"{len(bad)} bad row(s); nothing was imported")
        self.bad = bad


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    imported: int
    replaced: int
    in_districts: int


def inside_city(tenant: CompiledTenant) -> Callable[[float, float], bool]:
    """Whether a point is the city's: inside its boundary when it has one, else inside its map's bounds."""
    if tenant.geography is not None:
        return tenant.geography.contains
    bounds = tenant.config.map.bounds
    return lambda lat, lon: -90 <= lat <= 90 and -180 <= lon <= 180 and bounds.contains(Point(lat=lat, lon=lon))


async def import_addresses(scope: TenantScope, tenant: CompiledTenant, text: str, *,
                           progress: Callable[[int], None] | None = None) -> ImportResult:
    """Replace the city's address points with the file's; `AddressImportRefused` (nothing written) on bad rows."""
    rows, bad = read_addresses(text, inside_city(tenant), progress=progress)
    if bad:
        raise AddressImportRefused(bad)
    geography = tenant.geography
    values = []
    for row in rows:
        district = geography.district_at(row.lat, row.lon) if geography is not None else None
        values.append({
            "ref": row.ref, "place": row.place, "street": row.street, "number": row.number, "postcode": row.postcode,
            "street_key": street_key(row.street, row.place), "number_key": number_key(row.number),
            "lat": row.lat, "lon": row.lon, "district": district.key if district is not None else None,
        })
    async with transaction():
        replaced = await scope.query(AddressPoint).all().delete()
        await scope.bulk_create(AddressPoint, values)
    return ImportResult(len(values), replaced, sum(1 for v in values if v["district"]))


class AddressHit(ReadModel):
    """One address: how it is written, its parts, its point and district; `distance_m` for the nearest."""

    label: str
    #: the register's identifier of the point (Open311's `address_id`), when the city's file gave one
    ref: str | None = None
    place: str
    street: str | None
    number: str
    postcode: str | None
    lat: float
    lon: float
    district: str | None
    distance_m: float | None = Field(None, exclude_if=lambda v: v is None)


def _hit(row: AddressPoint, distance: float | None = None) -> AddressHit:
    return AddressHit(label=address_label(row.place, row.street, row.number), ref=row.ref, place=row.place,
                      street=row.street,
                      number=row.number, postcode=row.postcode,
                      lat=row.lat, lon=row.lon, district=row.district,
                      distance_m=round(distance, 1) if distance is not None else None)


def parse_query(q: str) -> tuple[str, str]:
    """(street prefix, number prefix) of a search: `Długa 5a` → (`dluga`, `5a`); `3 Maja` → (`3 maja`, ``)."""
    words = fold(q.replace(",", " ")).split()
    number = ""
    if len(words) > 1 and _NUMBER_START.match(words[-1]):
        number = words.pop()
    street = street_key(" ".join(words), "") if words else ""
    return street, number_key(number)


def _natural(row: AddressPoint) -> tuple[str, int, str]:
    match = _NATURAL.match(row.number_key)
    return (row.street_key, int(match.group(1)), match.group(2)) if match else (row.street_key, 0, row.number_key)


async def search(scope: TenantScope, q: str, limit: int = 10) -> list[AddressHit]:
    """Addresses whose street (or, without streets, place) starts with the query's words and number with its number.

    Diacritics and case are ignored, `ul.`/`al.`/`pl.` too; streets come in
    alphabetical order, numbers in natural order (2, 10, 10A).
    """
    street, number = parse_query(q)
    if len(street) < 2:
        return []
    query = scope.query(AddressPoint).filter(street_key__startswith=street)
    if number:
        query = query.filter(number_key__startswith=number)
    # the first matching streets' numbers, in natural order (bounded: a street has a few hundred at most)
    rows = await query.order_by("street_key", "number_key", "id").limit(limit * 40)
    rows.sort(key=_natural)
    return [_hit(row) for row in rows[:limit]]


async def nearest(scope: TenantScope, lat: float, lon: float) -> AddressHit | None:
    """The address closest to the point, with its distance, within `NEAREST_STEPS[-1]` metres; None if none."""
    for radius in NEAREST_STEPS:
        dlat, dlon = degrees_around(lat, radius)
        rows = await scope.query(AddressPoint).filter(lat__gte=lat - dlat, lat__lte=lat + dlat,
                                                      lon__gte=lon - dlon, lon__lte=lon + dlon)
        scored = [(metres(lat, lon, r.lat, r.lon), r.id, r) for r in rows]
        scored = [s for s in scored if s[0] <= radius]
        if scored:
            distance, _, row = min(scored, key=lambda s: (s[0], s[1]))
            return _hit(row, distance)
    return None


async def by_ref(scope: TenantScope, ref: str) -> AddressHit | None:
    """The city's address its register identifies by `ref` (Open311's `address_id`), or None."""
    ref = ref.strip()
    if not ref or len(ref) > REF_LENGTH:
        return None
    row = await scope.query(AddressPoint).filter(ref=ref).order_by("id").first()
    return _hit(row) if row is not None else None


async def count(scope: TenantScope) -> int:
    """How many address points the city holds."""
    return await scope.query(AddressPoint).count()
