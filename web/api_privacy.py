"""Reporters' personal data over HTTP: confirming an e-mail address; GDPR export and erasure for admins.

    GET  /api/v1/public/email-confirmations/{token}   the link in the confirmation e-mail (anyone holding it)
    POST /api/v1/admin/gdpr/export                    {"email": …} or {"ticket": …}: everything held on them
    POST /api/v1/admin/gdpr/erase                     … plus {"legal_basis": …}: erased, audited

The GDPR routes are for staff holding a role with the `admin` capability's
equivalent here: a membership in a role named in `GDPR_ROLES` of the
tenant's YAML is not modelled yet, so they take the platform's `admin` role
(see `engine/service/gdpr.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from komunikator.engine.service import intake
from komunikator.web.deps import Now, Scope

router = APIRouter(prefix="/api/v1", tags=["privacy"])

Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/public/email-confirmations/{token}")
async def confirm_email(token: Token, scope: Scope, now: Now) -> dict[str, Any]:
    """Confirm the e-mail address a report was made with (the link in the first e-mail).

    From then on the reporter gets the city's messages about the report.
    404 for an unknown or already used link.
    """
    ticket = await intake.confirm_email(scope, token, now)
    return {"confirmed": True, "number": ticket.number}
