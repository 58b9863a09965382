"""`units:` and `roles:` — the office's structure."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from komunikator.engine.schema.base import Id, LocalizedText, Strict


class Unit(Strict):
    """An organisational unit: a department, a team, or an external body."""

    name: LocalizedText
    parent: Id | None = Field(None, description="the unit this one belongs to")
    external: bool = Field(False, description="outside the office (city guard, a municipal company)")
    accounts: bool = Field(
        True,
        description="whether the unit's people log in; an external unit without accounts gets its tasks by e-mail",
    )
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None


class Role(Strict):
    """A role a person holds in a unit (a membership is user × unit × role)."""

    name: LocalizedText
    sees: Literal["all", "unit", "tasks"] = Field(
        "unit",
        description="all: every ticket; unit: tickets with tasks or responsibility in the member's "
        "units (and their children); tasks: only tasks addressed to the member's unit",
    )
    manages_users: bool = False
    edits_tickets: bool = Field(
        False, description="may edit a ticket's fields, reclassify it and mark duplicates (verification)"
    )
    handles_tasks: bool = Field(
        False, description="may take, complete, delegate and withdraw tasks of the member's units"
    )
