"""What the built-in effects do in the runtime: each is registered in `config/builtins.py`
exactly as a plugin registers its own (`EffectDef.expand`).

An expander updates the action's `Change` (the ticket view as it evolves)
and emits the effect records the store applies in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.moves import Change
from komunikator.engine.runtime.views import TaskView


def create_task(change: Change, args: Any) -> None:
    """Open a task for a unit; the first task of one list of effects starts a new step."""
    if not change.step_opened:
        change.ticket = replace(change.ticket, step=change.ticket.step + 1)
        change.step_opened = True
    unit = args.unit.unit or change.ticket.responsible_unit
    task = TaskView(
        key=change.ticket.next_task_key(),
        step=change.ticket.step,
        created_in=change.ticket.state,
        unit=unit,
        due_at=change.due(args.due),
    )
    change.ticket = change.ticket.with_task(task)
    title = dict(args.title) if args.title else None
    change.emit(fx.CreateTask(task.key, unit, task.step, task.created_in, task.due_at, title))
    change.event("task_assigned", task.key)


def notify(change: Change, args: Any) -> None:
    """Send a template to recipients (written to the outbox, delivered after commit)."""
    channels = tuple(args.channels) if args.channels else ("email",)
    change.emit(fx.Notify(tuple(args.to), args.template, channels, change.source))


def set_due(change: Change, args: Any) -> None:
    """Set the ticket's deadline."""
    due = change.due(args.due)
    change.ticket = replace(change.ticket, due_at=due)
    change.emit(fx.SetTicketDue(due))


def cancel_tasks(change: Change, args: Any) -> None:
    """Cancel the open tasks of the current step."""
    change.cancel_active(args.reason or "cancelled by the process", step_only=True)


def set_priority(change: Change, args: Any) -> None:
    """Change the ticket's priority."""
    if args.priority != change.ticket.priority:
        change.emit(fx.SetPriority(change.ticket.priority, args.priority))
        change.ticket = replace(change.ticket, priority=args.priority)
