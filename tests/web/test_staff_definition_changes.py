"""The staff pages after a definition change under live tickets: nothing answers 500.

The configuration loses a state (`waiting_for_resident`), two categories (`pothole`,
`water_leak`) and a unit (`wodociagi`) while tickets sit in them. The inbox, the ticket
pages (for the dispatcher and a road worker) and every form post answer with a page that
says what is unknown — never a server error — and the way out (handing a task from the
lost unit to one that exists) still works.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from definition_helpers import DROP_WAITING, changed_config, changed_registry
from web_helpers import Api, registry, report, staff_member, staff_session

from komunikator.engine.service import accounts
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio
ZG = "zgierz"


def _drop_categories_and_unit(root: Path) -> TenantRegistry:
    """The shipped configuration without `waiting_for_resident`, `pothole`, `water_leak`, `sewer_overflow`
    and the unit `wodociagi`."""
    settings = changed_config(root, DROP_WAITING)
    categories = settings.tenants_dir / ZG / "categories.yaml"
    text = categories.read_text(encoding="utf-8")
    for name in ("pothole", "water_leak", "sewer_overflow"):
        text, found = re.subn(rf"^  {name}:.*\n", "", text, flags=re.M)
        assert found == 1, name
    categories.write_text(text, encoding="utf-8")
    units = settings.tenants_dir / ZG / "units.yaml"
    text, found = re.subn(r"^  wodociagi:\n(?:    .*\n)+", "", units.read_text(encoding="utf-8"), flags=re.M)
    assert found == 1
    units.write_text(text, encoding="utf-8")
    changed = changed_registry(settings)
    tenant = changed.tenants[ZG]
    assert "pothole" not in tenant.categories and "wodociagi" not in tenant.units
    assert "waiting_for_resident" not in tenant.processes["simple_fix"].states
    return changed


async def _token(scope: TenantScope, email: str) -> dict[str, str]:
    raw, _ = await accounts.create_token(scope, await accounts.get_user(scope, email), "tests")
    return {"Authorization": f"Bearer {raw}"}


async def test_every_staff_page_survives_a_definition_change_under_its_tickets(api: Api, tmp_path: Path) -> None:
    scope = TenantScope((await ensure_tenant(ZG)).id)
    await staff_member(ZG, "bom@zgierz.localhost", "bom:dispatcher")
    await staff_member(ZG, "drogi@zgierz.localhost", "drogi:worker")
    dispatcher, worker = await _token(scope, "bom@zgierz.localhost"), await _token(scope, "drogi@zgierz.localhost")
    client = api.client(ZG)

    async def submit(category: str, **extra: object) -> str:
        r = await client.post("/api/v1/tickets", json=report(category, **extra))
        assert r.status_code == 201, r.text
        return str(r.json()["number"])

    async def call(path: str, body: dict[str, object], headers: dict[str, str]) -> None:
        r = await client.post(path, json=body, headers=headers)
        assert r.status_code == 200, r.text

    # a manhole cover whose task went to the water company; a pothole in hand; a water leak waiting;
    # a pavement ticket waiting for the resident
    handed = await submit("manhole_cover")
    await call(f"/api/v1/tickets/{handed}/actions/verify", {}, dispatcher)
    await call(f"/api/v1/tickets/{handed}/tasks/T1/take", {}, worker)
    await call(f"/api/v1/tickets/{handed}/tasks/T1/delegate", {"to_unit": "wodociagi", "reason": "Rura pękła."},
               worker)
    lost = await submit("pothole")
    await call(f"/api/v1/tickets/{lost}/actions/verify", {}, dispatcher)
    leak = await submit("water_leak")
    waiting = await submit("pavement_damage")
    await call(f"/api/v1/tickets/{waiting}/actions/verify", {}, dispatcher)
    await call(f"/api/v1/tickets/{waiting}/actions/ask_resident", {"public_comment": "Prosimy o zdjęcie."},
               dispatcher)

    changed = _drop_categories_and_unit(tmp_path / "changed")
    app = create_app(changed, init_database=False, clock=api.clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Host": f"{ZG}.localhost"}) as pages:
        for email in ("drogi@zgierz.localhost", "bom@zgierz.localhost"):  # the dispatcher stays signed in
            pages.cookies.clear()
            csrf = await staff_session(pages, email)
            inbox = await pages.get("/staff/")
            assert inbox.status_code == 200, inbox.text

        # the way out: the dispatcher hands the lost unit's task to one that exists
        version = str((await scope.get_ticket(handed)).version)
        r = await pages.post(f"/staff/tickets/{handed}/tasks/T1",
                             data={"action": "delegate", "to_unit": "drogi", "reason": "Wodociągi zlikwidowane.",
                                   "csrf_token": csrf, "version": version})
        assert r.status_code == 303, r.text[-2000:]
        ticket = await scope.get_ticket(handed)
        assert (await scope.tasks().get(ticket_id=ticket.id, key="T1")).unit == "drogi"
        await call(f"/api/v1/tickets/{handed}/tasks/T1/delegate", {"to_unit": "wodociagi", "reason": "Jednak woda."},
                   dispatcher)  # through the old configuration, to see the lost unit below
        expected = {
            handed: ["wodociagi"],
            lost: ["Nieznana kategoria (pothole)", "Zarząd Dróg Miejskich"],
            leak: ["Nieznana kategoria (water_leak)", "wodociagi"],
            waiting: ["Nieznany stan (waiting_for_resident)"],
        }
        for number, texts in expected.items():
            page = await pages.get(f"/staff/tickets/{number}")
            assert page.status_code == 200, (number, page.text)
            for text in texts:
                assert text in page.text, (number, text)
            # every form the page could post answers with a page, never a server error
            posts = [
                ("act", {"action": "reject", "public_comment": "Nie nasza sprawa."}),
                ("comments", {"visibility": "internal", "body": "Notatka po zmianie definicji."}),
                ("edit", {"description": "Opis po zmianie.", "address": "ul. Długa 1", "lat": "51.855",
                          "lon": "19.406"}),
                ("tasks/T1", {"action": "complete"}),
            ]
            for path, form in posts:
                version = str((await scope.get_ticket(number)).version)
                r = await pages.post(f"/staff/tickets/{number}/{path}",
                                     data={**form, "csrf_token": csrf, "version": version})
                assert r.status_code in (303, 404, 409, 422), (number, path, r.status_code, r.text[-2000:])
                again = await pages.get(f"/staff/tickets/{number}")
                assert again.status_code == 200, (number, path)
        # the state machine is not there: the ticket in the lost state stays where it was
        assert (await scope.get_ticket(waiting)).state == "waiting_for_resident"
    assert registry().tenants[ZG].categories["pothole"]  # the shipped configuration is untouched
