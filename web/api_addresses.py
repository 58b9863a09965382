"""The city's address points for the portal (JSON, public): search by prefix, the nearest to a pin.

    GET /api/v1/addresses?q=dług 5&limit=10      {"items": [{label, place, street, number, postcode, lat, lon,
                                                               district}, …]}
    GET /api/v1/addresses/nearest?lat=…&lon=…   {"address": {… , "distance_m": 12.4} | null}

Only the city of the host is searched. Both are counted per client address
(`KOMUNIKATOR_ADDRESS_LOOKUPS_PER_MINUTE`, default 120: a form's search-as-you-type
stays well within it), 429 with Retry-After past it. What they do is
`engine/service/addresses.py`; the addresses come from `komunikator addresses import`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from komunikator.engine.service import addresses, rate_limits
from komunikator.engine.service.addresses import AddressHit
from komunikator.engine.settings import env_int
from komunikator.engine.store.scope import TenantScope
from komunikator.web.deps import Now, Scope
from komunikator.web.openapi import errors
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1", tags=["public"], responses=errors(404, 422, 429))


async def _count(scope: TenantScope, request: Request, now: Now) -> None:
    per_minute = env_int("KOMUNIKATOR_ADDRESS_LOOKUPS_PER_MINUTE", 120, minimum=1)
    client = request.client.host if request.client is not None else "unknown"
    await rate_limits.take(scope, [(f"addresses:address:{client[:64]}", per_minute)], timedelta(minutes=1), now,
                           what="address lookups")


class AddressPage(BaseModel):
    """The addresses found, best first."""

    model_config = ConfigDict(extra="forbid")

    items: list[AddressHit]


class NearestAddress(BaseModel):
    """The address nearest to the point within a kilometre, with its distance; null when there is none."""

    model_config = ConfigDict(extra="forbid")

    address: AddressHit | None


@router.get("/addresses")
async def search_addresses(
    tenant: Tenant, scope: Scope, request: Request, now: Now,
    q: Annotated[str, Query(min_length=2, max_length=100, description="street (or village) and number, "
                                                                      "any case, diacritics optional: `dlug 5`")],
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> AddressPage:
    """The city's addresses whose street starts with the words of `q` and whose number starts with its number."""
    await _count(scope, request, now)
    return AddressPage(items=await addresses.search(scope, q, limit))


@router.get("/addresses/nearest")
async def nearest_address(
    tenant: Tenant, scope: Scope, request: Request, now: Now,
    lat: Annotated[float, Query(ge=-90, le=90)], lon: Annotated[float, Query(ge=-180, le=180)],
) -> NearestAddress:
    """The address nearest to a pin (within 1 km), for the label under a map pin."""
    await _count(scope, request, now)
    return NearestAddress(address=await addresses.nearest(scope, lat, lon))
