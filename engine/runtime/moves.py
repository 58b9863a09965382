"""The mechanics shared by every action: entering states, expanding effects.

A `Change` accumulates, for one action, the ticket view as it evolves and
the ordered list of effects for the store. Nothing here decides *whether*
an action is allowed; `actions.py` and `tasks.py` do that first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from komunikator.engine.compiled import PREVIOUS, BoundCall, CompiledProcess, CompiledTenant, CompiledTransition
from komunikator.engine.config import machines
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.views import TaskView, TicketView, UserView
from komunikator.engine.schema.refs import DueRef


def destination(process: CompiledProcess, ticket: TicketView, transition: CompiledTransition) -> str | None:
    """Where `transition` takes `ticket` now, or None if it cannot leave from here.

    `to: $previous` leads back to the state the ticket was in before its
    current one, if that is one of the states the transition may return to.
    """
    if transition.dest == PREVIOUS:
        if ticket.state not in transition.sources:
            return None
        return ticket.previous_state if ticket.previous_state in transition.returns_to else None
    return machines.destination(process, ticket.state, transition.name)


def calendar_for(tenant: CompiledTenant) -> WorkCalendar:
    """The tenant's working-day calendar (Polish holidays plus its own days off, its office hours)."""
    hours = tenant.config.office_hours
    return _calendar(tenant.config.time_zone, frozenset(d.date for d in tenant.config.days_off),
                     hours.opening, hours.closing)


@lru_cache(maxsize=256)
def _calendar(time_zone: str, days_off: frozenset[date], opens: time, closes: time) -> WorkCalendar:
    # built once per distinct configuration (a calendar is immutable): every capabilities() call asks for it
    return WorkCalendar.for_tenant(time_zone, days_off, office_hours=(opens, closes))


