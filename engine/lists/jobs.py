"""Big exports as a background job: asked for on the list page, written by a worker, e-mailed, expiring.

A view of more than `inline_max_rows()` rows (`KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS`,
default 10,000) is not streamed in the request (the staff page, or the API's
`POST /api/v1/lists/<list>/exports`, web/api_exports.py): `request_export` stores what
the user asked for (list, filter, sort, columns, format, language) as a
`ListExport` row, `pending`, audited `list_export_requested`. The job `exports` (`komunikator.engine.jobs`: the
embedded runner in one-machine mode, Celery's beat and workers in production)
claims it with a lease, reads the view **as its requester may see it now**
(their roles at run time, the same engine and visibility as the page), writes
the file into `export_dir()` (`KOMUNIKATOR_EXPORT_DIR`, default
`var/exports`) a batch at a time, counting its rows in the row so the page can
show progress, audits it as an inline export is audited (`list_export`, plus
the export's id), and writes an e-mail to the requester into the outbox
(template `list_export_ready`, with the download link). The file is deleted
`KOMUNIKATOR_EXPORT_TTL_HOURS` (default 24) after it was written; the link then
answers 410. Only the requester downloads it (anyone else, or another city:
404, as if there were none).

A worker that dies leaves its lease to lapse; the next run starts the file
again. An export that fails (the requester lost their account, the view no
longer parses) is `failed` with the reason, and is not retried. One that
fails with an unexpected error (a full disk, an unwritable folder, the
database gone for a moment) is tried again, `RETRY_DELAY` times its attempts
later, up to `max_attempts()` (`KOMUNIKATOR_EXPORT_MAX_ATTEMPTS`, default 3)
attempts in all; then it is `failed` too, audited (`list_export_failed`), and
its page says so. Either way the requester, who was promised an e-mail, gets
one (template `list_export_failed`, the export's page linked; the reason
itself stays in the row and the log: it may name a server's folder) — unless
their account is gone, when there is nobody to tell.

Files never outlive their export: `sweep_files` (every run of the job)
deletes the files in `export_dir()` that no export names any more (the row
went with its requester's account, `ON DELETE CASCADE`) and those of exports
whose requester's account is no longer active.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.render import format_when, tenant_host
from komunikator.engine.lists import export, query
from komunikator.engine.lists.declared import list_spec
from komunikator.engine.lists.filters import text_in
from komunikator.engine.lists.view import View, open_view
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import row_views
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.settings import env_int
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import ListExport, OutboxMessage, User
from komunikator.engine.store.scope import TenantScope, tenant_by_slug
from komunikator.engine.store.transactions import savepoint
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

INLINE_ENV = "KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS"
TTL_ENV = "KOMUNIKATOR_EXPORT_TTL_HOURS"
DIR_ENV = "KOMUNIKATOR_EXPORT_DIR"
TEMPLATE = "list_export_ready"
FAILED_TEMPLATE = "list_export_failed"
#: How long a worker holds an export it writes before another may start it again.
LEASE = timedelta(minutes=15)
FORMATS = ("xlsx", "csv")
ATTEMPTS_ENV = "KOMUNIKATOR_EXPORT_MAX_ATTEMPTS"
#: An export that failed unexpectedly is tried again this long times the attempts made so far.
RETRY_DELAY = timedelta(minutes=1)


def inline_max_rows() -> int:
    """Views of more rows than this are exported by the background job, not in the request."""
    return env_int(INLINE_ENV, 10_000, minimum=1)


def ttl() -> timedelta:
    """How long a written export stays downloadable."""
    return timedelta(hours=env_int(TTL_ENV, 24, minimum=1))


def max_attempts() -> int:
    """How many times an export failing with an unexpected error is tried before it is marked failed."""
    return env_int(ATTEMPTS_ENV, 3, minimum=1)


def export_dir() -> Path:
    """Where the background exports' files are written (`KOMUNIKATOR_EXPORT_DIR`, default `var/exports`)."""
    return Path(os.environ.get(DIR_ENV) or "var/exports")


async def request_export(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, kind: str,
                         language: str, now: datetime, total: int | None) -> ListExport:
    """Store an export for the job to write; the caller rings the bell (`bell.ring()`) after the commit."""
    if kind not in FORMATS:
        raise ServiceError(422, "invalid_format", f"format must be one of {', '.join(FORMATS)}", field="format")
    row = await scope.create(
        ListExport, requester_id=int(user.id), list_name=view.spec.name, format=kind,
        filter_document=dict(view.filter.document), sort=query.sort_text(view.sort),
        columns=",".join(c.key for c in view.columns), language=language, status="pending", rows=0, total=total,
        created_at=now)
    await audit(scope, None, user, "list_export_requested", {}, {
        "export_id": row.id, "list": view.spec.name, "format": kind, "filter": dict(view.filter.document),
        "sort": row.sort, "columns": [c.key for c in view.columns]}, now)
    return row


