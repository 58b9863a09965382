"""The staff inbox says overdue exactly as the API's ticket detail (`runtime.overdue`), on both databases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from web_helpers import Api, registry, report

from komunikator.engine.service import row_views as views
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web.staff.inbox import build

pytestmark = pytest.mark.anyio
ZG = "zgierz"


async def test_the_inbox_and_the_api_agree_on_what_is_overdue(api: Api) -> None:
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    worker = await api.staff(ZG, "drogi@zgierz.pl", "drogi:worker")
    numbers = []
    for _ in range(2):
        r = await client.post("/api/v1/tickets", json=report())
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
        r = await client.post(f"/api/v1/tickets/{numbers[-1]}/actions/verify", json={}, headers=dispatcher)
        assert r.status_code == 200, r.text
    waiting, running = numbers
    r = await client.post(f"/api/v1/tickets/{waiting}/actions/ask_resident",
                          json={"public_comment": "Prosimy o zdjęcie."}, headers=worker)
    assert r.status_code == 200, r.text
    scope = TenantScope((await ensure_tenant(ZG)).id)
    user = await views.user_view(scope, await scope.users().get(id=int(worker["X-User-Id"])))

    def open_task(detail: dict[str, Any]) -> dict[str, Any]:
        return next(t for t in detail["tasks"] if t["state"] in ("open", "in_progress"))

    async def compare() -> dict[str, bool]:
        inbox = await build(scope, registry().tenants[ZG], user, api.clock.now)
        shown = {row.ticket.number: row.overdue for row in inbox.mine + inbox.unit}
        details = {n: (await client.get(f"/api/v1/tickets/{n}", headers=worker)).json() for n in numbers}
        assert shown == {n: open_task(details[n])["overdue"] for n in numbers}, api.clock.now
        assert inbox.overdue() == sum(shown.values())
        return shown

    assert await compare() == {waiting: False, running: False}
    # the very moment of the deadline counts (the moment itself is overdue), in the inbox as in the API
    due = datetime.fromisoformat(open_task((await client.get(f"/api/v1/tickets/{running}", headers=worker)).json())
                                 ["due_at"])
    api.clock.now = due
    assert await compare() == {waiting: False, running: True}
    api.clock.advance(days=60)  # past every deadline; the paused one's clock stands still
    assert await compare() == {waiting: False, running: True}
