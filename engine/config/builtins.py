"""The conditions and effects every tenant may name in its processes.

Each is registered exactly as a plugin registers its own: argument model,
evaluator (`runtime/conditions.py`) or expander (`runtime/builtin_effects.py`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from komunikator.engine.config.registry import (
    ConditionDef,
    EffectDef,
    EventDef,
    Plugin,
    Registry,
    discover_plugins,
)
from komunikator.engine.runtime import builtin_effects as effects
from komunikator.engine.runtime import conditions
from komunikator.engine.schema.base import DurationField, Id, LocalizedText, Strict
from komunikator.engine.schema.categories import Priority
from komunikator.engine.schema.messages import Channel
from komunikator.engine.schema.refs import DueField, RecipientField, UnitTargetField, parse_unit_target


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class CreateTaskArgs(Strict):
    """`create_task`: open a task for a unit."""

    unit: UnitTargetField = Field(default_factory=lambda: parse_unit_target("category.unit"))
    due: DueField | None = Field(None, description="deadline of the task")
    title: LocalizedText | None = None


class NotifyArgs(Strict):
    """`notify`: send a template to recipients."""

    to: Annotated[list[RecipientField], BeforeValidator(_listify)]
    template: Id
    channels: list[Channel] | None = Field(None, description="default: the template's channels (e-mail)")


class SetDueArgs(Strict):
    """`set_due`: set the ticket's deadline."""

    due: DueField


class CancelTasksArgs(Strict):
    """`cancel_tasks`: cancel the open tasks of the current step."""

    reason: str | None = None


class SetPriorityArgs(Strict):
    """`set_priority`: change the ticket's priority."""

    priority: Priority


class WithinArgs(Strict):
    """How recently something must have happened."""

    within: DurationField


class PrioritiesArgs(Strict):
    """Which priorities match."""

    priorities: Annotated[list[Priority], BeforeValidator(_listify)]


class AttributeEqualsArgs(Strict):
    """An attribute of the ticket has a value."""

    attribute: Id
    value: Any


BUILTIN_CONDITIONS: tuple[ConditionDef, ...] = (
    ConditionDef("all_tasks_done", "every task of the current step is done (cancelled ones ignored), and there is one",
                 evaluate=conditions.all_tasks_done),
    ConditionDef("no_open_tasks", "no task of the current step is open or in progress",
                 evaluate=conditions.no_open_tasks),
    ConditionDef("resolved_within", "the ticket reached its final state no longer ago than `within`",
                 WithinArgs, "within", conditions.resolved_within),
    ConditionDef("priority_in", "the ticket's priority is one of `priorities`", PrioritiesArgs, "priorities",
                 conditions.priority_in),
    ConditionDef("reporter_has_contact", "the reporter left an e-mail address or has an account",
                 evaluate=conditions.reporter_has_contact),
    ConditionDef("attribute_equals", "a category attribute has the given value", AttributeEqualsArgs,
                 evaluate=conditions.attribute_equals),
)

BUILTIN_EFFECTS: tuple[EffectDef, ...] = (
    EffectDef("create_task", "open a task for a unit, with a deadline", CreateTaskArgs,
              expand=effects.create_task, creates_tasks=True),
    EffectDef("notify", "send a template to recipients", NotifyArgs, expand=effects.notify),
    EffectDef("set_due", "set the ticket's deadline", SetDueArgs, "due", expand=effects.set_due),
    EffectDef("cancel_tasks", "cancel the open tasks of the current step", CancelTasksArgs, "reason",
              expand=effects.cancel_tasks),
    EffectDef("set_priority", "change the ticket's priority", SetPriorityArgs, "priority",
              expand=effects.set_priority),
)

#: Events the engine emits that notification rules can listen to (plugins add `<plugin>.<event>`).
BUILTIN_EVENTS: tuple[EventDef, ...] = tuple(EventDef(name, doc) for name, doc in (
    ("ticket_created", "a report was filed"),
    ("ticket_state_changed", "the ticket moved to another state"),
    ("ticket_public_status_changed", "the status residents see changed"),
    ("ticket_overdue", "the ticket's deadline passed"),
    ("task_assigned", "a task was opened for a unit"),
    ("task_delegated", "a task was handed to another unit or person"),
    ("task_withdrawn", "a unit gave a task back"),
    ("task_overdue", "a task's deadline passed"),
    ("comment_public", "a public comment was added"),
    ("message_to_reporter", "staff wrote to the reporter"),
    ("message_to_unit", "staff wrote to a unit"),
))


def builtin_registry(*plugins: Plugin) -> Registry:
    """The built-ins with just `plugins` (tests and embedding; `default_registry` adds the installed ones)."""
    return Registry.build(BUILTIN_CONDITIONS, BUILTIN_EFFECTS, plugins, BUILTIN_EVENTS)


@cache
def default_registry() -> Registry:
    """Built-in conditions and effects plus every installed plugin (built once)."""
    return builtin_registry(*discover_plugins())


__all__ = [
    "BUILTIN_CONDITIONS", "BUILTIN_EFFECTS", "BUILTIN_EVENTS", "DurationField", "Id", "builtin_registry",
    "default_registry",
]
