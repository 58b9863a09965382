"""The client half: tasks of a unit with an `open311:` endpoint go there as `POST requests`, and come back.

1. **Hand-over** (`hand_over`, inside the transaction that creates or
   delegates the task): an `open311_dispatches` row with a stable random
   `marker`, and an outbox row (`channel: open311`) pointing at it.
2. **Delivery** (`deliver`, called by the outbox job for those rows: leases,
   retries, back-off, at-least-once): already answered → nothing to do; a
   token but no id → `GET tokens/{token}`; else `POST requests` with the
   marker as `Idempotency-Key`, and the answer (`service_request_id` or
   `token`) stored on the dispatch in its own transaction before the outbox
   row is marked. A worker killed between the POST and that write posts again
   with the same key: a server that honours `Idempotency-Key` (Komunikator
   does) answers the first request again, so the task is delivered once.
   Remote down or 5xx: retried with back-off, never given up; 4xx: failed,
   with the remote's own description. The dispatch keeps `attempts` and
   `last_error` for the dispatcher ("not delivered, retrying, last error …").
3. **Polling** (`poll`, the `open311_poll` job): `GET requests` by the ids
   of sent dispatches, per endpoint; a new `status_notes` becomes a note in
   the ticket's timeline, `closed` completes the task as the system with the
   remote's notes as the reason. A remote that fails is recorded on its
   dispatches and skipped; nothing else waits for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311.handover import link_of
from komunikator.engine.runtime import SYSTEM
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.actions import settle_change
from komunikator.engine.runtime.moves import Change, calendar_for
from komunikator.engine.runtime.outcome import Outcome
from komunikator.engine.schema.base import text_for
from komunikator.engine.schema.org import Open311Link
from komunikator.engine.service.apply import apply_outcome, audit
from komunikator.engine.service.faults import checkpoint
from komunikator.engine.service.row_views import ticket_view
from komunikator.engine.store.models import Comment, Open311Dispatch, Task, Ticket
from komunikator.engine.store.scope import TenantScope, tenant_by_slug
from komunikator.engine.store.transactions import transaction
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

#: How long one HTTP call to a remote may take.
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
#: Ids per `GET requests` while polling.
POLL_CHUNK = 50


# -- delivery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What one delivery attempt came to, in the outbox's terms."""

    kind: Literal["sent", "retry", "failed"]
    error: str | None = None
    #: the remote cannot be reached (or answers 5xx): retried with back-off, never given up
    unavailable: bool = False


def api_key(link: Open311Link) -> str | None:
    """The unit's api key from its environment variable or secrets file (None when missing or empty)."""
    if link.api_key_env is not None:
        return os.environ.get(link.api_key_env, "").strip() or None
    try:
        return Path(link.api_key_file or "").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


async def deliver(scope: TenantScope, tenant: CompiledTenant | None, payload: dict[str, Any], now: datetime,
                  client: httpx.AsyncClient | None = None) -> Result:
    """Deliver one hand-over (an outbox row's payload): post it, or find that it was posted."""
    dispatch = await scope.query(Open311Dispatch).get_or_none(id=int(payload.get("dispatch") or 0))
    if dispatch is None:
        return Result("failed", "the Open311 hand-over no longer exists")
    if dispatch.remote_id is not None:
        return Result("sent")  # answered before (a retry after a crash): nothing to post
    link = link_of(tenant, dispatch.unit) if tenant is not None else None
    if tenant is None or link is None:
        return await _refuse(scope, dispatch, f"unit {dispatch.unit!r} has no open311 endpoint any more")
    key = api_key(link)
    if key is None:
        where = link.api_key_env or link.api_key_file
        return await _retry(scope, dispatch, f"the api key is not configured ({where})", unavailable=True)
    task = await scope.tasks().get_or_none(id=dispatch.task_id)  # type: ignore[attr-defined]
    ticket = await scope.tickets().get_or_none(id=task.ticket_id) if task is not None else None  # type: ignore[attr-defined]
    if task is None or ticket is None:
        return await _refuse(scope, dispatch, "the task no longer exists")
    own = client is None
    http = client or httpx.AsyncClient(timeout=TIMEOUT)
    try:
        if dispatch.remote_token is not None:
            return await _resolve_token(scope, http, link, dispatch)
        return await _post(scope, http, tenant, link, key, dispatch, ticket, task, now)
    except httpx.HTTPError as error:
        why = f"{dispatch.endpoint} unreachable: {type(error).__name__}: {error}".strip()
        return await _retry(scope, dispatch, why, unavailable=True)
    finally:
        if own:
            await http.aclose()


