"""Evaluators of the built-in named conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import BoundCall, CompiledTenant
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.views import TicketView


@dataclass(frozen=True)
class ConditionContext:
    """What a condition may look at."""

    tenant: CompiledTenant
    ticket: TicketView
    now: datetime
    calendar: WorkCalendar


def all_tasks_done(ctx: ConditionContext, args: Any) -> bool:
    """Every task of the current step is done (cancelled ignored), and there is one."""
    tasks = ctx.ticket.current_tasks()
    return bool(tasks) and all(t.state == "done" for t in tasks)


def no_open_tasks(ctx: ConditionContext, args: Any) -> bool:
    """No task of the current step is open or in progress."""
    return not any(t.active for t in ctx.ticket.current_tasks())


def resolved_within(ctx: ConditionContext, args: Any) -> bool:
    """The ticket was closed no longer ago than `args.within`."""
    closed = ctx.ticket.closed_at
    if closed is None:
        return False
    limit = ctx.calendar.add(closed, args.within.amount, args.within.unit)
    return ctx.now <= limit


def priority_in(ctx: ConditionContext, args: Any) -> bool:
    """The ticket's priority is one of `args.priorities`."""
    return ctx.ticket.priority in args.priorities


def reporter_has_contact(ctx: ConditionContext, args: Any) -> bool:
    """The reporter can be reached."""
    return ctx.ticket.reporter_has_contact or ctx.ticket.reporter_id is not None


def attribute_equals(ctx: ConditionContext, args: Any) -> bool:
    """A category attribute has a given value."""
    return bool(ctx.ticket.attributes.get(args.attribute) == args.value)


def holds(call: BoundCall, ctx: ConditionContext) -> bool:
    """Evaluate one bound condition by its registered definition (built-in or from a plugin)."""
    evaluate = getattr(call.definition, "evaluate", None)
    if evaluate is None:
        raise LookupError(f"condition {call.name!r} has no evaluator")
    return bool(evaluate(ctx, call.args))
