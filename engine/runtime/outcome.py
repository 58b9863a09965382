"""What the runtime returns: offered actions, outcomes and refusals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from komunikator.engine.runtime.effects import Effect
from komunikator.engine.runtime.views import TicketView

ActionKind = Literal["transition", "reclassify", "mark_duplicate", "set_priority"]
TaskActionName = Literal["take", "complete", "delegate", "withdraw"]


@dataclass(frozen=True)
class Action:
    """Something a user may do to a ticket now, with the inputs it needs."""

    name: str
    kind: ActionKind
    requires: tuple[str, ...] = ()
    dest: str | None = None
    label: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TaskAction:
    """Something a user may do to a task now; `requires` may name alternatives as `a|b`."""

    name: TaskActionName
    task: str
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """An accepted action: the ticket after it, and the ordered effects to apply."""

    ticket: TicketView
    effects: tuple[Effect, ...]

    def of_type(self, kind: type) -> list[Effect]:
        """The effects of one type, in order (handy in tests and the store)."""
        return [e for e in self.effects if isinstance(e, kind)]


RefusalCode = Literal[
    "unknown_action", "not_available", "forbidden", "condition_failed", "missing_input", "invalid_input",
    "stale_timer", "unknown_definition",
]


@dataclass(frozen=True)
class Refusal:
    """A refused action: a machine-readable code and a precise message."""

    code: RefusalCode
    message: str
    field: str | None = None


class SettleLimitExceeded(RuntimeError):
    """Automatic transitions kept firing past the hop limit (a definition bug)."""