def _form(tenant: CompiledTenant, link: Open311Link, key: str, dispatch: Open311Dispatch, ticket: Ticket,
          task: Task) -> dict[str, str]:
    """The POST's fields: the work, where it is, the city's reference. No reporter's contact."""
    locale = tenant.config.locale
    title = text_for(task.title, locale) if task.title else ""
    city = text_for(dict(tenant.config.name), locale)
    description = "\n\n".join(p for p in (ticket.description, title, f"{city}: {ticket.number} / {task.key}") if p)
    form = {"api_key": key, "service_code": dispatch.service_code, "description": description[:4900]}
    if link.jurisdiction_id:
        form["jurisdiction_id"] = link.jurisdiction_id
    if ticket.lat is not None and ticket.lon is not None:
        form["lat"], form["long"] = f"{ticket.lat:.6f}", f"{ticket.lon:.6f}"
    if ticket.address:
        form["address_string"] = ticket.address
    return form


async def _post(scope: TenantScope, http: httpx.AsyncClient, tenant: CompiledTenant, link: Open311Link, key: str,
                dispatch: Open311Dispatch, ticket: Ticket, task: Task, now: datetime) -> Result:
    if not dispatch.service_code:
        return await _refuse(scope, dispatch, f"no remote service_code for category {ticket.category!r} "
                                       "(open311.services or default_service)")
    response = await http.post(f"{dispatch.endpoint}/requests.json", data=_form(tenant, link, key, dispatch, ticket,
                                                                                  task),
                               headers={"Idempotency-Key": dispatch.marker, "Accept": "application/json"})
    await checkpoint("open311.after_post")  # a test kills the worker here: posted, not yet recorded
    if response.status_code >= 500 or response.status_code == 429:
        return await _retry(scope, dispatch, f"{dispatch.endpoint} answered {response.status_code}: {_says(response)}",
                            unavailable=True)
    if response.status_code >= 400:
        return await _refuse(scope, dispatch, f"{dispatch.endpoint} refused the request ({response.status_code}): "
                                       f"{_says(response)}")
    answer = _first(response)
    remote_id, token = _text(answer.get("service_request_id")), _text(answer.get("token"))
    if remote_id is None and token is None:
        return await _retry(scope, dispatch, f"{dispatch.endpoint} answered without service_request_id or token")
    # a token alone: delivered; its id comes from GET tokens on a later round (see `deliver`)
    await _record(scope, dispatch, ticket, task, now, remote_id=remote_id, token=token)
    return Result("sent")


async def _resolve_token(scope: TenantScope, http: httpx.AsyncClient, link: Open311Link,
                         dispatch: Open311Dispatch) -> Result:
    """A token answered earlier: ask for its service_request_id (delivered already; the id is what polling needs)."""
    params = {"jurisdiction_id": link.jurisdiction_id} if link.jurisdiction_id else None
    response = await http.get(f"{dispatch.endpoint}/tokens/{dispatch.remote_token}.json", params=params)
    if response.status_code >= 400:
        return await _retry(scope, dispatch, f"token {dispatch.remote_token} not resolved yet ({response.status_code})")
    remote_id = _text(_first(response).get("service_request_id"))
    if remote_id is None:
        return await _retry(scope, dispatch, f"token {dispatch.remote_token} has no service_request_id yet")
    await scope.query(Open311Dispatch).filter(id=dispatch.id).update(remote_id=remote_id, last_error=None)
    return Result("sent")


