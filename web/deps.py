"""Request-scoped dependencies shared by the API routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from babel import negotiate_locale
from fastapi import Depends, Header, Path, Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.store.scope import TenantScope
from komunikator.web.errors import ApiError
from komunikator.web.tenancy import current_tenant, register_tenants


async def tenant_scope(request: Request, tenant: Annotated[CompiledTenant, Depends(current_tenant)]) -> TenantScope:
    """The store scope of the request's tenant."""
    ids: dict[str, int] = request.app.state.tenant_ids
    if tenant.slug not in ids:
        await register_tenants(request.app)
    return TenantScope(request.app.state.tenant_ids[tenant.slug])


def now(request: Request) -> datetime:
    """The app's clock (tests control it)."""
    moment: datetime = request.app.state.clock()
    return moment


def preferred_locale(
    tenant: Annotated[CompiledTenant, Depends(current_tenant)],
    accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> str | None:
    """The tenant locale the request's `Accept-Language` prefers (Babel's negotiation), or None.

    A preference, never a reason to refuse a request: a malformed or overlong
    header is read as far as it makes sense (the first 1000 characters).
    """
    if not accept_language:
        return None
    return negotiate_locale(_weighted_languages(accept_language[:1000]), list(tenant.config.locales), sep="-")


def _weighted_languages(header: str) -> list[str]:
    """`pl-PL,pl;q=0.9,en;q=0.8` → the tags by falling weight (q=0 and malformed entries dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and tag.strip() != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


async def refuse_nul_characters(request: Request) -> None:
    """422 for a NUL character in the request's path, query or JSON body.

    PostgreSQL cannot store it in text (SQLite can), so it is refused at the
    door on both databases alike. Multipart forms are checked where they are
    read (`api_attachments.read_form`: text fields only, files are bytes);
    a multipart report reaches the routes as JSON and is checked here.
    """
    where: str | None = None
    if "\x00" in request.url.path:
        where = "path"
    else:
        bad = [key for key, value in request.query_params.multi_items() if "\x00" in key + value]
        if bad:
            where = bad[0].replace("\x00", "") or "query"
        elif (request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
              and _JSON_NUL.search(await request.body())):
            where = "body"
    if where is not None:
        raise ApiError(422, "invalid_character", "text may not contain the NUL character (U+0000)", field=where)


#: `\u0000` in JSON text (the only way JSON writes NUL), not preceded by another backslash.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


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
PreferredLocale = Annotated[str | None, Depends(preferred_locale)]
#: A database id in a path (`/attachments/{attachment_id}`): positive and within BIGINT, else a 422
#: (the drivers raise OverflowError on larger numbers, which would be a 500).
DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
