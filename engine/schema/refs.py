"""The closed set of reference forms YAML uses to point at things.

Nothing in YAML is an expression: a value that points at a unit, a person or
a deadline uses one of the forms below, parsed here (syntax) and checked by
the compiler (that the unit, role or SLA exists).

| where | forms |
| --- | --- |
| who may fire a transition (`by`) | `ROLE` (in any unit), `ROLE@task_unit`, `ROLE@responsible_unit` (and its child units), `ROLE@unit:UNIT`, `reporter` |
| where a task goes (`create_task.unit`) | `category.unit` (the ticket's responsible unit), `unit:UNIT` |
| who is notified (`notify.to`) | `reporter`, `followers`, `assignee`, `task_unit`, `category.unit`, `unit:UNIT`, `role:ROLE`, `role:ROLE@unit:UNIT`, `role:ROLE@responsible_unit`, `role:ROLE@task_unit`, a plugin's `PLUGIN.FORM[:ARGUMENT]` |
| a deadline (`due`, a state's `due`, a timer's `after`) | a duration (`5 business days`) or `category.sla.NAME` |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from komunikator.engine.schema.base import Duration, parse_duration, yaml_value

_ID = r"[a-z][a-z0-9_]*"

ActorScope = Literal["any", "task_unit", "responsible_unit", "unit", "reporter"]


@dataclass(frozen=True)
class ActorRef:
    """Who may fire a transition: a role in a scope, or the reporter."""

    role: str | None
    scope: ActorScope
    unit: str | None = None

    def __str__(self) -> str:
        if self.scope == "reporter":
            return "reporter"
        if self.scope == "any":
            return str(self.role)
        if self.scope == "unit":
            return f"{self.role}@unit:{self.unit}"
        return f"{self.role}@{self.scope}"


_ACTOR_RE = re.compile(rf"^({_ID})(?:@(task_unit|responsible_unit|unit:({_ID})))?$")


def parse_actor(value: Any) -> ActorRef:
    """Parse `dispatcher`, `worker@task_unit`, `unit_head@unit:roads`, `reporter`."""
    if isinstance(value, ActorRef):
        return value
    if value == "reporter":
        return ActorRef(None, "reporter")
    match = _ACTOR_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"{yaml_value(value)} is not a valid actor: write ROLE, ROLE@task_unit, "
            "ROLE@responsible_unit, ROLE@unit:UNIT or reporter"
        )
    role, scope, unit = match.group(1), match.group(2), match.group(3)
    if scope is None:
        return ActorRef(role, "any")
    if unit is not None:
        return ActorRef(role, "unit", unit)
    return ActorRef(role, scope)  # type: ignore[arg-type]


@dataclass(frozen=True)
class UnitTarget:
    """Where a task is routed: the category's responsible unit or a named unit."""

    unit: str | None  # None means the category's responsible unit

    def __str__(self) -> str:
        return f"unit:{self.unit}" if self.unit else "category.unit"


