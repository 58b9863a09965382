"""The JSON API under /api/v1: intake, tickets, tasks, comments, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery import bell
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.capabilities import capabilities
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import intake, reading, tickets
from komunikator.engine.service.read_models import (
    HiddenTicket,
    PublicTicket,
    Receipt,
    TicketDetail,
    TicketHistory,
    TicketPage,
)
from komunikator.engine.service.row_views import load_ticket
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.web.actors import OptionalActor, Principal, StaffActor
from komunikator.web.api_attachments import (
    SUBMISSION_OPENAPI,
    SubmissionRoute,
    submitted_photos,
)
from komunikator.web.deps import ExpectedVersion, Now, PreferredLocale, Scope
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.submission import submit_report
from komunikator.web.tenancy import Tenant

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


def _etag(response: Response, ticket: Ticket) -> None:
    response.headers["ETag"] = f'"{ticket.version}"'


# -- the city ---------------------------------------------------------------------------------


@router.get("/health", tags=["meta"])
async def health() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@router.get("/tenant", tags=["public"])
async def tenant_info(tenant: Tenant, locale: Annotated[str, Query(pattern="^(pl|en)$")] = "pl") -> dict[str, Any]:
    """The city: name, map, and the categories residents may report."""
    config = tenant.config
    return {
        "slug": tenant.slug,
        "name": text_for(dict(config.name), locale),
        "locale": config.locale,
        "time_zone": config.time_zone,
        "map": config.map.model_dump(),
        "categories": [
            {
                "code": c.name,
                "name": text_for(dict(c.spec.name), locale),
                "group": c.spec.group,
                "anonymous": c.spec.anonymous,
                "photo": c.spec.photo,
                "attributes": [
                    {
                        "code": a_name,
                        "type": a.type,
                        "label": text_for(dict(a.label), locale),
                        "required": a.required,
                        "values": {k: text_for(dict(v), locale) for k, v in (a.values or {}).items()} or None,
                    }
                    for a_name, a in c.spec.attributes.items()
                    if not a.staff_only
                ],
            }
            for c in tenant.categories.values()
            if "public" in c.spec.intake
        ],
    }


# -- intake -----------------------------------------------------------------------------------


async def submit_ticket(
    body: intake.Submission,
    tenant: Tenant,
    scope: Scope,
    now: Now,
    actor: OptionalActor,
    response: Response,
    request: Request,
    preferred: PreferredLocale,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Receipt:
    """Submit a report. Staff signed in file it through the staff channel (phone calls).

    `locale` (one of the city's, `GET /tenant`) is the language of the e-mails
    the reporter gets; without it, the city locale `Accept-Language` prefers,
    else the city's own.

    With `Idempotency-Key`, a retry with the same body returns the first
    response and creates nothing; the same key with another body is a 422.
    As multipart/form-data: the report in a `report` part plus `photos` files,
    which become its public photos in the same transaction (web/api_attachments.py).
    """
    receipt, _ = await submit_report(request, tenant, scope, now, body, actor.view if actor else None,
                                     submitted_photos(request), idempotency_key, preferred)  # None for JSON
    return receipt


router.add_api_route("/tickets", submit_ticket, methods=["POST"], status_code=201, tags=["tickets"],
                     route_class_override=SubmissionRoute, openapi_extra=SUBMISSION_OPENAPI)


@router.get("/public/tickets/{number}", tags=["public"])
async def public_ticket(number: str, tenant: Tenant, scope: Scope) -> PublicTicket:
    """What anyone may know of a report: its status and the office's public updates (see `reading.public_ticket`)."""
    return await reading.public_ticket(scope, tenant, number)


# -- staff: tickets ---------------------------------------------------------------------------


@router.get("/tickets", tags=["tickets"])
async def list_tickets(
    tenant: Tenant,
    scope: Scope,
    actor: StaffActor,
    now: Now,
    state: str | None = None,
    public_status: Literal["open", "closed"] | None = None,
    category: str | None = None,
    unit: str | None = None,
    priority: Literal["low", "normal", "high", "urgent"] | None = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["created", "due"] = "created",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketPage:
    """The tickets this user may see, newest first (`sort=due`: due soonest, undated last); follow `next_cursor`.

    `q` searches number, description, address, attributes, category and public
    comments (every word as a prefix, diacritics ignored); a ticket number finds that ticket.
    `overdue=true`: open tickets past their deadline (unless waiting for the
    resident) or with an active task past its own; `overdue=false`: the rest.
    """
    filters = reading.ListFilters(state, public_status, category, unit, priority, overdue)
    return await reading.ticket_page(scope, tenant, actor.view, filters, cursor, limit, q=q, sort=sort, now=now)


@router.get("/tickets/{number}", tags=["tickets"])
async def get_ticket(number: str, tenant: Tenant, scope: Scope, actor: StaffActor, now: Now,
                     response: Response) -> TicketDetail:
    """A ticket with its tasks and the actions this user may take now."""
    loaded = await tickets.load_readable(scope, tenant, number, actor.view)
    _etag(response, loaded.ticket)
    return await reading.ticket_detail(scope, tenant, loaded, actor.view, now)


async def _fresh(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, actor: Principal, now: datetime,
                 response: Response) -> TicketDetail | HiddenTicket:
    loaded = await load_ticket(scope, await tickets.load(scope, ticket.number))
    _etag(response, loaded.ticket)
    if not sees_ticket(tenant, actor.view, loaded.view):
        # e.g. a worker delegated the task away: the change is done, the ticket is no longer theirs to read
        return HiddenTicket(number=loaded.ticket.number, version=loaded.ticket.version)
    return await reading.ticket_detail(scope, tenant, loaded, actor.view, now)


@router.patch("/tickets/{number}", tags=["tickets"])
async def edit_ticket(number: str, body: tickets.TicketEdit, tenant: Tenant, scope: Scope, actor: StaffActor,
                      now: Now, expected: ExpectedVersion, response: Response) -> TicketDetail | HiddenTicket:
    """Edit description, address, location or attributes (If-Match: the version you read)."""
    ticket = await tickets.edit(scope, tenant, number, body, actor.view, now, expected)
    return await _fresh(scope, tenant, ticket, actor, now, response)


class ActionInputs(BaseModel):
    """Inputs an action may require (see the ticket's `actions[].requires`)."""

    model_config = ConfigDict(extra="forbid")

    public_comment: str | None = Field(None, max_length=5000)
    internal_comment: str | None = Field(None, max_length=5000)
    reason: str | None = Field(None, max_length=2000)
    duplicate_of: str | None = Field(None, max_length=32)
    category: str | None = Field(None, max_length=64)
    priority: str | None = Field(None, max_length=16)
    unit: str | None = Field(None, max_length=64)


@router.post("/tickets/{number}/actions/{action}", tags=["tickets"])
async def ticket_action(number: str, action: Annotated[str, Field(max_length=64)], body: ActionInputs,
                        tenant: Tenant, scope: Scope, actor: StaffActor, now: Now, expected: ExpectedVersion,
                        response: Response) -> TicketDetail | HiddenTicket:
    """Fire a transition (`verify`, `reject` …) or `reclassify`, `mark_duplicate`, `set_priority`."""
    inputs = body.model_dump(exclude_none=True)
    ticket = await tickets.act(scope, tenant, number, action, actor.view, inputs, now, expected)
    bell.ring()
    return await _fresh(scope, tenant, ticket, actor, now, response)


class TaskInputs(BaseModel):
    """Inputs of a task action."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    comment: str | None = Field(None, max_length=5000)
    to_unit: str | None = Field(None, max_length=64)
    to_user: int | None = None


@router.post("/tickets/{number}/tasks/{key}/{action}", tags=["tasks"])
async def task_action(number: str, key: Annotated[str, Field(max_length=16)],
                      action: Literal["take", "complete", "delegate", "withdraw"], body: TaskInputs,
                      tenant: Tenant, scope: Scope, actor: StaffActor, now: Now, expected: ExpectedVersion,
                      response: Response) -> TicketDetail | HiddenTicket:
    """Take, complete, delegate (to a unit or a person, with a reason) or withdraw (with a reason) a task."""
    inputs = body.model_dump(exclude_none=True)
    ticket = await tickets.act_on_task(scope, tenant, number, key, action, actor.view, inputs, now, expected)
    # a `comment` is stored by act_on_task, in the action's transaction
    bell.ring()
    return await _fresh(scope, tenant, ticket, actor, now, response)


class CommentIn(BaseModel):
    """A comment: an internal note, a public update, a message to the reporter or to a unit."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)
    visibility: Literal["internal", "public", "to_reporter", "to_unit"] = "internal"
    target_unit: str | None = Field(None, max_length=64)
    task: str | None = Field(None, max_length=16)


@router.post("/tickets/{number}/comments", status_code=201, tags=["tickets"])
async def comment(number: str, body: CommentIn, tenant: Tenant, scope: Scope, actor: StaffActor,
                  now: Now) -> dict[str, Any]:
    """Add a comment."""
    row = await tickets.add_comment(scope, tenant, number, actor.view, body.body, body.visibility, now,
                                    body.target_unit, body.task)
    bell.ring()
    return {"id": row.id, "visibility": row.visibility, "body": row.body, "target_unit": row.target_unit}


@router.get("/tickets/{number}/history", tags=["tickets"])
async def ticket_history(number: str, tenant: Tenant, scope: Scope, actor: StaffActor,
                         now: Now) -> TicketHistory:
    """Every change, transition, assignment, delegation, withdrawal and comment the user's role reads."""
    loaded = await tickets.load_readable(scope, tenant, number, actor.view)
    caps = capabilities(tenant, loaded.view, actor.view, now)
    return TicketHistory(number=loaded.ticket.number,
                         events=await reading.history_items(scope, loaded, caps, actor.view))
