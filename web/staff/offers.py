"""What the engine offers a user on a ticket now: the only place the pages ask it.

The ticket page draws one form per offered action with exactly the inputs the action
requires; nothing here decides who may do what. The answer is the runtime's
`capabilities(tenant, ticket, user, now)` when the engine has it; until then (an older
engine) `allowed_actions`/`allowed_task_actions` — the same functions `capabilities` is
built on. `history` passes the capabilities to `reading.history` when it takes them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from komunikator.engine import runtime
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import edits_tickets
from komunikator.engine.runtime.outcome import Action, TaskAction
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.service import reading
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope

_capabilities = getattr(runtime, "capabilities", None)


@dataclass(frozen=True)
class Offer:
    """The ticket actions, the task actions per task key, and whether fields and comments may change."""

    actions: tuple[Action, ...]
    tasks: dict[str, tuple[TaskAction, ...]] = field(default_factory=dict)
    edit: bool = False
    comment_kinds: tuple[str, ...] = ()
    reporter_contact: bool = True
    #: the engine's own answer (`Capabilities`), when it has one
    source: Any = None

    def names(self) -> set[str]:
        """Every offered action as `name` (ticket) or `KEY:name` (task) — what the page must show."""
        return {a.name for a in self.actions} | {f"{key}:{a.name}" for key, acts in self.tasks.items() for a in acts}


def offered(tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime) -> Offer:
    """What `user` may do to `ticket` now, as the engine answers it."""
    if _capabilities is not None:
        caps = _capabilities(tenant, ticket, user, now)
        return Offer(tuple(caps.actions), {t.key: tuple(t.actions) for t in caps.tasks}, caps.edit,
                     tuple(caps.comment_kinds), caps.reporter_contact, caps)
    closed = tenant.processes[ticket.process].states[ticket.state].final
    return Offer(
        actions=tuple(runtime.allowed_actions(tenant, ticket, user, now)),
        tasks={t.key: tuple(runtime.allowed_task_actions(tenant, ticket, t.key, user)) for t in ticket.tasks},
        edit=edits_tickets(tenant, user) and not closed,
        comment_kinds=("internal",) if user.kind == "staff" else (),
    )


async def history(scope: TenantScope, ticket: Ticket, offer: Offer, user: UserView) -> list[dict[str, Any]]:
    """The ticket's history as this user may read it (`reading.history`)."""
    read: Any = reading.history  # its signature changes with `capabilities` (two arguments before)
    if len(inspect.signature(read).parameters) > 2:
        return list(await read(scope, ticket, offer.source, user))
    return list(await read(scope, ticket))
