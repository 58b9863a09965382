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
    """Send a template to recipients (written to the outbox, delivered after commit).

    Recipients named by a task (`task_unit`, `assignee`, `role:ROLE@task_unit`)
    get one message per task of the current step (the open ones, else the
    done ones), each about its task; the others get one message.
    """
    channels = tuple(args.channels) if args.channels else ("email",)
    recipients = tuple(args.to)
    scoped = tuple(r for r in recipients if r.task_scoped)
    current = change.ticket.current_tasks()
    tasks = [t for t in current if t.active] or [t for t in current if t.state == "done"]
    if not scoped or not tasks:
        change.emit(fx.Notify(recipients, args.template, channels, change.source))
        return
    rest = tuple(r for r in recipients if not r.task_scoped)
    if rest:
        change.emit(fx.Notify(rest, args.template, channels, change.source))
    for task in tasks:
        change.emit(fx.Notify(scoped, args.template, channels, change.source, task.key))


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
