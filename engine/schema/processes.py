"""`processes:` — the state machines that handle tickets."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from komunikator.engine.schema.base import ID_PATTERN, Id, LocalizedText, Strict, yaml_value
from komunikator.engine.schema.refs import ActorField, DueField, TimerAfterField


class Call(Strict):
    """A named condition or effect with its arguments.

    YAML writes `all_tasks_done`, or `{resolved_within: 30 days}`, or
    `{create_task: {unit: category.unit}}`. The arguments are checked by the
    compiler against what the named callable declares.
    """

    name: Id
    args: Any = None


def _call(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and len(value) == 1:
        ((name, args),) = value.items()
        return {"name": name, "args": args}
    if isinstance(value, dict):
        raise ValueError(f"write one name per item, e.g. `- notify: {{…}}`; found keys {sorted(value)}")
    return value


def _calls(value: Any) -> Any:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_CALL_SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {"type": "object", "minProperties": 1, "maxProperties": 1},
    ],
    "description": "a name, or {name: arguments}",
}
CallField = Annotated[Call, BeforeValidator(_call), WithJsonSchema(_CALL_SCHEMA)]
CallList = Annotated[
    list[CallField],
    BeforeValidator(_calls),
    WithJsonSchema({"anyOf": [_CALL_SCHEMA, {"type": "array", "items": _CALL_SCHEMA}]}),
]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StateList = Annotated[
    list[Id],
    BeforeValidator(_one_or_many),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]

#: Inputs an actor must give when firing a transition.
InputName = Literal["public_comment", "internal_comment", "reason", "duplicate_of", "unit", "priority"]


class State(Strict):
    """One state of a process."""

    public: Literal["open", "closed"] = Field(description="status shown to residents and Open311")
    label: LocalizedText
    description: LocalizedText | None = None
    final: bool = False
    on_withdraw: Id | None = Field(
        None, description="where the ticket goes when a task of this state is withdrawn"
    )
    sla: Literal["running", "paused"] = Field(
        "running", description="paused stops the SLA clock (e.g. waiting for the resident)"
    )
    reclassify: bool | None = Field(
        None, description="whether the category may change here (default: only in the initial state)"
    )
    due: DueField | None = Field(
        None,
        description="the ticket's deadline while it is here, counted from entering the state "
        "(`category.sla.verify` on the state new reports wait in); cleared when the ticket leaves it",
    )


def _state_or_previous(value: Any) -> Any:
    """`to:` is a state's name or `$previous`; a misspelt `$…` says which word is meant."""
    if isinstance(value, str) and value.startswith("$") and value != "$previous":
        raise ValueError(f"{yaml_value(value)} is not a state: write a state's name or $previous")
    if isinstance(value, str) and value != "$previous" and not re.match(ID_PATTERN, value):
        raise ValueError(f"{yaml_value(value)} is not a state's name: use lowercase letters, digits and _")
    return value


class Transition(Strict):
    """A move from one or more states to another."""

    from_: StateList = Field(alias="from")
    to: Annotated[str, BeforeValidator(_state_or_previous)] = Field(
        description="the state it leads to, or `$previous`: back to the state the ticket came from "
        "(e.g. waiting for the resident during verification, then back to verification)"
    )
    label: LocalizedText | None = None
    by: Annotated[list[ActorField], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    automatic: bool = False
    when: CallList = Field(default_factory=list, description="named conditions, all must hold")
    requires: list[InputName] = Field(default_factory=list)
    effects: CallList = Field(default_factory=list)

    @model_validator(mode="after")
    def _who(self) -> Transition:
        if self.automatic and self.by:
            raise ValueError("an automatic transition is fired by the engine; remove `by`")
        if not self.automatic and not self.by:
            raise ValueError("say who may fire it (`by: [ROLE…]`) or mark it `automatic: true`")
        if self.automatic and not self.when:
            raise ValueError("an automatic transition needs a condition (`when`)")
        if self.automatic and self.requires:
            raise ValueError("an automatic transition cannot require inputs")
        return self


class Timer(Strict):
    """Something that happens when a ticket stays in a state too long.

    Timers are named (`timers: {NAME: …}`): an armed timer refers to its
    name, so reordering, adding or overriding timers never re-points one
    already armed on a ticket.
    """

    state: Id
    after: TimerAfterField
    fire: Id | None = Field(None, description="a transition to fire")
    effects: CallList = Field(default_factory=list)

    @model_validator(mode="after")
    def _does_something(self) -> Timer:
        if not self.fire and not self.effects:
            raise ValueError("a timer needs `fire: TRANSITION` or `effects: […]`")
        return self


class Process(Strict):
    """A ticket-handling process: states, transitions, timers."""

    name: LocalizedText | None = None
    initial: Id | None = Field(None, description="the entry state (default: the first state)")
    duplicate_state: Id | None = Field(
        None,
        description="the final state a ticket marked as a duplicate goes to "
        "(default: the state named `duplicate`, else the first final state)",
    )
    states: dict[Id, State] = Field(min_length=1)
    transitions: dict[Id, Transition] = Field(default_factory=dict)
    timers: dict[Id, Timer] = Field(
        default_factory=dict, description="named timers; an armed timer refers to its name"
    )
    state_map: dict[Id, Id] = Field(
        default_factory=dict,
        description="where open tickets in a removed state go (`OLD: NEW`), "
        "applied by `komunikator db migrate-definitions`",
    )

    @property
    def entry(self) -> str:
        """The state new tickets start in."""
        return self.initial or next(iter(self.states))

    @property
    def duplicate_target(self) -> str | None:
        """Where `mark_duplicate` sends a ticket."""
        if self.duplicate_state:
            return self.duplicate_state
        if "duplicate" in self.states:
            return "duplicate"
        return next((name for name, s in self.states.items() if s.final), None)
