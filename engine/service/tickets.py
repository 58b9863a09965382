"""Working with existing tickets: read, act, edit, comment, history.

Every function takes the tenant's scope and the acting user's view; what a
user may see and do is decided by the engine (`capabilities`, which holds
`sees_ticket`, `allowed_actions`, `allowed_task_actions`, edits, comment
kinds and photos), never here: the service requires a capability.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import fire, fire_task
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.capabilities import Capabilities, capabilities
from komunikator.engine.runtime.outcome import Refusal
from komunikator.engine.runtime.views import TicketView, UserView, contact_of
from komunikator.engine.schema.org import COMMENT_KINDS
from komunikator.engine.service import row_views as views
from komunikator.engine.service.apply import apply_outcome, audit
from komunikator.engine.service.errors import ServiceError, invalid, not_found, refused
from komunikator.engine.service.report_checks import check_attributes, check_location, district_of
from komunikator.engine.service.row_views import LoadedTicket
from komunikator.engine.service.search import index_ticket
from komunikator.engine.store.errors import NotFound, StaleVersion
from komunikator.engine.store.models import Comment, OutboxMessage, Task, Ticket, TicketAttribute
from komunikator.engine.store.scope import TICKET_NUMBER, TenantScope
from komunikator.engine.store.transactions import transaction

Visibility = Literal["internal", "public", "to_reporter", "to_unit"]


def public_number(text: str) -> str | None:
    """`text` as a public ticket number (`ZG-2026-000123`, any case), or None if it is not one.

    Paths and inputs name tickets by number only: a database id (`/tickets/17`) is no number,
    nor is text that `str.isdigit()` accepts but `int()` does not (`²`), nor one longer than
    the column (Tortoise refuses such a filter value with an exception).
    """
    number = text.strip().upper()
    fits = len(number) <= Ticket._meta.fields_map["number"].max_length  # type: ignore[attr-defined]
    return number if fits and number.isascii() and TICKET_NUMBER.match(number) else None


async def load(scope: TenantScope, number: str, *, counted: bool = False) -> Ticket:
    """A ticket by number; the one 404 for missing, foreign and malformed numbers (`counted`: with its
    followers and duplicates counted, `TenantScope.get_ticket`)."""
    cleaned = public_number(number)
    if cleaned is None:
        raise not_found()
    try:
        return await scope.get_ticket(cleaned, counted=counted)
    except NotFound:
        raise not_found() from None


async def load_visible(
    scope: TenantScope, tenant: CompiledTenant, number: str, user: UserView
) -> tuple[Ticket, TicketView]:
    """A ticket the user may see, with its view; 404 (not 403) otherwise."""
    loaded = await load_readable(scope, tenant, number, user)
    return loaded.ticket, loaded.view


async def load_readable(scope: TenantScope, tenant: CompiledTenant, number: str, user: UserView, *,
                        counted: bool = False) -> LoadedTicket:
    """`load_visible` with the rows it read (tasks, reporter contact), for the read models of one request."""
    loaded = await views.load_ticket(scope, await load(scope, number, counted=counted))
    if not sees_ticket(tenant, user, loaded.view):
        raise not_found()
    return loaded


def _check_version(ticket: Ticket, expected: int | None) -> int:
    if expected is not None and expected != ticket.version:
        raise ServiceError(409, "stale_version",
                           f"ticket {ticket.number} is at version {ticket.version}, not {expected}: reload it",
                           details={"current_version": ticket.version})
    return ticket.version


async def _apply(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, view: TicketView, result: Any,
                 user: UserView, now: datetime, version: int,
                 comments: Iterable[tuple[str, Visibility, str | None]] = ()) -> Ticket:
    """Write an outcome, and the comments that came with the action (text, visibility, task), atomically."""
    if isinstance(result, Refusal):
        raise refused(result)
    comments = list(comments)
    public = "\n\n".join(text for text, visibility, _ in comments if visibility == "public") or None
    try:
        async with transaction():
            ticket = await apply_outcome(scope, tenant, ticket, view, result, user, now, version,
                                         public_comment=public)
            for text, visibility, task_key in comments:
                await _store_comment(scope, ticket, user, text, visibility, None, task_key, now)
            if public is not None:
                await index_ticket(scope, tenant, ticket)
            return ticket
    except StaleVersion:
        raise ServiceError(409, "stale_version", f"ticket {ticket.number} was changed meanwhile: reload it") from None


async def act(
    scope: TenantScope, tenant: CompiledTenant, number: str, action: str, user: UserView,
    inputs: dict[str, Any], now: datetime, expected_version: int | None = None,
) -> Ticket:
    """Fire a process transition or a built-in action (reclassify, mark_duplicate, set_priority)."""
    ticket, view = await load_visible(scope, tenant, number, user)
    version = _check_version(ticket, expected_version)
    if action == "mark_duplicate" and inputs.get("duplicate_of"):
        try:
            master = await load(scope, str(inputs["duplicate_of"]))
        except ServiceError:
            raise invalid(f"no ticket {inputs['duplicate_of']!r} to merge into", "duplicate_of") from None
        if master.id == ticket.id:
            raise invalid("a ticket cannot duplicate itself", "duplicate_of")
        if master.duplicate_of_id is not None:  # type: ignore[attr-defined]
            raise invalid(f"{master.number} is itself a duplicate; merge into its master", "duplicate_of")
        inputs = {**inputs, "duplicate_of": master.number}
    result = fire(tenant, view, action, user, inputs, now)
    given: list[tuple[str, Visibility, str | None]] = [
        (str(inputs.get(f"{visibility}_comment") or "").strip(), visibility, None)
        for visibility in ("public", "internal")
    ]
    return await _apply(scope, tenant, ticket, view, result, user, now, version, [c for c in given if c[0]])


async def act_on_task(
    scope: TenantScope, tenant: CompiledTenant, number: str, key: str, action: str, user: UserView,
    inputs: dict[str, Any], now: datetime, expected_version: int | None = None,
) -> Ticket:
    """Take, complete, delegate or withdraw a task; `inputs["comment"]` is kept as an internal note on it."""
    ticket, view = await load_visible(scope, tenant, number, user)
    version = _check_version(ticket, expected_version)
    if capabilities(tenant, view, user, now).task(key) is None:  # missing, or another unit's the user may not read
        raise not_found("task")
    inputs = dict(inputs)
    if inputs.get("to_user") is not None:
        target = await scope.users().get_or_none(id=_int(inputs["to_user"]), active=True)
        if target is None:
            raise invalid(f"no staff member {inputs['to_user']!r}", "to_user")
        inputs["to_user"] = await views.user_view(scope, target)
    result = fire_task(tenant, view, key, action, user, inputs, now)
    note = str(inputs.get("comment") or "").strip()
    return await _apply(scope, tenant, ticket, view, result, user, now, version,
                        [(note, "internal", key)] if note else [])


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"{value!r} is not a user id", "to_user") from None
    if not 0 < number < 2**63:  # beyond BIGINT the database driver raises
        raise invalid(f"no staff member {value!r}", "to_user")
    return number


class TicketEdit(BaseModel):
    """Fields a verifying dispatcher may change (category and priority go through actions)."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, min_length=1, max_length=5000)
    address: str | None = Field(None, max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    attributes: dict[str, Any] | None = None


def require(caps: Capabilities, what: str) -> None:
    """Raise the capability's refusal (403 forbidden, 409 not_available) unless `caps` allows `what`."""
    refusal = caps.refusal(what)
    if refusal is not None:
        raise refused(refusal)


def check_edit(tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime | None = None) -> None:
    """Refuse an edit the user may not make (403) or the ticket no longer takes (409); pure."""
    require(capabilities(tenant, ticket, user, now or datetime.now(UTC)), "edit")


def check_comment(tenant: CompiledTenant, ticket: TicketView, user: UserView, body: str, visibility: str,
                  target_unit: str | None, task_key: str | None = None, now: datetime | None = None) -> None:
    """Refuse a comment the service would not store (403, 409 or 422); pure."""
    if user.kind != "staff":
        raise ServiceError(403, "forbidden", "only staff comment through this endpoint")
    if visibility not in COMMENT_KINDS:
        raise invalid(f"visibility is one of {', '.join(COMMENT_KINDS)}, not {visibility!r}", "visibility")
    caps = capabilities(tenant, ticket, user, now or datetime.now(UTC))
    require(caps, f"comment:{visibility}")
    if not body.strip():
        raise invalid("the comment is empty", "body")
    if visibility == "to_unit":
        if target_unit is None:
            raise invalid("a message to a unit needs `target_unit`", "target_unit", "missing_input")
        if target_unit not in tenant.units:
            raise invalid(f"unknown unit {target_unit!r}", "target_unit")
    elif target_unit is not None:
        raise invalid("target_unit goes only with visibility to_unit", "target_unit")
    if task_key is not None and caps.task(task_key) is None:  # a task the user may not read is none
        raise invalid(f"the ticket has no task {task_key!r}", "task")


async def edit(
    scope: TenantScope, tenant: CompiledTenant, number: str, changes: TicketEdit, user: UserView,
    now: datetime, expected_version: int | None = None,
) -> Ticket:
    """Change a ticket's own fields; the timeline records before → after."""
    ticket, view = await load_visible(scope, tenant, number, user)
    version = _check_version(ticket, expected_version)
    check_edit(tenant, view, user, now)
    given = changes.model_dump(exclude_unset=True)
    if not given:
        raise invalid("nothing to change")
    if "description" in given:
        given["description"] = (given["description"] or "").strip()
        if not given["description"]:
            raise invalid("the description is empty", "description")
    if ("lat" in given) != ("lon" in given) or (given.get("lat") is None) != (given.get("lon") is None):
        raise invalid("give both lat and lon", "lat")  # an edit moves the pin as a whole, or removes it
    check_location(tenant, given.get("lat", ticket.lat), given.get("lon", ticket.lon),
                   given.get("address", ticket.address))
    attributes = given.pop("attributes", None)
    check_attributes(tenant, ticket.category, attributes or {}, staff=True, complete=False)
    if "lat" in given:
        district = district_of(tenant, given["lat"], given["lon"])
        if district != ticket.district:  # the pin moved to another district
            given["district"] = district
    before = {k: getattr(ticket, k) for k in given}
    after = dict(given)
    try:
        async with transaction():
            await scope.update_ticket(ticket, version, **given)
            for name, value in (attributes or {}).items():
                row = await scope.ticket_attributes().get_or_none(ticket_id=ticket.id, name=name)
                before[f"attributes.{name}"] = views.unpack_attribute(row.value) if row else None
                after[f"attributes.{name}"] = value
                if row is None and value is not None:
                    await scope.create(
                        TicketAttribute, ticket_id=ticket.id, name=name, value=views.pack_attribute(value)
                    )
                elif row is not None and value is None:
                    await row.delete()
                elif row is not None:
                    row.value = views.pack_attribute(value)
                    await row.save(update_fields=["value"])
            await audit(scope, ticket, user, "edit", before, after, now)
            await index_ticket(scope, tenant, ticket)
    except StaleVersion:
        raise ServiceError(409, "stale_version", f"ticket {ticket.number} was changed meanwhile: reload it") from None
    return ticket


async def add_comment(
    scope: TenantScope, tenant: CompiledTenant, number: str, user: UserView, body: str,
    visibility: Visibility, now: datetime, target_unit: str | None = None, task_key: str | None = None,
) -> Comment:
    """A note (internal), a public update, a message to the reporter or to a unit."""
    ticket, view = await load_visible(scope, tenant, number, user)
    check_comment(tenant, view, user, body, visibility, target_unit, task_key, now)
    async with transaction():
        comment = await _store_comment(scope, ticket, user, body.strip(), visibility, target_unit, task_key, now)
        if visibility == "public":
            await index_ticket(scope, tenant, ticket)
        return comment


async def _store_comment(
    scope: TenantScope, ticket: Ticket, user: UserView, body: str, visibility: Visibility,
    target_unit: str | None, task_key: str | None, now: datetime,
) -> Comment:
    task_id = None
    if task_key is not None:
        task_id = (await scope.get(Task, ticket_id=ticket.id, key=task_key)).id
    author = int(user.id) if user.id.isdigit() else None
    comment = await scope.create(
        Comment, ticket=ticket, task_id=task_id, author_id=author, author_contact_id=contact_of(user),
        visibility=visibility,
        target_unit=target_unit, body=body, created_at=now,
    )
    await audit(scope, ticket, user, "comment", {}, {"comment": comment.id, "visibility": visibility,
                                                      "target_unit": target_unit, "task": task_key}, now)
    template = {"to_reporter": "message_to_reporter", "to_unit": "message_to_unit"}.get(visibility)
    if template is not None:
        recipient = "reporter" if visibility == "to_reporter" else f"unit:{target_unit}"
        if visibility == "to_unit" and task_key is None:
            # a message to a unit is about its task on this ticket, when it has one
            latest = await scope.tasks().filter(ticket_id=ticket.id, unit=target_unit).order_by("-id").first()
            task_key = latest.key if latest is not None else None
        await scope.create(
            OutboxMessage, ticket_id=ticket.id, kind=template, channel="email",
            dedupe_key=f"{ticket.number}:comment:{comment.id}",
            payload={"template": template, "event": f"message_{visibility}", "recipients": [recipient],
                     "ticket": ticket.number, "comment_id": comment.id, "task": task_key,
                     "message": {"text": body, "sender_name": user.name or None}},
        )
    return comment
