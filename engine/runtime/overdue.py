"""Overdue, defined once.

A ticket is overdue when it is open, its SLA clock runs (a paused one waits
for the resident: its own deadline and its tasks' stand still), and its own
deadline or an active task's deadline has come (`deadline <= now`). A task
is overdue when it is active, its ticket's clock runs and its deadline has
come.

The ticket detail (`service/reading.py`) asks these functions; the staff
list's filter (`service/ticket_list.py`, `overdue_condition`) is their SQL twin and
the SLA escalation's query (`engine/timers`, `overdue`) another, both held
equal to them by `tests/search/test_overdue_reference.py` over seeded
tickets on both databases.
"""

from __future__ import annotations

from datetime import datetime

from komunikator.engine.runtime.views import TaskView, TicketView


def deadline_passed(deadline: datetime | None, now: datetime) -> bool:
    """Whether a deadline has come by `now` (the moment itself counts; no deadline never passes)."""
    return deadline is not None and deadline <= now


def clock_runs(ticket: TicketView) -> bool:
    """Whether the ticket's SLA clock runs: open and not waiting for the resident."""
    return ticket.closed_at is None and ticket.sla_paused_at is None


def task_overdue(ticket: TicketView, task: TaskView, now: datetime) -> bool:
    """Whether `task` of `ticket` is overdue at `now`."""
    return clock_runs(ticket) and task.active and deadline_passed(task.due_at, now)


def own_deadline_passed(ticket: TicketView, now: datetime) -> bool:
    """Whether the ticket itself (not a task) is overdue at `now`."""
    return clock_runs(ticket) and deadline_passed(ticket.due_at, now)


def ticket_overdue(ticket: TicketView, now: datetime) -> bool:
    """Whether the ticket is overdue at `now`: its own deadline or an active task's has come."""
    return own_deadline_passed(ticket, now) or any(task_overdue(ticket, t, now) for t in ticket.tasks)


__all__ = ["clock_runs", "deadline_passed", "own_deadline_passed", "task_overdue", "ticket_overdue"]