@dataclass
class Change:
    """One action's evolving ticket and effects."""

    tenant: CompiledTenant
    ticket: TicketView
    actor: UserView
    now: datetime
    calendar: WorkCalendar
    effects: list[fx.Effect] = field(default_factory=list)
    #: while effects run: whether a `create_task` already opened a new step, and what fired them
    step_opened: bool = False
    source: str = ""

    @property
    def process(self) -> CompiledProcess:
        return self.tenant.processes[self.ticket.process]

    def emit(self, effect: fx.Effect) -> None:
        self.effects.append(effect)

    # -- deadlines --------------------------------------------------------------

    def due(self, ref: DueRef | None) -> datetime | None:
        """Resolve a deadline reference from now (None when no SLA is set)."""
        if ref is None:
            return None
        duration = ref.duration
        if ref.sla is not None:
            duration = self.tenant.categories[self.ticket.category].sla(ref.sla, self.ticket.priority)  # type: ignore[arg-type]
        if duration is None:
            return None
        return self.calendar.add(self.now, duration.amount, duration.unit)

    # -- tasks ------------------------------------------------------------------

    def update_task(self, task: TaskView, action: str, reason: str | None = None, **changes: Any) -> TaskView:
        """Change a task in the view and record the change."""
        new = replace(task, **changes)
        self.ticket = self.ticket.with_task(new)
        self.emit(
            fx.UpdateTask(
                key=new.key,
                state=new.state,
                unit=new.unit,
                assignee=new.assignee,
                action=action,
                reason=reason,
                from_unit=task.unit if task.unit != new.unit else None,
                from_assignee=task.assignee if task.assignee != new.assignee else None,
            )
        )
        return new

    def cancel_active(self, reason: str, *, step_only: bool = False) -> None:
        """Cancel the tasks still open (of the current step, or all)."""
        for task in self.ticket.tasks:
            if task.active and (not step_only or task.step == self.ticket.step):
                self.update_task(task, "cancel", reason, state="cancelled")

    # -- events and rules -------------------------------------------------------

    def event(self, name: str, task: str | None = None) -> None:
        """Emit the notifications the tenant's rules attach to an event."""
        for rule in self.tenant.notifications.values():
            if rule.on != name:
                continue
            if rule.categories is not None and self.ticket.category not in rule.categories:
                continue
            self.emit(fx.Notify(tuple(rule.to), rule.template, tuple(rule.channels), name, task))

    # -- effects ----------------------------------------------------------------

    def run_effects(self, calls: tuple[BoundCall, ...], source: str) -> None:
        """Expand a transition's or timer's effects, in declaration order, each by its registered definition.

        An effect with an `expand` updates this change and may return effect
        records to emit; one without (a plugin's, applied in the store) is
        emitted as a `PluginEffect` its `apply` handler receives.
        """
        self.step_opened, self.source = False, source
        for call in calls:
            definition = call.definition
            if definition is None:
                raise LookupError(f"effect {call.name!r} was compiled without its definition")
            if definition.expand is None:
                self.emit(fx.PluginEffect(call.name, call.args, definition))
                continue
            for effect in definition.expand(self, call.args) or ():
                self.emit(effect)

    # -- moving between states --------------------------------------------------

    def move(self, transition: str, dest: str, effects: tuple[BoundCall, ...] = (), reason: str | None = None) -> None:
        """Leave the current state for `dest`, applying everything that goes with it."""
        process = self.process
        before = process.states[self.ticket.state]
        after = process.states[dest]
        self.emit(fx.ChangeState(before.name, after.name, transition, before.public, after.public))
        self.emit(
            fx.Audit(transition, self.actor.id, {"state": before.name}, {"state": after.name}, reason)
        )
        self.clear_timers(before.name)
        self._sla(before.sla_paused, after.sla_paused)
        if before.final and not after.final:
            self.ticket = replace(self.ticket, closed_at=None)
        if before.due is not None:  # the state's own deadline ends with it
            self.set_ticket_due(None)
        self.ticket = replace(self.ticket, state=dest, state_entered_at=self.now, previous_state=before.name)
        self.enter_due(dest)
        self.run_effects(effects, f"transition:{transition}")
        if after.final:
            self.cancel_active("the ticket was closed")
            self.ticket = replace(self.ticket, closed_at=self.now)
        self.arm_timers(dest)
        self.event("ticket_state_changed")
        if before.public != after.public:
            self.event("ticket_public_status_changed")

    def set_ticket_due(self, due: datetime | None) -> None:
        """Set the ticket's own deadline (recorded only when it changes)."""
        if due != self.ticket.due_at:
            self.ticket = replace(self.ticket, due_at=due)
            self.emit(fx.SetTicketDue(due))

    def enter_due(self, state: str) -> None:
        """Start the deadline `state` declares (`due: category.sla.verify`), counted from now."""
        due = self.process.states[state].due
        if due is not None:
            self.set_ticket_due(self.due(due))

    def arm_timers(self, state: str) -> None:
        """Arm the current process's timers that watch `state`, counted from now.

        A timer whose duration is a category SLA the ticket's category lacks
        is not armed (the compiler refuses that for the categories it knows).
        """
        for timer in self.process.timers:
            if timer.state == state:
                at = self.due(timer.after)
                if at is not None:
                    self.emit(fx.SetTimer(timer.name, state, at))

    def clear_timers(self, state: str) -> None:
        """Disarm the timers of the current process that watch `state` (it is being left)."""
        if any(t.state == state for t in self.process.timers):
            self.emit(fx.ClearTimers(state))

    def _sla(self, was_paused: bool, now_paused: bool) -> None:
        if not was_paused and now_paused:
            self.ticket = replace(self.ticket, sla_paused_at=self.now)
            self.emit(fx.PauseSla(self.now))
        elif was_paused and not now_paused and self.ticket.sla_paused_at is not None:
            # The pause costs the office time it lasted, to the minute; every deadline moves by as much.
            paused_at = self.ticket.sla_paused_at
            minutes = self.calendar.working_minutes_between(paused_at, self.now)
            self.ticket = replace(self.ticket, sla_paused_at=None)
            self.emit(fx.ResumeSla(paused_at, minutes))
            if minutes:
                if self.ticket.due_at is not None:
                    due = self.calendar.add_working_minutes(self.ticket.due_at, minutes)
                    self.ticket = replace(self.ticket, due_at=due)
                    self.emit(fx.SetTicketDue(due))
                for task in self.ticket.tasks:
                    if task.active and task.due_at is not None:
                        new_due = self.calendar.add_working_minutes(task.due_at, minutes)
                        self.ticket = self.ticket.with_task(replace(task, due_at=new_due))
                        self.emit(fx.SetTaskDue(task.key, new_due))
