"""Deleting photo blobs that no attachment names.

Blobs are written before the transaction that records their attachment
commits (`attachments.py`). A failed transaction deletes its blobs at once;
two cases leave them behind: a process killed between writing and
committing, and a connection lost during COMMIT, when nobody knows whether
the row was saved (the blobs are kept then, so that a committed row never
points at a deleted file). This job finds blobs that have been in storage
longer than a grace period (so an upload still in flight is never touched)
and that no `attachments` row names, as photo or thumbnail, and deletes them.

    report = await collect_orphans(storage, now)            # CLI, Celery beat, embedded runner
    report.examined, report.orphans, report.deleted
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.store.expressions import Q
from komunikator.engine.store.models import Attachment
from komunikator.engine.store.scope import TenantScope, list_tenants

log = logging.getLogger(__name__)

#: How long a blob may exist unrecorded before it counts as an orphan (uploads commit in seconds).
GRACE = timedelta(hours=1)
#: Keys looked up per query.
BATCH = 500
_TENANT = re.compile(r"^t([0-9]+)/")


@dataclass
class OrphanReport:
    """What one pass found (and deleted, unless it was a dry run)."""

    #: blobs older than the grace period
    examined: int = 0
    #: of those, the ones no attachment names
    orphans: list[str] = field(default_factory=list)
    deleted: int = 0


async def collect_orphans(
    storage: LocalStorage, now: datetime, *, grace: timedelta = GRACE, dry_run: bool = False
) -> OrphanReport:
    """Delete (or with `dry_run` only list) the blobs older than `grace` that no attachment row names."""
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    candidates = await asyncio.to_thread(storage.keys_written_before, now - grace)
    report = OrphanReport(examined=len(candidates))
    by_tenant: dict[int, list[str]] = defaultdict(list)
    for key in candidates:
        match = _TENANT.match(key)
        if match is not None:
            by_tenant[int(match.group(1))].append(key)
    known = {t.id for t in await list_tenants()}
    for tenant_id, keys in sorted(by_tenant.items()):
        if tenant_id not in known:  # a tenant row that no longer exists names nothing
            report.orphans += keys
            continue
        scope = TenantScope(tenant_id)
        for start in range(0, len(keys), BATCH):
            chunk = keys[start:start + BATCH]
            named = await scope.query(Attachment).filter(
                Q(storage_key__in=chunk) | Q(thumb_key__in=chunk)).values_list("storage_key", "thumb_key")
            used = {key for pair in named for key in pair if key}
            report.orphans += [key for key in chunk if key not in used]
    if not dry_run:
        for key in report.orphans:
            await asyncio.to_thread(storage.delete, key)
            report.deleted += 1
        if report.deleted:
            log.info("deleted %d photo blob(s) no attachment names", report.deleted)
    return report
