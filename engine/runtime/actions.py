"""What a user may do to a ticket now, and what doing it means.

`allowed_actions` and `fire` share one decision (`_check`), so `fire`
refuses exactly what `allowed_actions` does not offer. `fire` settles the
ticket afterwards: automatic transitions run until none applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import PREVIOUS, CompiledTenant, CompiledTransition
from komunikator.engine.config import machines
from komunikator.engine.config.process_compiler import HOP_LIMIT
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.access import actor_allows, edits_tickets
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.conditions import ConditionContext, holds
from komunikator.engine.runtime.configured import unconfigured
from komunikator.engine.runtime.moves import Change, calendar_for, destination
from komunikator.engine.runtime.outcome import Action, Outcome, Refusal, SettleLimitExceeded
from komunikator.engine.runtime.views import SYSTEM, TicketView, UserView
from komunikator.engine.schema.categories import PRIORITIES

BUILTIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "reclassify": ("category",),
    "mark_duplicate": ("duplicate_of",),
    "set_priority": ("priority",),
}


def allowed_actions(
    tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime, calendar: WorkCalendar | None = None
) -> list[Action]:
    """Every action `user` may take on `ticket` now, with the inputs each requires."""
    if unconfigured(tenant, ticket) is not None:  # a definition change left it behind: readable, not actionable
        return []
    calendar = calendar or calendar_for(tenant)
    out = []
    process = tenant.processes[ticket.process]
    for name in machines.triggers_from(process, ticket.state):
        transition = process.transitions[name]
        if _check_transition(tenant, ticket, transition, user, now, calendar) is None:
            dest = destination(process, ticket, transition)
            out.append(Action(name, "transition", transition.requires, dest, transition.label))
    for name in BUILTIN_ACTIONS:
        if _check_builtin(tenant, ticket, name, user) is None:
            kind: Any = name
            out.append(Action(name, kind, BUILTIN_ACTIONS[name]))
    return out


def _check_transition(
    tenant: CompiledTenant,
    ticket: TicketView,
    transition: CompiledTransition,
    user: UserView,
    now: datetime,
    calendar: WorkCalendar,
) -> Refusal | None:
    if transition.automatic:
        return Refusal("not_available", f"{transition.name!r} happens automatically; nobody fires it")
    if destination(tenant.processes[ticket.process], ticket, transition) is None:
        if transition.dest == PREVIOUS and ticket.state in transition.sources:
            return Refusal("not_available", f"{transition.name!r} returns to the previous state, and the ticket "
                                            f"did not come to {ticket.state!r} from one it may return to")
        return Refusal("not_available", f"{transition.name!r} is not possible from state {ticket.state!r}")
    if not any(actor_allows(tenant, actor, ticket, user) for actor in transition.actors):
        who = ", ".join(str(a) for a in transition.actors)
        return Refusal("forbidden", f"{transition.name!r} may be done only by: {who}")
    ctx = ConditionContext(tenant, ticket, now, calendar)
    for condition in transition.conditions:
        if not holds(condition, ctx):
            return Refusal("condition_failed", f"{transition.name!r} requires {condition.name!r}, which does not hold")
    return None


def _check_builtin(tenant: CompiledTenant, ticket: TicketView, name: str, user: UserView) -> Refusal | None:
    state = tenant.processes[ticket.process].states[ticket.state]
    if state.final:
        return Refusal("not_available", f"{name!r} is not possible on a closed ticket")
    if name == "reclassify" and not state.reclassify:
        return Refusal("not_available", f"the category cannot change in state {ticket.state!r}")
    if not edits_tickets(tenant, user):
        return Refusal("forbidden", f"{name!r} needs a role that edits tickets")
    return None


def _check_inputs(
    tenant: CompiledTenant, ticket: TicketView, requires: tuple[str, ...], inputs: Mapping[str, Any]
) -> Refusal | None:
    for name in requires:
        value = inputs.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return Refusal("missing_input", f"{name!r} is required", name)
        if name == "category" and value not in tenant.categories:
            return Refusal("invalid_input", f"unknown category {value!r}", name)
        if name == "category" and value == ticket.category:
            return Refusal("invalid_input", "the ticket already has this category", name)
        if name == "priority" and value not in PRIORITIES:
            return Refusal("invalid_input", f"priority must be one of {', '.join(PRIORITIES)}", name)
        if name == "unit" and value not in tenant.units:
            return Refusal("invalid_input", f"unknown unit {value!r}", name)
        if name == "duplicate_of" and value == ticket.id:
            return Refusal("invalid_input", "a ticket cannot duplicate itself", name)
        if not isinstance(value, str):
            return Refusal("invalid_input", f"{name!r} must be text", name)
    return None


def fire(
    tenant: CompiledTenant,
    ticket: TicketView,
    action: str,
    user: UserView,
    inputs: Mapping[str, Any] | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> Outcome | Refusal:
    """Do `action` as `user`: the new ticket view and effects, or a precise refusal."""
    if (refusal := unconfigured(tenant, ticket)) is not None:
        return refusal
    calendar = calendar or calendar_for(tenant)
    inputs = inputs or {}
    process = tenant.processes[ticket.process]
    transition = process.transitions.get(action)
    if transition is not None:
        refusal = _check_transition(tenant, ticket, transition, user, now, calendar)
        refusal = refusal or _check_inputs(tenant, ticket, transition.requires, inputs)
        if refusal:
            return refusal
        change = Change(tenant, ticket, user, now, calendar)
        change.move(action, str(destination(process, ticket, transition)), transition.effects, _reason(inputs))
    elif action in BUILTIN_ACTIONS:
        refusal = _check_builtin(tenant, ticket, action, user)
        refusal = refusal or _check_inputs(tenant, ticket, BUILTIN_ACTIONS[action], inputs)
        if refusal:
            return refusal
        change = Change(tenant, ticket, user, now, calendar)
        _BUILTIN_APPLY[action](change, inputs)
    else:
        return Refusal("unknown_action", f"process {process.name!r} has no action {action!r}")
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))


def _reason(inputs: Mapping[str, Any]) -> str | None:
    for key in ("reason", "public_comment", "internal_comment"):
        if inputs.get(key):
            return str(inputs[key])
    return None


def _reclassify(change: Change, inputs: Mapping[str, Any]) -> None:
    tenant, ticket = change.tenant, change.ticket
    new = tenant.categories[inputs["category"]]
    change.emit(
        fx.Reclassify(ticket.category, new.name, ticket.process, new.process, ticket.responsible_unit, new.unit)
    )
    change.emit(
        fx.Audit(
            "reclassify",
            change.actor.id,
            {"category": ticket.category, "process": ticket.process, "unit": ticket.responsible_unit},
            {"category": new.name, "process": new.process, "unit": new.unit},
            _reason(inputs),
        )
    )
    if new.process == ticket.process:
        # Same process: tasks already created keep their unit and deadline.
        change.ticket = replace(ticket, category=new.name, responsible_unit=new.unit)
        return
    change.cancel_active("the ticket moved to another process")
    change.clear_timers(ticket.state)  # still the old process's
    if change.process.states[ticket.state].due is not None:  # the old state's own deadline ends with it
        change.set_ticket_due(None)
    entry = tenant.processes[new.process].entry
    change.ticket = replace(
        change.ticket, category=new.name, process=new.process, responsible_unit=new.unit, state=entry,
        state_entered_at=change.now, previous_state=None,
    )
    change.enter_due(entry)
    change.arm_timers(entry)


def _mark_duplicate(change: Change, inputs: Mapping[str, Any]) -> None:
    master = str(inputs["duplicate_of"])
    change.cancel_active("the ticket is a duplicate")
    change.emit(fx.MergeInto(master))
    change.ticket = replace(change.ticket, duplicate_of=master)
    change.move("mark_duplicate", change.process.duplicate_state, (), f"duplicate of {master}")


def _set_priority(change: Change, inputs: Mapping[str, Any]) -> None:
    before, after = change.ticket.priority, str(inputs["priority"])
    if before == after:
        return
    change.emit(fx.SetPriority(before, after))
    change.emit(fx.Audit("set_priority", change.actor.id, {"priority": before}, {"priority": after}))
    change.ticket = replace(change.ticket, priority=after)


_BUILTIN_APPLY = {"reclassify": _reclassify, "mark_duplicate": _mark_duplicate, "set_priority": _set_priority}


def settle_change(change: Change) -> None:
    """Fire automatic transitions (as the system) until none applies."""
    actor = change.actor
    change.actor = SYSTEM
    try:
        for _ in range(HOP_LIMIT):
            process = change.process
            ctx = ConditionContext(change.tenant, change.ticket, change.now, change.calendar)
            for name in process.automatic.get(change.ticket.state, ()):
                transition = process.transitions[name]
                dest = destination(process, change.ticket, transition)
                if dest is not None and all(holds(c, ctx) for c in transition.conditions):
                    change.move(name, dest, transition.effects)
                    break
            else:
                return
        raise SettleLimitExceeded(f"more than {HOP_LIMIT} automatic transitions in a row on {change.ticket.id}")
    finally:
        change.actor = actor


def settle(
    tenant: CompiledTenant, ticket: TicketView, now: datetime, calendar: WorkCalendar | None = None
) -> Outcome:
    """Fire automatic transitions until none applies (actor: system)."""
    change = Change(tenant, ticket, SYSTEM, now, calendar or calendar_for(tenant))
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))


def start(
    tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime, calendar: WorkCalendar | None = None
) -> Outcome:
    """A new ticket enters its process: arm the entry state's timers, emit events, settle."""
    change = Change(tenant, ticket, user, now, calendar or calendar_for(tenant))
    change.ticket = replace(ticket, state_entered_at=now)
    change.enter_due(ticket.state)
    change.arm_timers(ticket.state)
    change.event("ticket_created")
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))
