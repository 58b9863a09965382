"""Handing a task over to a unit's own Open311 server: queued in the transaction that gives it the task.

The outbox row (`channel: open311`) is delivered by `remote.deliver`; this
module only writes, so the store layer (`service/apply.py`) can call it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.schema.org import Open311Link
from komunikator.engine.service.read_models import TaskRemote
from komunikator.engine.store.models import Open311Dispatch, OutboxMessage, Task, Ticket
from komunikator.engine.store.scope import TenantScope

#: The outbox channel of hand-overs (read by `engine/delivery/jobs.py`).
CHANNEL = "open311"


def link_of(tenant: CompiledTenant, unit: str) -> Open311Link | None:
    """The unit's Open311 endpoint, if it has one."""
    spec = tenant.units.get(unit)
    return spec.open311 if spec is not None else None


async def hand_over(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, task: Task, now: datetime) -> bool:
    """Queue `task` for its unit's Open311 server, if the unit has one (inside the caller's transaction)."""
    link = link_of(tenant, task.unit)
    if link is None:
        return False
    dispatch = await scope.create(
        Open311Dispatch, task=task, unit=task.unit, endpoint=link.endpoint.rstrip("/"),
        service_code=link.service_for(ticket.category) or "", marker=f"komunikator-{uuid.uuid4().hex}",
        created_at=now,
    )
    await scope.create(OutboxMessage, ticket=ticket, kind="open311_request", channel=CHANNEL,
                       dedupe_key=f"open311:{dispatch.marker}", payload={"dispatch": dispatch.id, "task": task.key,
                                                                         "ticket": ticket.number})
    return True


_WORDS = {
    "waiting": {"pl": "czeka na wysłanie do systemu jednostki (Open311)",
                "en": "waiting to be sent to the unit's system (Open311)"},
    "retrying": {"pl": "nie dostarczono, ponawiane (prób: {n}), ostatni błąd: {error}",
                 "en": "not delivered, retrying ({n} attempts), last error: {error}"},
    "failed": {"pl": "nie dostarczono, wstrzymane: {error}", "en": "not delivered, stopped: {error}"},
    "sent": {"pl": "przyjęte w systemie jednostki jako {id}", "en": "accepted by the unit's system as {id}"},
    "closed": {"pl": "zamknięte w systemie jednostki ({id})", "en": "closed by the unit's system ({id})"},
    "poll_error": {"pl": "; ostatnie sprawdzenie nieudane: {error}", "en": "; last check failed: {error}"},
}


def describe(dispatch: Open311Dispatch, locale: str) -> str:
    """Where a hand-over stands, for the dispatcher, in `locale` (Polish or English)."""
    lang = "en" if locale == "en" else "pl"
    error = dispatch.last_error or ""
    if dispatch.status == "failed":
        return _WORDS["failed"][lang].format(error=error)
    if dispatch.status == "pending":
        key = "retrying" if dispatch.attempts else "waiting"
        return _WORDS[key][lang].format(n=dispatch.attempts, error=error)
    text = _WORDS["closed" if dispatch.status == "closed" else "sent"][lang].format(
        id=dispatch.remote_id or dispatch.remote_token or "?")
    return text + (_WORDS["poll_error"][lang].format(error=error) if error else "")


async def task_deliveries(scope: TenantScope, tasks: Sequence[Task], locale: str) -> dict[str, TaskRemote]:
    """The latest hand-over of each of a ticket's `tasks` (its rows, as the request loaded them) that went to an
    Open311 unit, by task key; one query, none for a ticket without tasks."""
    keys = {t.id: t.key for t in tasks}
    if not keys:
        return {}
    rows = await scope.query(Open311Dispatch).filter(task_id__in=sorted(keys)).order_by("id")
    return {
        keys[row.task_id]: TaskRemote(  # type: ignore[attr-defined]
            system="open311", status=row.status, remote_id=row.remote_id, attempts=row.attempts,
            last_error=row.last_error, text=describe(row, locale))
        for row in rows  # the latest wins (a task delegated to another such unit)
    }