async def readable_export(scope: TenantScope, user: UserView, export_id: int) -> ListExport:
    """The requester's own export; 404 for anyone else's (or another city's), as for one that does not exist."""
    found = await scope.find(ListExport, id=export_id, requester_id=int(user.id))
    if found is None:
        raise ServiceError(404, "not_found", "export not found")
    return found


def expired(row: ListExport, now: datetime) -> bool:
    """Whether a written export's file is gone (its time is up)."""
    return row.status == "done" and row.expires_at is not None and row.expires_at <= now


def file_path(row: ListExport) -> Path | None:
    """The written file, while it exists."""
    if row.file_name is None:
        return None
    path = export_dir() / row.file_name
    return path if path.is_file() else None


# -- the job ------------------------------------------------------------------------------------


@dataclass
class Round:
    """What one run of the job did."""

    written: int = 0
    failed: int = 0
    removed: int = 0


async def run_exports(registry: TenantRegistry, *, now: datetime, worker: str = "embedded",
                      budget: float = 60.0) -> int:
    """Write the pending exports of every city (within `budget` seconds), remove expired files; exports written."""
    started = time.monotonic()
    done = Round()
    for slug, tenant in sorted(registry.tenants.items()):
        row = await tenant_by_slug(slug)
        if row is None:
            continue
        scope = TenantScope(row.id)
        try:
            done.removed += await remove_expired(scope, now)
            done.removed += await sweep_files(scope)
            base_url = f"https://{tenant_host(tenant, registry.base_domain)}"
            while time.monotonic() - started < budget:
                claimed = await _claim(scope, now, worker)
                if claimed is None:
                    break
                if await write_export(scope, tenant, claimed, now=now, base_url=base_url):
                    done.written += 1
                else:
                    done.failed += 1
        except Exception:  # one city's trouble must not hold the others' exports back
            log.exception("exports of tenant %s failed; retried on the next run", slug)
    return done.written


async def _claim(scope: TenantScope, now: datetime, worker: str) -> ListExport | None:
    """The oldest export waiting (or whose writer's lease lapsed), leased to this worker; None when none."""
    for candidate in await scope.query(ListExport).filter(status__in=("pending", "running")).order_by("id").limit(20):
        if candidate.status == "running" and candidate.lease_until is not None and candidate.lease_until > now:
            continue
        taken = await scope.query(ListExport).filter(
            id=candidate.id, status=candidate.status, lease_until=candidate.lease_until,
        ).update(status="running", lease_until=now + LEASE, rows=0, attempts=candidate.attempts + 1)
        if taken:
            log.info("export %s claimed by %s", candidate.id, worker)
            return await scope.get(ListExport, id=candidate.id)
    return None


async def write_export(scope: TenantScope, tenant: CompiledTenant, row: ListExport, *, now: datetime,
                       base_url: str) -> bool:
    """Write one claimed export, audit it and e-mail its requester; False when it failed (and is marked so)."""
    user = await scope.find(User, id=row.requester_id)  # type: ignore[attr-defined]
    if user is None or not user.active:
        await _fail(scope, row, "the requester's account is no longer active")
        return False
    viewer = await row_views.user_view(scope, user)
    try:
        view = open_view(tenant, viewer, row.list_name,
                         filter_text=json.dumps(row.filter_document) if row.filter_document else None,
                         sort=row.sort or None, columns=row.columns or None)
    except ServiceError as error:
        await _fail(scope, row, error.message)
        await _mail_failed(scope, tenant, row, base_url)
        return False
    name = f"{scope.tenant_id}-{row.id}-{os.urandom(8).hex()}.{row.format}"
    path = export_dir() / name

    async def progress(rows: int) -> None:  # the lease runs on from the real moment: a big file takes minutes
        held = max(now, datetime.now(UTC)) + LEASE
        await scope.query(ListExport).filter(id=row.id).update(rows=rows, lease_until=held)

    writer = export.write_xlsx if row.format == "xlsx" else export.write_csv
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count = await writer(str(path), scope, tenant, viewer, view, now, row.language, progress)
    except Exception as error:  # any fault of the writing is retried, up to a bound
        log.exception("export %s failed (attempt %s of %s)", row.id, row.attempts, max_attempts())
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        await export.audit_export(scope, viewer, view, row.format, 0, now, False, row.id)
        if await _retry_or_fail(scope, row, viewer, error, now):
            await _mail_failed(scope, tenant, row, base_url)
        return False
    expires = now + ttl()
    await scope.query(ListExport).filter(id=row.id).update(
        status="done", rows=count, file_name=name, finished_at=now, expires_at=expires, lease_until=None)
    await export.audit_export(scope, viewer, view, row.format, count, now, True, row.id)
    await _mail(scope, tenant, row, base_url, TEMPLATE, f"export:{row.id}", rows=count, expires=expires)
    return True


