"""A plugin's event reaches people: the tenant's notification rules that name it write outbox rows.

The engine's own events (`ticket_created`, …) travel with a ticket's change
(`runtime.moves.Change.event`). A plugin's (`lost_and_found.item_expiring`)
happen outside any ticket — in a job, a page, an import — so the plugin
calls `emit`, in its own transaction: every rule `on:` that event writes one
outbox row per channel, delivered after commit like any notification. The
rows carry the plugin's `data` (templates read it as `event.*`), and a key
the plugin chooses (`occurrence`) makes emitting the same occurrence again
(a job run twice, a retried request) write nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import OutboxMessage, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import savepoint


async def emit(scope: TenantScope, tenant: CompiledTenant, event: str, data: Mapping[str, Any], *,
               occurrence: str, ticket: Ticket | None = None) -> int:
    """Write the notifications `tenant`'s rules attach to `event`; how many rows were new.

    `occurrence` identifies this happening of the event (an item's id and
    day, say): the rows' dedupe keys derive from it, so a second `emit` of
    the same occurrence adds nothing. `data` must be JSON-serialisable.
    """
    written = 0
    for name, rule in sorted(tenant.notifications.items()):
        if rule.on != event:
            continue
        for channel in rule.channels:
            payload = {"template": rule.template, "event": event, "recipients": [str(r) for r in rule.to],
                       "ticket": ticket.number if ticket is not None else None, "task": None,
                       "locale": tenant.config.locale, "data": dict(data)}
            try:
                async with savepoint():
                    await scope.create(OutboxMessage, ticket=ticket, kind=rule.template, channel=channel,
                                       dedupe_key=f"event:{event}:{occurrence}:{name}:{channel}"[:200],
                                       payload=payload)
            except Duplicate:  # this occurrence was emitted before
                continue
            written += 1
    return written
