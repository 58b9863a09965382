"""Issue #11 through the API on both databases: SLA pauses in office time (item 2), office-wide roles (item 7),
`to: $previous` (item 9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_helpers import Api, Clock, report

from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio
ZG = "zgierz"
ENGINE3 = Path(__file__).parents[1] / "engine" / "fixtures" / "engine3"


async def test_a_pause_of_a_few_hours_moves_the_deadlines_by_the_office_minutes_paused(api: Api) -> None:
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post("/api/v1/tickets", json=report())
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])

    async def act(action: str, **inputs: Any) -> None:
        answer = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=dispatcher)
        assert answer.status_code == 200, answer.text

    async def detail() -> dict[str, Any]:
        answer = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    await act("verify")  # Tuesday 1 December, 10:00 in Zgierz (9:00 UTC)
    verified = await detail()
    due, task_due = verified["due_at"], verified["tasks"][0]["due_at"]
    api.clock.advance(hours=1)
    await act("ask_resident", public_comment="Prosimy o zdjęcie.")
    assert (await detail())["sla_paused"] is True
    api.clock.advance(hours=3, minutes=17)  # 11:00 → 14:17, inside office hours
    await act("resume")
    resumed = await detail()
    moved = timedelta(hours=3, minutes=17)
    assert datetime.fromisoformat(resumed["due_at"]) == datetime.fromisoformat(due) + moved
    assert datetime.fromisoformat(resumed["tasks"][0]["due_at"]) == datetime.fromisoformat(task_due) + moved
    history = await client.get(f"/api/v1/tickets/{number}/history", headers=dispatcher)
    assert history.status_code == 200, history.text
    (resume,) = [e for e in history.json()["events"] if e["action"] == "sla_resume"]
    assert resume["after"] == {"working_minutes_added": 197}


async def test_a_pause_outside_office_hours_costs_nothing(api: Api) -> None:
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post("/api/v1/tickets", json=report())
    number = str(r.json()["number"])
    path = f"/api/v1/tickets/{number}"
    assert (await client.post(f"{path}/actions/verify", json={}, headers=dispatcher)).status_code == 200
    due = (await client.get(path, headers=dispatcher)).json()["due_at"]
    api.clock.advance(hours=7)  # 17:00 local, the office has closed
    asked = await client.post(f"{path}/actions/ask_resident", json={"public_comment": "Zdjęcie?"}, headers=dispatcher)
    assert asked.status_code == 200, asked.text
    api.clock.advance(hours=14)  # 7:00 the next morning, before the office opens
    assert (await client.post(f"{path}/actions/resume", json={}, headers=dispatcher)).status_code == 200
    assert (await client.get(path, headers=dispatcher)).json()["due_at"] == due


async def test_roles_at_the_city_level_cover_every_unit(api: Api) -> None:
    """`city:ROLE` (the unit tree's root): management reads everything and changes nothing; a head there sees
    and handles every unit's work, where a unit's own head stays in its unit."""
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    mayor = await api.staff(ZG, "prezydent@zgierz.pl", "city:management")
    deputy = await api.staff(ZG, "zastepca@zgierz.pl", "city:unit_head")
    roads_head = await api.staff(ZG, "drogi@zgierz.pl", "drogi:unit_head")
    numbers = {}
    for category in ("pavement_damage", "tree_hazard", "stray_dog"):  # drogi, zielen, srodowisko
        r = await client.post("/api/v1/tickets", json=report(category))
        assert r.status_code == 201, r.text
        numbers[category] = str(r.json()["number"])
    verified = await client.post(f"/api/v1/tickets/{numbers['tree_hazard']}/actions/verify", json={},
                                 headers=dispatcher)
    assert verified.status_code == 200, verified.text

    async def listed(headers: dict[str, str]) -> set[str]:
        r = await client.get("/api/v1/tickets", params={"limit": 200}, headers=headers)
        assert r.status_code == 200, r.text
        return {item["number"] for item in r.json()["items"]}

    assert await listed(mayor) == set(numbers.values())
    assert await listed(deputy) == set(numbers.values())
    assert await listed(roads_head) == {numbers["pavement_damage"]}
    detail = await client.get(f"/api/v1/tickets/{numbers['tree_hazard']}", headers=mayor)
    assert detail.status_code == 200, detail.text
    assert detail.json()["actions"] == []
    refused = await client.post(f"/api/v1/tickets/{numbers['stray_dog']}/actions/verify", json={}, headers=mayor)
    assert refused.status_code == 403, refused.text
    # the head at the city level completes the greenery section's task
    task = (await client.get(f"/api/v1/tickets/{numbers['tree_hazard']}", headers=deputy)).json()["tasks"][0]
    done = await client.post(f"/api/v1/tickets/{numbers['tree_hazard']}/tasks/{task['key']}/complete", json={},
                             headers=deputy)
    assert done.status_code == 200, done.text
    assert (await client.get(f"/api/v1/tickets/{numbers['tree_hazard']}", headers=deputy)).json()["state"] == "resolved"


@pytest.fixture
async def wrzesnia(db: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], TenantScope]]:
    """The app over the #11 fixture city (its process returns with `to: $previous`), and its dispatcher."""
    settings = Settings(definitions_dir=Settings.from_env().definitions_dir, tenants_dir=ENGINE3)
    tenants = TenantRegistry.load(settings)
    app = create_app(tenants, init_database=False, clock=Clock())
    scope = TenantScope((await ensure_tenant("wrzesnia")).id)
    user = await accounts.create_user(scope, "bom@wrzesnia.pl", "BOM", password=None)
    await accounts.grant(scope, tenants.tenants["wrzesnia"], user, "bom", "dispatcher")
    raw, _ = await accounts.create_token(scope, user, "tests")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Host": "wrzesnia.localhost"}) as client:
        yield client, {"Authorization": f"Bearer {raw}"}, scope


async def test_a_transition_returns_to_the_state_the_ticket_came_from(
    wrzesnia: tuple[httpx.AsyncClient, dict[str, str], TenantScope],
) -> None:
    client, dispatcher, scope = wrzesnia
    body = {"category": "pothole", "description": "Dziura", "lat": 52.325, "lon": 17.566,
            "attributes": {"size": "medium"}, "reporter": {"name": "Jan", "email": "jan@example.pl"}}
    r = await client.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])

    async def act(action: str, **inputs: Any) -> dict[str, Any]:
        answer = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=dispatcher)
        assert answer.status_code == 200, answer.text
        detail = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
        return dict(detail.json())

    waiting = await act("ask_resident", public_comment="Prosimy o zdjęcie.")
    assert waiting["state"] == "waiting_for_resident"
    assert {a["name"]: a["to"] for a in waiting["actions"] if a["name"] == "resume"} == {"resume": "new"}
    assert (await act("resume"))["state"] == "new"
    row = await scope.get_ticket(number)
    assert row.previous_state == "waiting_for_resident"
    await act("verify")
    assert (await act("ask_resident", public_comment="Jeszcze jedno zdjęcie."))["state"] == "waiting_for_resident"
    back = await act("resume")
    assert back["state"] == "in_progress" and back["sla_paused"] is False
    assert [t["state"] for t in back["tasks"]] == ["open", "open"]


