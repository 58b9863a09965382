"""Read models: what the service hands the API, the pages and the CLI to show — typed, never loose dicts.

Each is a frozen pydantic model, so the API declares it as its response (the
OpenAPI document shows every field) and a page reads the same fields.
Moments are ISO 8601 text in UTC, as the API has always written them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ReadModel(BaseModel):
    """Base of the read models: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionItem(ReadModel):
    """An action the user may take now, and the inputs it needs."""

    name: str
    kind: str | None = Field(None, exclude_if=lambda v: v is None)
    requires: list[str]
    to: str | None = Field(None, exclude_if=lambda v: v is None)
    label: str | None = Field(None, exclude_if=lambda v: v is None)


class TaskRemote(ReadModel):
    """A task handed to a unit's own system (Open311): where it stands there, in words for the dispatcher."""

    system: str = Field(description="open311")
    status: str = Field(description="pending (not delivered yet), failed, sent (accepted there), closed")
    remote_id: str | None
    attempts: int
    last_error: str | None
    text: str = Field(description="the same in the reader's language: not delivered, retrying, last error …")


class TaskItem(ReadModel):
    """A task of the ticket the user may read."""

    key: str
    unit: str
    unit_known: bool = Field(description="false when the configuration no longer has the unit")
    title: str | None = Field(None, exclude_if=lambda v: v is None)
    state: str
    step: int
    assignee: str | None
    due_at: str | None
    overdue: bool
    actions: list[ActionItem]
    remote: TaskRemote | None = Field(None, exclude_if=lambda v: v is None)


class Contact(ReadModel):
    """The reporter's contact, for roles that read it."""

    name: str | None
    email: str | None
    phone: str | None


class TicketDetail(ReadModel):
    """The staff view of a ticket: its fields, the tasks the user reads, what the user may do now."""

    number: str
    version: int
    category: str
    category_name: str
    category_known: bool
    process: str
    state: str
    state_label: str
    state_known: bool
    public_status: str
    responsible_unit: str
    priority: str
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    channel: str
    attributes: dict[str, Any]
    reporter: Contact | None
    created_at: str | None
    state_entered_at: str | None
    due_at: str | None
    closed_at: str | None
    sla_paused: bool
    overdue: bool
    tasks: list[TaskItem]
    actions: list[ActionItem]
    capabilities: dict[str, Any] = Field(description="what the user may do and read (runtime.capabilities)")


class HiddenTicket(ReadModel):
    """A ticket the user changed and may no longer read (e.g. they delegated its only task away)."""

    number: str
    version: int
    visible: Literal[False] = False


class TicketRow(ReadModel):
    """A ticket in a list."""

    number: str
    category: str
    state: str
    public_status: str
    responsible_unit: str
    priority: str
    created_at: str
    due_at: str | None


class TicketPage(ReadModel):
    """A page of a list; `next_cursor` continues it (None on the last page)."""

    items: list[TicketRow]
    next_cursor: str | None


class PublicUpdate(ReadModel):
    """A public comment of the office."""

    at: str
    body: str


class PublicTicket(ReadModel):
    """What anyone may know of a report: status, the office's public updates, the place as its category shows it."""

    number: str
    category: str
    public_status: str
    state_label: dict[str, str]
    state_known: bool
    lat: float | None
    lon: float | None
    created_at: str
    updates: list[PublicUpdate]
    photos: list[int]


class HistoryActor(ReadModel):
    """Who did it: a user (id and name) or the system."""

    kind: str
    id: int | None
    name: str | None


class HistoryComment(ReadModel):
    """The comment a `comment` event added."""

    body: str
    visibility: str


class HistoryItem(ReadModel):
    """One line of a ticket's history, as the user's role reads it."""

    at: str | None
    action: str
    actor: HistoryActor
    before: Any
    after: Any
    reason: str | None
    comment: HistoryComment | None = Field(None, exclude_if=lambda v: v is None)


class TicketHistory(ReadModel):
    """A ticket's history."""

    number: str
    events: list[HistoryItem]


class Receipt(ReadModel):
    """The answer to a new report (and to its retry with the same Idempotency-Key)."""

    number: str
    category: str
    public_status: str
    state_label: dict[str, str]
    created_at: str | None
    photos: int | None = Field(None, exclude_if=lambda v: v is None)
