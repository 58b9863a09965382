"""Host header → tenant, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.store.scope import ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.errors import ApiError


def registry(request: Request) -> TenantRegistry:
    """The app's tenant registry (compiled at start-up)."""
    found: TenantRegistry = request.app.state.tenants
    return found


def current_tenant(request: Request) -> CompiledTenant:
    """The tenant the request's Host names, or a 404 that names no other city."""
    tenant = registry(request).for_host(request.headers.get("host"))
    if tenant is None:
        raise ApiError(404, "unknown_host", "no city is served at this address")
    return tenant


Tenant = Annotated[CompiledTenant, Depends(current_tenant)]


async def register_tenants(app: FastAPI) -> None:
    """Make sure every compiled tenant has its row; remember the ids."""
    registry: TenantRegistry = app.state.tenants
    for slug, tenant in registry.tenants.items():
        row = await ensure_tenant(slug, tenant.config.name.get("pl") or tenant.config.name.get("*") or slug)
        app.state.tenant_ids[slug] = row.id
