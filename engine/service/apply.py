"""Apply an engine outcome to the database, inside the caller's transaction.

The engine returns the ticket's new view and an ordered list of effects; this
module writes them: the ticket's fields (with the optimistic version check),
tasks and their assignment history, timers, audit rows and outbox rows for
notifications. Delivery happens after commit (the outbox is the queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311 import handover as open311_handover
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.outcome import Outcome
from komunikator.engine.runtime.views import TicketView, UserView, contact_of
from komunikator.engine.service.search import index_ticket
from komunikator.engine.store.models import AuditEvent, Follower, OutboxMessage, Task, TaskAssignment, Ticket, Timer
from komunikator.engine.store.scope import TenantScope

#: Ticket columns mirrored from the engine's view.
_MIRRORED = ("state", "category", "process", "responsible_unit", "priority", "step", "state_entered_at",
             "closed_at", "due_at", "sla_paused_at", "previous_state")


def _user_id(ref: str | None) -> int | None:
    return int(ref) if ref is not None and ref.isdigit() else None


def actor_fields(actor: UserView) -> dict[str, Any]:
    """The audit columns naming who acted."""
    if actor.kind == "system":
        return {"actor_kind": "system", "actor_user_id": None}
    contact = contact_of(actor)
    if contact is not None:  # the reporter through their link (no account): the contact is referenced, not copied
        return {"actor_kind": "reporter", "actor_user_id": None, "reporter_contact_id": contact}
    return {"actor_kind": "user", "actor_user_id": _user_id(actor.id)}


async def audit(
    scope: TenantScope, ticket: Ticket | None, actor: UserView, action: str, before: dict[str, Any],
    after: dict[str, Any], now: datetime, reason: str | None = None,
) -> None:
    """Append one history row."""
    await scope.create(
        AuditEvent, ticket=ticket, action=action, before=_jsonable(before),
        after=_jsonable(after), reason=reason, at=now, **actor_fields(actor),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def apply_outcome(
    scope: TenantScope,
    tenant: CompiledTenant,
    ticket: Ticket,
    before: TicketView,
    outcome: Outcome,
    actor: UserView,
    now: datetime,
    expected_version: int,
    *,
    bump: bool = True,
    defer_outbox: list[tuple[fx.Notify, str, int]] | None = None,
    public_comment: str | None = None,
) -> Ticket:
    """Write `outcome` for `ticket` (at `expected_version`); returns the updated row.

    `bump=False` (a ticket created in this transaction, seen by no one yet)
    skips the version bump when the outcome changes no ticket column.
    `defer_outbox`, when given, collects the notifications instead of writing
    them (intake writes them once the ticket has its final number).
    `public_comment`: the public comment given with the action (a rejection's
    reason), carried by its notifications (`comment.text` in templates).
    Never an internal comment: notifications reach residents.
    """
    after = outcome.ticket
    changes: dict[str, Any] = {}
    for name in _MIRRORED:
        if getattr(before, name) != getattr(after, name):
            changes[name] = getattr(after, name)
    process = tenant.processes[after.process]
    public = process.states[after.state].public
    if public != ticket.public_status:
        changes["public_status"] = public
    merge = next((e for e in outcome.effects if isinstance(e, fx.MergeInto)), None)
    master = await scope.get_ticket(merge.master) if merge is not None else None
    if master is not None:
        changes["duplicate_of_id"] = master.id
    if changes or bump:
        await scope.update_ticket(ticket, expected_version, **changes)
    if "category" in changes:  # the category's names and attribute labels are in the search document
        await index_ticket(scope, tenant, ticket)
    tasks: dict[str, Task] = {t.key: t for t in await scope.tasks().filter(ticket_id=ticket.id)}
    messages = 0
    for effect in outcome.effects:
        match effect:
            case fx.CreateTask():
                task = await scope.create(
                    Task, ticket=ticket, key=effect.key, step=effect.step, created_in=effect.created_in,
                    unit=effect.unit, state="open", due_at=effect.due_at, title=effect.title,
                    created_at=now,
                )
                tasks[task.key] = task
                await scope.create(TaskAssignment, task=task, action="create", to_unit=effect.unit,
                                   actor_id=_user_id(actor.id), at=now)
                await audit(scope, ticket, actor, "task_create", {},
                            {"task": effect.key, "unit": effect.unit, "due_at": effect.due_at}, now)
                await open311_handover.hand_over(scope, tenant, ticket, task, now)  # a unit with its own Open311 server
            case fx.UpdateTask():
                task = tasks[effect.key]
                old_unit, old_assignee = task.unit, task.assignee_id  # type: ignore[attr-defined]
                task.state, task.unit = effect.state, effect.unit
                task.assignee_id = _user_id(effect.assignee)
                await task.save(update_fields=["state", "unit", "assignee_id", "updated_at"])
                await scope.create(
                    TaskAssignment, task=task, action=effect.action, from_unit=old_unit, to_unit=effect.unit,
                    from_assignee_id=old_assignee, to_assignee_id=_user_id(effect.assignee), reason=effect.reason,
                    actor_id=_user_id(actor.id), at=now,
                )
                if effect.action == "delegate" and effect.unit != old_unit:
                    await open311_handover.hand_over(scope, tenant, ticket, task, now)
                if effect.action == "cancel":
                    await audit(scope, ticket, actor, "task_cancel", {"task": effect.key}, {"state": "cancelled"}, now,
                                effect.reason)
            case fx.SetTaskDue():
                task = tasks[effect.key]
                task.due_at = effect.due_at
                await task.save(update_fields=["due_at", "updated_at"])
            case fx.Notify():
                for channel in effect.channels:
                    messages += 1
                    if defer_outbox is not None:
                        defer_outbox.append((effect, channel, messages))
                    else:
                        await write_outbox(scope, tenant, ticket, effect, channel, messages, public_comment)
            case fx.SetTimer():
                await scope.create(Timer, ticket=ticket, timer_name=effect.name, state=effect.state,
                                   fire_at=effect.at)
            case fx.ClearTimers():
                await scope.timers().filter(ticket_id=ticket.id, state=effect.state, status="armed").update(
                    status="cancelled", cancelled_at=now
                )
            case fx.MergeInto() if master is not None:
                await _merge_into(scope, ticket, master)
            case fx.Audit():
                await audit(scope, ticket, actor, effect.action, effect.before, effect.after, now, effect.reason)
            case fx.ResumeSla():
                await audit(scope, ticket, actor, "sla_resume", {"paused_at": effect.paused_at},
                            {"working_minutes_added": effect.working_minutes}, now)
            case fx.PluginEffect():
                await _apply_plugin_effect(EffectContext(scope, tenant, ticket, actor, now), effect)
            case fx.MergeInto() | fx.ChangeState() | fx.SetTicketDue() | fx.SetPriority() | fx.PauseSla() \
                    | fx.Reclassify():
                pass  # mirrored above from the ticket's view (columns), or recorded by its Audit effect
            case _:
                assert_never(effect)
    return ticket


@dataclass(frozen=True)
class EffectContext:
    """What a plugin's effect handler (`EffectDef.apply`) works with, inside the action's transaction."""

    scope: TenantScope
    tenant: CompiledTenant
    ticket: Ticket
    actor: UserView
    now: datetime


async def _apply_plugin_effect(ctx: EffectContext, effect: fx.PluginEffect) -> None:
    """Hand a plugin's effect to the plugin's handler, and record it in the ticket's history."""
    handler = getattr(effect.definition, "apply", None)
    if handler is None:
        raise LookupError(f"effect {effect.name!r} has no handler to apply it")
    await handler(ctx, effect)
    args = effect.args.model_dump(mode="json") if effect.args is not None else {}
    await audit(ctx.scope, ctx.ticket, ctx.actor, f"effect:{effect.name}", {}, {"args": args}, ctx.now)


