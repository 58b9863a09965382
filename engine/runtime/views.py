"""What the engine knows of a ticket, its tasks and a user when deciding.

The store builds these immutable views from the database; the engine never
touches the database. Times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

TaskState = Literal["open", "in_progress", "done", "withdrawn", "cancelled"]
#: Task states in which work is still expected.
ACTIVE_TASK_STATES: frozenset[str] = frozenset({"open", "in_progress"})


@dataclass(frozen=True)
class TaskView:
    """One task: a piece of work for a unit (and maybe a person)."""

    key: str  # unique within the ticket: T1, T2 …
    step: int  # the ticket step that created it
    created_in: str  # the ticket state its creation led into
    unit: str
    state: TaskState = "open"
    assignee: str | None = None
    due_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether work on it is still expected."""
        return self.state in ACTIVE_TASK_STATES


@dataclass(frozen=True)
class TicketView:
    """A ticket as the engine sees it."""

    id: str
    category: str
    process: str
    state: str
    responsible_unit: str
    priority: str = "normal"
    step: int = 0
    tasks: tuple[TaskView, ...] = ()
    reporter_id: str | None = None
    #: the reporter contact (no account) as an actor id (`contact_actor_id`), while it is not erased:
    #: whoever holds the reporter's link acts as it (`engine/service/reporter_links.py`)
    reporter_contact: str | None = None
    reporter_has_contact: bool = False
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    state_entered_at: datetime | None = None
    closed_at: datetime | None = None
    due_at: datetime | None = None
    sla_paused_at: datetime | None = None
    duplicate_of: str | None = None
    #: the state the ticket was in before its current one (where `to: $previous` leads)
    previous_state: str | None = None

    def current_tasks(self) -> tuple[TaskView, ...]:
        """The tasks of the current step, cancelled ones left out."""
        return tuple(t for t in self.tasks if t.step == self.step and t.state != "cancelled")

    def task(self, key: str) -> TaskView | None:
        """The task with this key, if any."""
        return next((t for t in self.tasks if t.key == key), None)

    def with_task(self, task: TaskView) -> TicketView:
        """A copy with `task` replaced (matched by key) or appended."""
        tasks = tuple(task if t.key == task.key else t for t in self.tasks)
        if not any(t.key == task.key for t in self.tasks):
            tasks = (*tasks, task)
        return replace(self, tasks=tasks)

    def next_task_key(self) -> str:
        """A key no task of this ticket has."""
        return f"T{len(self.tasks) + 1}"


@dataclass(frozen=True)
class Membership:
    """A user holds `role` in `unit`."""

    unit: str
    role: str


@dataclass(frozen=True)
class UserView:
    """The acting user: staff with memberships, a resident, or the system."""

    id: str
    memberships: tuple[Membership, ...] = ()
    kind: Literal["staff", "resident", "system"] = "staff"
    name: str = ""


def contact_actor_id(contact_id: int) -> str:
    """The actor id of a reporter contact (the holder of the reporter's link); never a user id (those are digits)."""
    return f"contact:{contact_id}"


def contact_of(user: UserView) -> int | None:
    """The reporter contact a resident view acts as (`contact_actor_id`), or None for an account."""
    prefix = "contact:"
    if user.kind == "resident" and user.id.startswith(prefix) and user.id[len(prefix):].isdigit():
        return int(user.id[len(prefix):])
    return None


#: The engine itself, firing automatic transitions and timers.
SYSTEM = UserView("system", (), "system", "system")
