"""Effects: what `fire` asks the store to do, in order, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from komunikator.engine.schema.refs import Recipient


@dataclass(frozen=True)
class ChangeState:
    """The ticket moves from one state to another."""

    before: str
    after: str
    transition: str
    public_before: str
    public_after: str


@dataclass(frozen=True)
class CreateTask:
    """Open a task for a unit."""

    key: str
    unit: str
    step: int
    created_in: str
    due_at: datetime | None
    title: dict[str, str] | None = None


@dataclass(frozen=True)
class UpdateTask:
    """A task changed state, unit or person (take, complete, delegate, withdraw, cancel)."""

    key: str
    state: str
    unit: str
    assignee: str | None
    action: str
    reason: str | None = None
    #: for delegation: where it came from (unit, person)
    from_unit: str | None = None
    from_assignee: str | None = None


@dataclass(frozen=True)
class SetTaskDue:
    """A task's deadline changed (an SLA pause ended)."""

    key: str
    due_at: datetime | None


@dataclass(frozen=True)
class SetTicketDue:
    """The ticket's deadline changed."""

    due_at: datetime | None


@dataclass(frozen=True)
class SetPriority:
    """The ticket's priority changed."""

    before: str
    after: str


@dataclass(frozen=True)
class PauseSla:
    """The SLA clock stops (a paused state was entered)."""

    at: datetime


@dataclass(frozen=True)
class ResumeSla:
    """The SLA clock runs again; deadlines were moved by the `working_minutes` of office time paused."""

    paused_at: datetime
    working_minutes: int


@dataclass(frozen=True)
class Reclassify:
    """The ticket's category (and maybe process) changed."""

    category_before: str
    category_after: str
    process_before: str
    process_after: str
    unit_before: str
    unit_after: str


@dataclass(frozen=True)
class MergeInto:
    """The ticket is a duplicate: its reporter and followers move to `master`."""

    master: str


@dataclass(frozen=True)
class Notify:
    """Send `template` to recipients over channels (delivery happens after commit)."""

    recipients: tuple[Recipient, ...]
    template: str
    channels: tuple[str, ...]
    event: str
    task: str | None = None  # the task the message is about, if any


@dataclass(frozen=True)
class SetTimer:
    """Arm the process's timer `name` to fire at `at`."""

    name: str
    state: str
    at: datetime


@dataclass(frozen=True)
class ClearTimers:
    """Disarm every timer of the ticket (it left the state they watch)."""

    state: str


@dataclass(frozen=True)
class Audit:
    """One line of the ticket's history: who did what, before → after, why."""

    action: str
    actor: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str | None = None


@dataclass(frozen=True)
class PluginEffect:
    """An effect contributed by a plugin, applied in the store by its `EffectDef.apply` (`definition`)."""

    name: str
    args: Any
    definition: Any = field(default=None, compare=False, repr=False)


Effect = (
    ChangeState | CreateTask | UpdateTask | SetTaskDue | SetTicketDue | SetPriority | PauseSla | ResumeSla
    | Reclassify | MergeInto | Notify | SetTimer | ClearTimers | Audit | PluginEffect
)