async def write_outbox(
    scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, effect: fx.Notify, channel: str, index: int,
    public_comment: str | None = None,
) -> OutboxMessage:
    """One outbox row for a notification; its dedupe key is stable for this change of this ticket."""
    return await scope.create(
        OutboxMessage, ticket=ticket, kind=effect.template, channel=channel,
        dedupe_key=f"{ticket.number}:v{ticket.version}:{index}:{channel}",
        payload=notification_payload(tenant, ticket, effect, public_comment),
    )


def notification_payload(
    tenant: CompiledTenant, ticket: Ticket, effect: fx.Notify, public_comment: str | None = None
) -> dict[str, Any]:
    """The outbox payload of a notification (what `engine/delivery` reads)."""
    payload: dict[str, Any] = {
        "template": effect.template,
        "event": effect.event,
        "recipients": [str(r) for r in effect.recipients],
        "ticket": ticket.number,
        "task": effect.task,
        "locale": tenant.config.locale,
    }
    if public_comment:
        payload["comment"] = public_comment
    return payload


async def _merge_into(scope: TenantScope, ticket: Ticket, master: Ticket) -> None:
    """The duplicate's reporter and followers follow the master ticket from now on."""
    people: list[tuple[int | None, int | None]] = [
        (ticket.reporter_user_id, ticket.reporter_contact_id)  # type: ignore[attr-defined]
    ]
    for follower in await scope.followers().filter(ticket_id=ticket.id):
        people.append((follower.user_id, follower.contact_id))  # type: ignore[attr-defined]
    for user_id, contact_id in people:
        if user_id is None and contact_id is None:
            continue
        key = {"user_id": user_id} if user_id is not None else {"contact_id": contact_id}
        if not await scope.followers().filter(ticket_id=master.id, **key).exists():
            await scope.create(Follower, ticket_id=master.id, **key)
