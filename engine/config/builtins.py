"""The conditions and effects every tenant may name in its processes.

The argument models live here; what the runtime does with them lives in
`komunikator.engine.runtime` (which attaches evaluators and expanders).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from komunikator.engine.config.registry import ConditionDef, EffectDef, Registry, discover_plugins
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
    ConditionDef("all_tasks_done", "every task of the current step is done (cancelled ones ignored), and there is one"),
    ConditionDef("no_open_tasks", "no task of the current step is open or in progress"),
    ConditionDef("resolved_within", "the ticket reached its final state no longer ago than `within`",
                 WithinArgs, "within"),
    ConditionDef("priority_in", "the ticket's priority is one of `priorities`", PrioritiesArgs, "priorities"),
    ConditionDef("reporter_has_contact", "the reporter left an e-mail address or has an account"),
    ConditionDef("attribute_equals", "a category attribute has the given value", AttributeEqualsArgs),
)

BUILTIN_EFFECTS: tuple[EffectDef, ...] = (
    EffectDef("create_task", "open a task for a unit, with a deadline", CreateTaskArgs),
    EffectDef("notify", "send a template to recipients", NotifyArgs),
    EffectDef("set_due", "set the ticket's deadline", SetDueArgs, "due"),
    EffectDef("cancel_tasks", "cancel the open tasks of the current step", CancelTasksArgs, "reason"),
    EffectDef("set_priority", "change the ticket's priority", SetPriorityArgs, "priority"),
)



@cache
def default_registry() -> Registry:
    """Built-in conditions and effects plus every installed plugin (built once)."""
    return Registry.build(BUILTIN_CONDITIONS, BUILTIN_EFFECTS, discover_plugins())


__all__ = ["BUILTIN_CONDITIONS", "BUILTIN_EFFECTS", "DurationField", "Id", "default_registry"]
