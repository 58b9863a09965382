"""Reporters' personal data over HTTP: confirming an e-mail address; GDPR export and erasure for admins.

    GET  /api/v1/public/email-confirmations/{token}   the link in the confirmation e-mail (anyone holding it)
    POST /api/v1/admin/gdpr/export                    {"email": …} or {"ticket": …}: everything held on them
    POST /api/v1/admin/gdpr/erase                     the same plus {"legal_basis": …}: erased, audited

The GDPR routes are for staff holding a role that manages users
(`manages_users: true` in the roles' YAML, the `admin` role); others get 403.
What they do is `engine/service/gdpr.py` (also `komunikator gdpr`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import access
from komunikator.engine.service import gdpr, intake
from komunikator.web.actors import Principal, StaffActor
from komunikator.web.deps import Now, Scope
from komunikator.web.errors import ApiError
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=ERROR_RESPONSES)

Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/public/email-confirmations/{token}")
async def confirm_email(token: Token, scope: Scope, now: Now) -> dict[str, Any]:
    """Confirm the e-mail address a report was made with (the link in the first e-mail).

    From then on the reporter gets the city's messages about the report.
    404 for an unknown or already used link.
    """
    ticket = await intake.confirm_email(scope, token, now)
    return {"confirmed": True, "number": ticket.number}


class PersonIn(BaseModel):
    """Whose data: an e-mail address or a report's number (one of them)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=254)
    ticket: str | None = Field(None, max_length=32)


class EraseIn(PersonIn):
    """Whose data, and why it is erased (kept in the audit trail)."""

    legal_basis: str = Field(min_length=1, max_length=gdpr.MAX_LEGAL_BASIS)


def _require_admin(tenant: CompiledTenant, actor: Principal) -> None:
    if not access.manages_users(tenant, actor.view):
        raise ApiError(403, "forbidden", "only an administrator (a role that manages users) handles personal data")


@router.post("/admin/gdpr/export")
async def gdpr_export(body: PersonIn, tenant: Tenant, scope: Scope, actor: StaffActor, now: Now) -> dict[str, Any]:
    """Everything the city holds on a reporter: contacts, their reports, the reports they follow (audited)."""
    _require_admin(tenant, actor)
    return await gdpr.export(scope, email=body.email, ticket=body.ticket, actor=actor.view, now=now)


@router.post("/admin/gdpr/erase")
async def gdpr_erase(body: EraseIn, tenant: Tenant, scope: Scope, actor: StaffActor, now: Now) -> dict[str, Any]:
    """Erase a reporter's name, e-mail and phone, drop mail waiting for them; audited with the legal basis.

    The reports' own free text is kept for the office to redact
    (`reports_to_review`).
    """
    _require_admin(tenant, actor)
    return await gdpr.erase(scope, actor.view, body.legal_basis, now, email=body.email, ticket=body.ticket)
