"""audit_events is append-only: the database itself rejects UPDATE and DELETE."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import BaseORMException

from komunikator.engine.store import db
from komunikator.engine.store.models import AuditEvent
from komunikator.engine.store.scope import TenantScope

AT = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)


async def _event(scope: TenantScope) -> AuditEvent:
    return await scope.create(
        AuditEvent, actor_kind="system", action="transition", before={"state": "new"}, after={"state": "done"}, at=AT
    )


async def test_rows_can_be_added(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, _ = two_tenants
    await _event(zgierz)
    await _event(zgierz)
    assert await zgierz.audit_events().count() == 2


async def test_update_is_rejected(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, _ = two_tenants
    event = await _event(zgierz)
    with pytest.raises(BaseORMException, match="append-only"):
        await zgierz.audit_events().filter(id=event.id).update(reason="rewritten")
    with pytest.raises(BaseORMException, match="append-only"):
        await db.connection().execute_query(f"UPDATE audit_events SET action = 'x' WHERE id = {event.id}")
    stored = await zgierz.get(AuditEvent, id=event.id)
    assert (stored.reason, stored.action) == (None, "transition")


async def test_delete_is_rejected(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, _ = two_tenants
    event = await _event(zgierz)
    with pytest.raises(BaseORMException, match="append-only"):
        await event.delete()
    with pytest.raises(BaseORMException, match="append-only"):
        await db.connection().execute_query("DELETE FROM audit_events")
    assert await zgierz.audit_events().count() == 1