def parse_unit_target(value: Any) -> UnitTarget:
    """Parse `category.unit` or `unit:UNIT`."""
    if isinstance(value, UnitTarget):
        return value
    if value == "category.unit":
        return UnitTarget(None)
    match = re.match(rf"^unit:({_ID})$", value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{yaml_value(value)} is not a unit reference: write category.unit or unit:UNIT")
    return UnitTarget(match.group(1))


RecipientKind = Literal[
    "reporter", "followers", "assignee", "task_unit", "responsible_unit", "unit", "role", "plugin"
]


@dataclass(frozen=True)
class Recipient:
    """Who receives a notification."""

    kind: RecipientKind
    role: str | None = None
    unit: str | None = None
    #: for `role:` recipients: "any", "unit", "responsible_unit" or "task_unit"
    scope: str | None = None
    #: for a plugin's recipient form: its name (`lost_and_found.keepers`) and the text after a colon
    form: str | None = None
    argument: str | None = None

    def __str__(self) -> str:
        if self.kind == "plugin":
            return f"{self.form}:{self.argument}" if self.argument is not None else str(self.form)
        if self.kind == "unit":
            return f"unit:{self.unit}"
        if self.kind == "responsible_unit":
            return "category.unit"
        if self.kind == "role":
            if self.scope == "unit":
                return f"role:{self.role}@unit:{self.unit}"
            if self.scope in ("responsible_unit", "task_unit"):
                return f"role:{self.role}@{self.scope}"
            return f"role:{self.role}"
        return self.kind

    @property
    def task_scoped(self) -> bool:
        """Whether it names people by a task (`task_unit`, `assignee`, `role:ROLE@task_unit`)."""
        return self.kind in ("task_unit", "assignee") or (self.kind == "role" and self.scope == "task_unit")


_RECIPIENT_RE = re.compile(rf"^role:({_ID})(?:@(responsible_unit|task_unit|unit:({_ID})))?$")
_PLUGIN_RECIPIENT_RE = re.compile(rf"^({_ID}\.{_ID})(?::([^\s:]+))?$")


def parse_recipient(value: Any) -> Recipient:
    """Parse one of the recipient forms listed in this module's docstring."""
    if isinstance(value, Recipient):
        return value
    if value in ("reporter", "followers", "assignee", "task_unit"):
        return Recipient(value)
    if value == "category.unit":
        return Recipient("responsible_unit")
    if isinstance(value, str):
        match = re.match(rf"^unit:({_ID})$", value)
        if match:
            return Recipient("unit", unit=match.group(1))
        match = _RECIPIENT_RE.match(value)
        if match:
            if match.group(3):
                return Recipient("role", role=match.group(1), unit=match.group(3), scope="unit")
            return Recipient("role", role=match.group(1), scope=match.group(2) or "any")
        match = _PLUGIN_RECIPIENT_RE.match(value)
        if match:
            return Recipient("plugin", form=match.group(1), argument=match.group(2))
    raise ValueError(
        f"{yaml_value(value)} is not a recipient: write reporter, followers, assignee, task_unit, "
        "category.unit, unit:UNIT, role:ROLE, role:ROLE@unit:UNIT, role:ROLE@responsible_unit, "
        "role:ROLE@task_unit or a plugin's PLUGIN.FORM[:ARGUMENT]"
    )


@dataclass(frozen=True)
class DueRef:
    """A deadline: a fixed duration or one of the category's SLAs."""

    duration: Duration | None = None
    sla: str | None = None

    def __str__(self) -> str:
        return f"category.sla.{self.sla}" if self.sla else str(self.duration)


def parse_due(value: Any) -> DueRef:
    """Parse `category.sla.NAME` or a duration."""
    if isinstance(value, DueRef):
        return value
    if isinstance(value, str):
        match = re.match(rf"^category\.sla\.({_ID})$", value)
        if match:
            return DueRef(sla=match.group(1))
        if value.startswith("category."):
            raise ValueError(f"{yaml_value(value)} is not a deadline: write category.sla.NAME or a duration")
    return DueRef(duration=parse_duration(value))


def _ref_type(parser: Any, description: str, cls: type) -> Any:
    return Annotated[
        cls,
        BeforeValidator(parser),
        PlainSerializer(str, return_type=str),
        WithJsonSchema({"type": "string", "description": description}),
    ]


ActorField = _ref_type(
    parse_actor,
    "who may fire: ROLE, ROLE@task_unit, ROLE@responsible_unit, ROLE@unit:UNIT or reporter",
    ActorRef,
)
UnitTargetField = _ref_type(parse_unit_target, "category.unit or unit:UNIT", UnitTarget)
RecipientField = _ref_type(
    parse_recipient,
    "reporter, followers, assignee, task_unit, category.unit, unit:UNIT, role:ROLE, "
    "role:ROLE@unit:UNIT, role:ROLE@responsible_unit, role:ROLE@task_unit or a plugin's PLUGIN.FORM[:ARGUMENT]",
    Recipient,
)
DueField = _ref_type(parse_due, "a duration (`5 business days`) or category.sla.NAME", DueRef)
TimerAfterField = _ref_type(
    parse_due,
    "how long the ticket stays in the state first: a duration (`1 business day`) "
    "or one of its category's SLAs (`category.sla.verify`)",
    DueRef,
)