async def _record(scope: TenantScope, dispatch: Open311Dispatch, ticket: Ticket, task: Task, now: datetime, *,
                  remote_id: str | None, token: str | None) -> None:
    async with transaction():
        await scope.query(Open311Dispatch).filter(id=dispatch.id).update(
            remote_id=remote_id, remote_token=token, status="sent", sent_at=now, last_error=None,
            attempts=dispatch.attempts + 1)
        await audit(scope, ticket, SYSTEM, "open311_sent", {"task": task.key, "remote_id": None},
                    {"task": task.key, "unit": dispatch.unit, "remote_id": remote_id, "token": token,
                     "endpoint": dispatch.endpoint}, now)


async def _retry(scope: TenantScope, dispatch: Open311Dispatch, error: str, *, unavailable: bool = False) -> Result:
    await _note_failure(scope, dispatch, error)
    return Result("retry", error, unavailable)


async def _refuse(scope: TenantScope, dispatch: Open311Dispatch, error: str) -> Result:
    await _note_failure(scope, dispatch, error, status="failed")
    return Result("failed", error)


async def _note_failure(scope: TenantScope, dispatch: Open311Dispatch, error: str, status: str | None = None) -> None:
    """What the dispatcher sees on the task: attempts so far and the last error."""
    changes: dict[str, Any] = {"last_error": error[:2000], "attempts": dispatch.attempts + 1}
    if status is not None:
        changes["status"] = status
    await scope.query(Open311Dispatch).filter(id=dispatch.id).update(**changes)


