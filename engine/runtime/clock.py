"""The clock-driven entry points: a due timer, an overdue escalation, a remapped state.

The timer jobs (`komunikator.engine.timers`) and `komunikator db
migrate-definitions` call these; like every runtime function they take a
view and return an `Outcome` (or a `Refusal`) for the store to apply.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.actions import settle_change
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.conditions import ConditionContext, holds
from komunikator.engine.runtime.moves import Change, calendar_for, destination
from komunikator.engine.runtime.outcome import Outcome, Refusal
from komunikator.engine.runtime.views import SYSTEM, TicketView

#: The transition name recorded when `state_map` moves a ticket.
STATE_MAP = "state_map"


def fire_timer(
    tenant: CompiledTenant, ticket: TicketView, name: str, now: datetime, calendar: WorkCalendar | None = None
) -> Outcome | Refusal:
    """A due timer: fire its transition or effects, if the ticket is still where the timer watches.

    `name` is the timer's key in the process's `timers:`; a timer the
    configuration no longer has, or a ticket that left the watched state,
    is refused as `stale_timer` (the job cancels the armed row).
    """
    process = tenant.processes.get(ticket.process)
    if process is None:
        return Refusal("stale_timer", f"the configuration has no process {ticket.process!r}")
    timer = process.timer(name)
    if timer is None:
        return Refusal("stale_timer", f"process {process.name!r} has no timer {name!r}")
    if ticket.state != timer.state:
        return Refusal("stale_timer", f"the ticket left state {timer.state!r}")
    change = Change(tenant, ticket, SYSTEM, now, calendar or calendar_for(tenant))
    change.run_effects(timer.effects, f"timer:{name}")
    if timer.transition is not None:
        transition = process.transitions[timer.transition]
        ctx = ConditionContext(tenant, change.ticket, now, change.calendar)
        dest = destination(process, change.ticket, transition)
        if dest is not None and all(holds(c, ctx) for c in transition.conditions):
            change.move(transition.name, dest, transition.effects, f"timer {name}")
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))


def escalate(
    tenant: CompiledTenant, ticket: TicketView, event: str, task: str | None, now: datetime,
    calendar: WorkCalendar | None = None,
) -> Outcome:
    """The notifications the tenant's rules attach to an escalation `event` (`ticket_overdue`, `task_overdue`)."""
    change = Change(tenant, ticket, SYSTEM, now, calendar or calendar_for(tenant))
    change.event(event, task)
    return Outcome(change.ticket, tuple(change.effects))


def remap_state(
    tenant: CompiledTenant, ticket: TicketView, public_before: str, now: datetime,
    calendar: WorkCalendar | None = None,
) -> Outcome | Refusal:
    """Move a ticket out of a state its process no longer has, to where the process's `state_map` says.

    The removed state's armed timers are cancelled and the new state's armed,
    as on any transition; the move is audited as transition `state_map`.
    `public_before` is the ticket's stored public status (the old state's
    definition is gone).
    """
    process = tenant.processes.get(ticket.process)
    if process is None:
        return Refusal("not_available", f"the configuration has no process {ticket.process!r}")
    if ticket.state in process.states:
        return Refusal("not_available", f"state {ticket.state!r} still exists in process {process.name!r}")
    dest = process.state_map.get(ticket.state)
    if dest is None:
        return Refusal("not_available", f"process {process.name!r} has no `state_map` entry for {ticket.state!r}")
    after = process.states[dest]
    change = Change(tenant, ticket, SYSTEM, now, calendar or calendar_for(tenant))
    change.emit(fx.ChangeState(ticket.state, dest, STATE_MAP, public_before, after.public))
    change.emit(fx.Audit(STATE_MAP, SYSTEM.id, {"state": ticket.state}, {"state": dest},
                         "the state was removed from the process's definition"))
    change.emit(fx.ClearTimers(ticket.state))
    change._sla(ticket.sla_paused_at is not None, after.sla_paused)  # the SLA clock, as on any move
    change.ticket = replace(change.ticket, state=dest, state_entered_at=now)
    change.enter_due(dest)  # the new state's own deadline, if it has one (the lost state's is unknown: kept)
    if after.final:
        change.cancel_active("the ticket was closed")
        change.ticket = replace(change.ticket, closed_at=now)
    change.arm_timers(dest)
    change.event("ticket_state_changed")
    if public_before != after.public:
        change.event("ticket_public_status_changed")
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))
