"""Request-scoped dependencies shared by the API routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.store.scope import TenantScope
from komunikator.web.errors import ApiError
from komunikator.web.tenancy import current_tenant


async def tenant_scope(request: Request, tenant: Annotated[CompiledTenant, Depends(current_tenant)]) -> TenantScope:
    """The store scope of the request's tenant."""
    ids: dict[str, int] = request.app.state.tenant_ids
    if tenant.slug not in ids:
        from komunikator.web.app import register_tenants

        await register_tenants(request.app)
    return TenantScope(request.app.state.tenant_ids[tenant.slug])


def now(request: Request) -> datetime:
    """The app's clock (tests control it)."""
    moment: datetime = request.app.state.clock()
    return moment


def if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The ticket version a write expects (`If-Match: "7"` or `7`)."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # `²` is a digit int() refuses
        raise ApiError(400, "invalid_if_match", "If-Match must be the ticket's version number", field="If-Match")
    return int(value)


Scope = Annotated[TenantScope, Depends(tenant_scope)]
Now = Annotated[datetime, Depends(now)]
ExpectedVersion = Annotated[int | None, Depends(if_match)]
#: A database id in a path (`/attachments/{attachment_id}`): positive and within BIGINT, else a 422
#: (the drivers raise OverflowError on larger numbers, which would be a 500).
DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