def _first(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else {}


def _says(response: httpx.Response) -> str:
    """The remote's own words: the spec's error description, else the start of the body."""
    try:
        body = response.json()
        if isinstance(body, list) and body and isinstance(body[0], dict) and body[0].get("description"):
            return str(body[0]["description"])[:300]
    except ValueError:
        pass
    return response.text[:300]


def _text(value: Any) -> str | None:
    return str(value).strip()[:128] or None if value is not None else None


# -- polling ------------------------------------------------------------------------------------


async def poll(registry: TenantRegistry, now: datetime, client: httpx.AsyncClient | None = None) -> int:
    """Every city's sent hand-overs, checked at their remotes; the number of tasks completed or notes added."""
    changed = 0
    own = client is None
    http = client or httpx.AsyncClient(timeout=TIMEOUT)
    try:
        for slug, tenant in sorted(registry.tenants.items()):
            if not any(unit.open311 is not None for unit in tenant.units.values()):
                continue
            row = await tenant_by_slug(slug)
            if row is not None:
                changed += await poll_tenant(TenantScope(row.id), tenant, now, http)
    finally:
        if own:
            await http.aclose()
    return changed


async def poll_tenant(scope: TenantScope, tenant: CompiledTenant, now: datetime, http: httpx.AsyncClient) -> int:
    """One city's sent hand-overs, endpoint by endpoint; a remote that fails is noted and skipped."""
    sent = await scope.query(Open311Dispatch).filter(status="sent").order_by("id")
    by_unit: dict[str, list[Open311Dispatch]] = {}
    for dispatch in sent:
        link = link_of(tenant, dispatch.unit)
        if dispatch.remote_id is None and dispatch.remote_token is not None and link is not None:
            try:  # answered with a token only: its id first
                await _resolve_token(scope, http, link, dispatch)
            except httpx.HTTPError as error:
                await _note_failure(scope, dispatch, f"resolving token {dispatch.remote_token} failed: {error}")
            continue  # polled from the next round on
        if dispatch.remote_id is not None:
            by_unit.setdefault(dispatch.unit, []).append(dispatch)
    changed = 0
    for unit, dispatches in by_unit.items():
        link = link_of(tenant, unit)
        if link is None:
            continue
        for start in range(0, len(dispatches), POLL_CHUNK):
            chunk = dispatches[start:start + POLL_CHUNK]
            try:
                found = await _fetch(http, link, chunk)
            except (httpx.HTTPError, ValueError) as error:
                message = f"polling {link.endpoint} failed: {type(error).__name__}: {error}"
                log.warning("open311: %s", message)
                await scope.query(Open311Dispatch).filter(id__in=[d.id for d in chunk]).update(
                    last_error=message[:2000])
                continue
            for dispatch in chunk:
                remote = found.get(dispatch.remote_id or "")
                if remote is not None:
                    changed += await _apply_remote(scope, tenant, dispatch, remote, now)
    return changed


async def _fetch(http: httpx.AsyncClient, link: Open311Link, chunk: Sequence[Open311Dispatch]) -> dict[str, Any]:
    params = {"service_request_id": ",".join(d.remote_id or "" for d in chunk)}
    if link.jurisdiction_id:
        params["jurisdiction_id"] = link.jurisdiction_id
    response = await http.get(f"{chunk[0].endpoint}/requests.json", params=params)
    if response.status_code >= 400:
        raise ValueError(f"{response.status_code}: {_says(response)}")
    body = response.json()
    if not isinstance(body, list):
        raise ValueError("the answer is no list of requests")
    return {str(r.get("service_request_id")): r for r in body if isinstance(r, dict)}


async def _apply_remote(scope: TenantScope, tenant: CompiledTenant, dispatch: Open311Dispatch, remote: dict[str, Any],
                        now: datetime) -> int:
    """A remote request's state on our side: its new notes in the timeline; closed completes the task."""
    status = str(remote.get("status") or "").lower()
    notes = str(remote.get("status_notes") or "").strip()
    task = await scope.tasks().get_or_none(id=dispatch.task_id)  # type: ignore[attr-defined]
    if task is None:
        await scope.query(Open311Dispatch).filter(id=dispatch.id).update(status="gone", polled_at=now)
        return 0
    ticket = await scope.tickets().get(id=task.ticket_id)  # type: ignore[attr-defined]
    unit = tenant.units.get(dispatch.unit)
    who = text_for(dict(unit.name), tenant.config.locale) if unit is not None else dispatch.unit
    seen = list(dispatch.remote_notes or [])
    changed = 0
    async with transaction():
        if notes and notes not in seen:
            seen.append(notes)
            comment = await scope.create(Comment, ticket=ticket, task_id=task.id, visibility="internal",
                                         body=f"{who} (Open311 {dispatch.remote_id}): {notes}", created_at=now)
            await audit(scope, ticket, SYSTEM, "comment", {}, {"comment": comment.id, "visibility": "internal",
                                                               "task": task.key, "open311": dispatch.remote_id}, now)
            changed += 1
        closed = status == "closed"
        if closed and task.state in ("open", "in_progress"):
            await _complete(scope, tenant, ticket, task.key, notes or f"{who}: closed (Open311)", now)
            changed += 1
        await scope.query(Open311Dispatch).filter(id=dispatch.id).update(
            remote_status=status or None, remote_notes=seen, polled_at=now, last_error=None,
            status="closed" if closed else "sent")
    return changed


async def _complete(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, key: str, note: str,
                    now: datetime) -> None:
    """The task done as the system (the remote closed it), the ticket settled: its process moves on."""
    view = await ticket_view(scope, ticket)
    task = view.task(key)
    if task is None or not task.active or tenant.processes.get(view.process) is None:
        return
    change = Change(tenant, view, SYSTEM, now, calendar_for(tenant))
    change.update_task(task, "complete", note, state="done")
    change.emit(fx.Audit("task_complete", SYSTEM.id, {"task": key, "state": task.state}, {"state": "done"}, note))
    settle_change(change)
    await apply_outcome(scope, tenant, ticket, view, Outcome(change.ticket, tuple(change.effects)), SYSTEM, now,
                        ticket.version)
