"""What the engine offers a user on a ticket now: the only place the pages ask it.

The answer is the runtime's `capabilities(tenant, ticket, user, now)` — the same one the
service checks and the staff JSON carries. The ticket page draws one form per offered
action with exactly the inputs it requires; nothing here decides who may do what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import Capabilities, capabilities
from komunikator.engine.runtime.outcome import Action, TaskAction
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.service import reading
from komunikator.engine.service.row_views import LoadedTicket
from komunikator.engine.store.scope import TenantScope


@dataclass(frozen=True)
class Offer:
    """The ticket actions, the task actions per task key, and whether fields and comments may change."""

    actions: tuple[Action, ...]
    tasks: dict[str, tuple[TaskAction, ...]] = field(default_factory=dict)
    edit: bool = False
    comment_kinds: tuple[str, ...] = ()
    reporter_contact: bool = False
    #: the engine's own answer
    source: Capabilities | None = None

    def names(self) -> set[str]:
        """Every offered action as `name` (ticket) or `KEY:name` (task) — what the page must show."""
        return {a.name for a in self.actions} | {f"{key}:{a.name}" for key, acts in self.tasks.items() for a in acts}


def offered(tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime) -> Offer:
    """What `user` may do to `ticket` now, as the engine answers it."""
    caps = capabilities(tenant, ticket, user, now)
    return Offer(tuple(caps.actions), {t.key: tuple(t.actions) for t in caps.tasks}, caps.edit,
                 tuple(caps.comment_kinds), caps.reporter_contact, caps)


async def history(scope: TenantScope, loaded: LoadedTicket, offer: Offer, user: UserView,
                  display_names: Mapping[int, str | None] | None = None) -> list[dict[str, Any]]:
    """The ticket's history as this user may read it (`reading.history`; `display_names`: accounts already
    read)."""
    assert offer.source is not None  # noqa: S101  (every Offer comes from `offered`)
    return await reading.history(scope, loaded, offer.source, user, display_names=display_names)