async def _retry_or_fail(scope: TenantScope, row: ListExport, viewer: UserView, error: Exception,
                         now: datetime) -> bool:
    """Try it again later, or, its attempts spent, mark it failed and audit that (True: it failed for good)."""
    reason = f"{type(error).__name__}: {error}"[:500]
    if row.attempts < max_attempts():
        await scope.query(ListExport).filter(id=row.id).update(
            status="running", rows=0, error=reason, lease_until=now + RETRY_DELAY * max(row.attempts, 1))
        return False
    await _fail(scope, row, reason)
    await audit(scope, None, viewer, "list_export_failed", {"status": "running"},
                {"export_id": row.id, "list": row.list_name, "status": "failed", "attempts": row.attempts,
                 "error": reason}, now)
    return True


async def _fail(scope: TenantScope, row: ListExport, reason: str) -> None:
    await scope.query(ListExport).filter(id=row.id).update(status="failed", error=reason[:500], lease_until=None)


async def _mail(scope: TenantScope, tenant: CompiledTenant, row: ListExport, base_url: str, template: str,
                dedupe_key: str, *, rows: int = 0, expires: datetime | None = None) -> None:
    """An e-mail to the requester about their export (ready, or failed for good), its page linked; written
    once (the outbox's dedupe key), every template told the same fields."""
    language = row.language if row.language in ("pl", "en") else tenant.config.locale
    spec = list_spec(tenant, row.list_name)
    about: dict[str, Any] = {
        "list_name": text_in(spec.label, language) if spec is not None else row.list_name, "rows": rows,
        "format": row.format.upper(), "url": f"{base_url}/staff/exports/{row.id}", "attempts": row.attempts,
        "expires_at": format_when(expires, tenant, language) if expires is not None else "",
    }
    requester = row.requester_id  # type: ignore[attr-defined]
    payload = {"template": template, "event": "list_export", "recipients": [f"user:{requester}"],
               "ticket": None, "task": None, "locale": language, "export": about}
    try:
        async with savepoint():
            await scope.create(OutboxMessage, kind=template, channel="email", dedupe_key=dedupe_key, payload=payload)
    except Duplicate:  # written by an earlier run that died after it
        pass


async def _mail_failed(scope: TenantScope, tenant: CompiledTenant, row: ListExport, base_url: str) -> None:
    await _mail(scope, tenant, row, base_url, FAILED_TEMPLATE, f"export-failed:{row.id}")


async def remove_expired(scope: TenantScope, now: datetime) -> int:
    """Delete the files of exports whose time is up (their link answers 410 from then on); how many."""
    removed = 0
    for row in await scope.query(ListExport).filter(status="done", expires_at__lte=now, file_name__isnull=False):
        if row.file_name is not None:
            (export_dir() / row.file_name).unlink(missing_ok=True)
        await scope.query(ListExport).filter(id=row.id).update(file_name=None)
        removed += 1
    return removed


async def sweep_files(scope: TenantScope) -> int:
    """Delete this city's files that no export names any more, and those of inactive requesters; how many.

    An export's row goes with its requester's account (`ON DELETE CASCADE`), so
    a file whose row is gone is nobody's; a deactivated requester no longer
    downloads theirs.
    """
    folder = export_dir()
    if not folder.is_dir():
        return 0
    kept: set[str] = set()
    removed = 0
    for row in await scope.query(ListExport).filter(file_name__isnull=False).prefetch_related("requester"):
        if row.file_name is None:
            continue
        if row.requester.active:
            kept.add(row.file_name)
            continue
        (folder / row.file_name).unlink(missing_ok=True)
        await scope.query(ListExport).filter(id=row.id).update(file_name=None)
        removed += 1
    prefix = f"{scope.tenant_id}-"
    for path in folder.iterdir():
        if path.is_file() and path.name.startswith(prefix) and path.name not in kept:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


__all__ = ["ATTEMPTS_ENV", "FORMATS", "INLINE_ENV", "TEMPLATE", "TTL_ENV", "expired", "export_dir", "file_path",
           "inline_max_rows", "max_attempts", "readable_export", "remove_expired", "request_export", "run_exports",
           "sweep_files", "ttl", "write_export"]
