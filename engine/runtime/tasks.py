"""The fixed task machine: take, complete, delegate, withdraw.

    open ──take──▶ in_progress ──complete──▶ done
      │  ◀──delegate (same task, another unit or person; the hop is recorded)
      └──withdraw──▶ withdrawn  (the ticket goes where its state's on_withdraw says)

Tasks of a closed ticket are cancelled by the ticket, never by hand. Every
task action settles the ticket afterwards (`all_tasks_done` may now hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.access import edits_tickets, handles, records_for_external
from komunikator.engine.runtime.actions import settle_change
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.configured import unconfigured
from komunikator.engine.runtime.moves import Change, calendar_for
from komunikator.engine.runtime.outcome import Outcome, Refusal, TaskAction
from komunikator.engine.runtime.views import TaskView, TicketView, UserView

TASK_ACTIONS = ("take", "complete", "delegate", "withdraw")


def allowed_task_actions(tenant: CompiledTenant, ticket: TicketView, key: str, user: UserView) -> list[TaskAction]:
    """Every action `user` may take on task `key` now."""
    task = ticket.task(key)
    if task is None or unconfigured(tenant, ticket) is not None:
        return []
    return [
        TaskAction(name, key, _REQUIRES[name])  # type: ignore[arg-type]
        for name in TASK_ACTIONS
        if _check(tenant, ticket, task, name, user) is None
    ]


_REQUIRES: dict[str, tuple[str, ...]] = {
    "take": (),
    "complete": (),
    "delegate": ("reason", "to_unit|to_user"),
    "withdraw": ("reason",),
}


def _check(tenant: CompiledTenant, ticket: TicketView, task: TaskView, action: str, user: UserView) -> Refusal | None:
    if not task.active:
        return Refusal("not_available", f"task {task.key} is {task.state}")
    if tenant.processes[ticket.process].states[ticket.state].final:
        return Refusal("not_available", "the ticket is closed")
    handler = handles(tenant, user, task.unit, action)  # the role's `task_actions` (default: all four)
    on_behalf = records_for_external(tenant, user, task)
    if action == "take":
        if task.state == "in_progress" and task.assignee == user.id:
            return Refusal("not_available", f"task {task.key} is already yours")
        ok = handler
    elif action == "complete":
        ok = handler or on_behalf or (task.assignee is not None and task.assignee == user.id)
    elif action == "delegate":
        ok = handler or edits_tickets(tenant, user)
    elif action == "withdraw":
        ok = handler or on_behalf
    else:
        return Refusal("unknown_action", f"tasks have no action {action!r}; they have {', '.join(TASK_ACTIONS)}")
    if not ok:
        return Refusal("forbidden", f"you may not {action} a task of unit {task.unit!r}")
    return None


def fire_task(
    tenant: CompiledTenant,
    ticket: TicketView,
    key: str,
    action: str,
    user: UserView,
    inputs: Mapping[str, Any] | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> Outcome | Refusal:
    """Do a task action; `inputs` may hold `reason`, `comment`, `to_unit`, `to_user` (a UserView)."""
    inputs = inputs or {}
    task = ticket.task(key)
    if task is None:
        return Refusal("not_available", f"the ticket has no task {key!r}")
    refusal = unconfigured(tenant, ticket) or _check(tenant, ticket, task, action, user)
    if refusal:
        return refusal
    reason = inputs.get("reason") or inputs.get("comment")
    if action in ("delegate", "withdraw") and not (isinstance(reason, str) and reason.strip()):
        return Refusal("missing_input", f"a reason is required to {action} a task", "reason")
    change = Change(tenant, ticket, user, now, calendar or calendar_for(tenant))
    if action == "take":
        change.update_task(task, "take", state="in_progress", assignee=user.id)
        change.emit(fx.Audit("task_take", user.id, _snap(task), {"state": "in_progress", "assignee": user.id}))
    elif action == "complete":
        change.update_task(task, "complete", reason, state="done")
        change.emit(fx.Audit("task_complete", user.id, _snap(task), {"state": "done"}, reason))
    elif action == "delegate":
        refusal = _delegate(change, task, inputs, str(reason))
        if refusal:
            return refusal
    else:
        _withdraw(change, task, str(reason))
    settle_change(change)
    return Outcome(change.ticket, tuple(change.effects))


def _snap(task: TaskView) -> dict[str, Any]:
    return {"state": task.state, "unit": task.unit, "assignee": task.assignee}


def _delegate(change: Change, task: TaskView, inputs: Mapping[str, Any], reason: str) -> Refusal | None:
    tenant = change.tenant
    to_unit = inputs.get("to_unit")
    to_user: UserView | None = inputs.get("to_user")
    if to_unit is None and to_user is None:
        return Refusal("missing_input", "delegate to a unit (`to_unit`) or a person (`to_user`)", "to_unit")
    if to_unit is not None and to_unit not in tenant.units:
        return Refusal("invalid_input", f"unknown unit {to_unit!r}", "to_unit")
    unit = to_unit or task.unit
    assignee = None
    if to_user is not None:
        if not isinstance(to_user, UserView) or to_user.kind != "staff":
            return Refusal("invalid_input", "`to_user` must be a staff member", "to_user")
        if not handles(tenant, to_user, unit):
            # a person outside the unit: the task follows the person into their unit
            candidates = [m.unit for m in to_user.memberships if handles(tenant, to_user, m.unit)]
            if not candidates or to_unit is not None:
                return Refusal("invalid_input", f"{to_user.id!r} handles no tasks of unit {unit!r}", "to_user")
            unit = candidates[0]
        assignee = to_user.id
    if unit == task.unit and assignee == task.assignee:
        return Refusal("invalid_input", "the task is already there", "to_unit")
    change.update_task(task, "delegate", reason, state="open", unit=unit, assignee=assignee)
    change.emit(
        fx.Audit("task_delegate", change.actor.id, _snap(task), {"state": "open", "unit": unit, "assignee": assignee},
                 reason)
    )
    change.event("task_delegated", task.key)
    change.event("task_assigned", task.key)
    return None


def _withdraw(change: Change, task: TaskView, reason: str) -> None:
    change.update_task(task, "withdraw", reason, state="withdrawn")
    change.emit(fx.Audit("task_withdraw", change.actor.id, _snap(task), {"state": "withdrawn"}, reason))
    change.event("task_withdrawn", task.key)
    process = change.process
    origin = process.states.get(task.created_in)
    dest = origin.on_withdraw if origin is not None else None
    if dest is None or task.step != change.ticket.step:
        return  # an older step's task: nothing left to route
    # The step cannot finish: the other tasks of the step stop, the ticket goes back.
    change.cancel_active(f"task {task.key} was withdrawn", step_only=True)
    change.move("task_withdrawn", dest, (), reason)