async def test_a_clerk_takes_and_completes_but_may_not_delegate_or_withdraw(
    wrzesnia: tuple[httpx.AsyncClient, dict[str, str], TenantScope],
) -> None:
    client, dispatcher, scope = wrzesnia
    tenants = TenantRegistry.load(Settings(definitions_dir=Settings.from_env().definitions_dir, tenants_dir=ENGINE3))
    clerk_user = await accounts.create_user(scope, "referent@wrzesnia.pl", "Referent", password=None)
    await accounts.grant(scope, tenants.tenants["wrzesnia"], clerk_user, "drogi", "clerk")
    raw, _ = await accounts.create_token(scope, clerk_user, "tests")
    clerk = {"Authorization": f"Bearer {raw}"}
    body = {"category": "pothole", "description": "Dziura", "lat": 52.325, "lon": 17.566,
            "attributes": {"size": "medium"}, "reporter": {"name": "Jan", "email": "jan@example.pl"}}
    number = str((await client.post("/api/v1/tickets", json=body)).json()["number"])
    verified = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert verified.status_code == 200, verified.text
    detail = (await client.get(f"/api/v1/tickets/{number}", headers=clerk)).json()
    (task,) = [t for t in detail["tasks"] if t["key"] == "T1"]
    assert sorted(a["name"] for a in task["actions"]) == ["complete", "take"]
    path = f"/api/v1/tickets/{number}/tasks/T1"
    for action, inputs in (("delegate", {"to_unit": "zielen", "reason": "Nie nasze"}), ("withdraw", {"reason": "x"})):
        refused = await client.post(f"{path}/{action}", json=inputs, headers=clerk)
        assert refused.status_code == 403, refused.text
    assert (await client.post(f"{path}/take", json={}, headers=clerk)).status_code == 200
    assert (await client.post(f"{path}/complete", json={}, headers=clerk)).status_code == 200
    assert (await scope.tasks().get(key="T1", ticket_id=(await scope.get_ticket(number)).id)).state == "done"
