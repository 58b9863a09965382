"""The reporter's link over HTTP (JSON): what it shows, what it does; staff revoke a ticket's links.

    GET  /api/v1/reporter-links/{link}                    the report and the actions open to its reporter now
    POST /api/v1/reporter-links/{link}/actions/{action}   {"public_comment": …}: fire one of them
    POST /api/v1/tickets/{number}/reporter-links/revoke   staff who edit tickets: every link of the ticket stops

`{link}` is the secret from the e-mail (`ticket.reporter_url` ends with it).
Unknown links answer 404, links that no longer work 410 (`link_gone`,
`details.reason`: expired, revoked, closed, erased). The resident's page
at `/odpowiedz/{link}` (web/reporter_links/) does the same through
`engine/service/reporter_links.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.delivery import bell
from komunikator.engine.runtime.access import edits_tickets
from komunikator.engine.service import reporter_links, tickets
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.reporter_links import LinkedReport
from komunikator.web.actors import StaffActor
from komunikator.web.deps import Now, Scope
from komunikator.web.openapi import ERROR_RESPONSES, errors
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1", tags=["reporter links"], responses={**ERROR_RESPONSES, **errors(410)})

Link = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                           description="the secret at the end of the reporter's link")]


@router.get("/reporter-links/{link}")
async def show_link(link: Link, tenant: Tenant, scope: Scope, now: Now) -> LinkedReport:
    """The report the link belongs to (its public side) and the transitions its reporter may fire now.

    `actions` lists exactly what the process lets `reporter` do in the ticket's
    current state (e.g. `resident_answered` while it waits for the resident),
    each with the inputs it requires; it is empty when there is nothing to do.
    """
    opened = await reporter_links.open_link(scope, tenant, link, now)
    return await reporter_links.describe(scope, tenant, opened, now)


class ReporterInputs(BaseModel):
    """What a reporter may give an action: public text (the answer the office asked for)."""

    model_config = ConfigDict(extra="forbid")

    public_comment: str | None = Field(None, max_length=5000)


class LinkActionDone(BaseModel):
    """The report after the action; `replayed` when the same submission had been answered before."""

    model_config = ConfigDict(extra="forbid")

    replayed: bool
    report: LinkedReport


@router.post("/reporter-links/{link}/actions/{action}")
async def link_action(
    link: Link, action: Annotated[str, Path(max_length=64)], body: ReporterInputs, request: Request,
    tenant: Tenant, scope: Scope, now: Now,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> LinkActionDone:
    """Fire one of the link's actions as the report's reporter (audited as `reporter`).

    403 for an action the reporter may not fire, 409 for one the ticket does
    not take in its state now, 422 for a missing answer, 429 past the rate
    limit (per client address and per link). With `Idempotency-Key`, a
    repeated request is answered again (`replayed: true`) without a second action.
    """
    address = request.client.host if request.client is not None else None
    opened, replayed = await reporter_links.act(scope, tenant, link, action, body.model_dump(exclude_none=True),
                                                now, submission=idempotency_key, address=address)
    if not replayed:
        bell.ring()  # the unit hears of the answer now
    return LinkActionDone(replayed=replayed, report=await reporter_links.describe(scope, tenant, opened, now))


class RevokeIn(BaseModel):
    """Why the links are revoked (kept in the ticket's history)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)


@router.post("/tickets/{number}/reporter-links/revoke", tags=["tickets"])
async def revoke_links(number: str, body: RevokeIn, tenant: Tenant, scope: Scope, actor: StaffActor,
                       now: Now) -> dict[str, Any]:
    """Stop every reporter link of the ticket at once (e.g. the e-mail reached the wrong person); audited."""
    ticket, _ = await tickets.load_visible(scope, tenant, number, actor.view)
    if not edits_tickets(tenant, actor.view):
        raise ServiceError(403, "forbidden", "revoking the reporter's links needs a role that edits tickets")
    return {"revoked": await reporter_links.revoke(scope, ticket, actor.view, now, body.reason)}
