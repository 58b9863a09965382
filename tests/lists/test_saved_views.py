"""Saved views (both databases): who may share with whom, who sees which view, defaults, deleting, the audit."""

from __future__ import annotations

import pytest
from lists_model import NOW, zgierz

from komunikator.engine.lists import saved
from komunikator.engine.lists.view import open_view
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
FILTER = '{"conditions": [{"field": "priority", "op": "in", "value": ["high", "urgent"]}]}'


async def _person(scope: TenantScope, email: str, *memberships: str) -> UserView:
    user = await accounts.create_user(scope, email, email.split("@")[0])
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, zgierz(), user, unit, role)
    return await user_view(scope, user)


async def test_sharing_reading_defaults_and_deleting(db: str) -> None:
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    tenant = zgierz()
    head = await _person(scope, "szef@zgierz.pl", "drogi:unit_head")
    colleague = await _person(scope, "drogowiec@zgierz.pl", "drogi:worker")
    gardener = await _person(scope, "ogrodnik@zgierz.pl", "zielen:worker")
    boss = await _person(scope, "naczelnik@zgierz.pl", "gospodarka_komunalna:unit_head")
    admin = await _person(scope, "admin@zgierz.pl", "bom:admin")
    view = open_view(tenant, head, "tickets", filter_text=FILTER, sort="-priority,due_at", columns="number,priority")

    with pytest.raises(ServiceError) as refused:
        await saved.save(scope, tenant, head, view, "Całe miasto", "office", NOW)
    assert refused.value.status == 403
    with pytest.raises(ServiceError) as wrong_unit:
        await saved.save(scope, tenant, head, view, "Zieleń", "unit", NOW, unit="zielen")
    assert (wrong_unit.value.status, wrong_unit.value.field) == (422, "unit")
    with pytest.raises(ServiceError):
        await saved.save(scope, tenant, head, view, "  ", "personal", NOW)

    mine = await saved.save(scope, tenant, head, view, "Moje pilne", "personal", NOW)
    unit = await saved.save(scope, tenant, head, view, "Pilne drogowe", "unit", NOW)
    office = await saved.save(scope, tenant, admin, open_view(tenant, admin, "tickets", filter_text=None,
                                                             sort=None, columns=None), "Wszystko", "office", NOW)
    assert [v.name for v in await saved.readable(scope, tenant, head, "tickets")] == [
        "Moje pilne", "Pilne drogowe", "Wszystko"]
    assert [v.name for v in await saved.readable(scope, tenant, colleague, "tickets")] == ["Pilne drogowe",
                                                                                           "Wszystko"]
    assert [v.name for v in await saved.readable(scope, tenant, gardener, "tickets")] == ["Wszystko"]
    assert [v.name for v in await saved.readable(scope, tenant, boss, "tickets")] == ["Wszystko"]  # above drogi: no
    with pytest.raises(ServiceError) as hidden:
        await saved.find(scope, tenant, colleague, mine.id)
    assert hidden.value.status == 404
    reopened = saved.opened(tenant, colleague, await saved.find(scope, tenant, colleague, unit.id))
    assert (reopened.filter.document, [k.text for k in reopened.sort], [c.key for c in reopened.columns]) == (
        view.filter.document, ["-priority", "due_at"], ["number", "priority"])

    await saved.set_default(scope, tenant, colleague, unit.id, "tickets", NOW)
    assert (await saved.default_of(scope, tenant, colleague, "tickets")).id == unit.id  # type: ignore[union-attr]
    with pytest.raises(ServiceError):
        await saved.set_default(scope, tenant, colleague, unit.id, "tasks", NOW)
    with pytest.raises(ServiceError) as not_theirs:
        await saved.delete(scope, tenant, colleague, unit.id, NOW)
    assert not_theirs.value.status == 403
    await saved.delete(scope, tenant, head, unit.id, NOW)
    assert await saved.default_of(scope, tenant, colleague, "tickets") is None
    await saved.delete(scope, tenant, admin, office.id, NOW)
    actions = [e.action for e in await scope.audit_events().order_by("id") if e.action.startswith("saved_view")]
    assert actions == ["saved_view_create"] * 3 + ["saved_view_default", "saved_view_delete", "saved_view_delete"]
