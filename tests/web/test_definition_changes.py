"""A definition change against live tickets, from the outside: dropped states, reordered and renamed timers.

Over HTTP (the ASGI app, as the other API tests) on SQLite and PostgreSQL:
a ticket whose state the configuration lost still renders (staff and public
JSON, marked unknown) and refuses actions with a 409; the app refuses to
start with the list of what no longer fits; `migrate` applies the
`state_map`, audited. Timers are named, so reordering them re-points none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from definition_helpers import (
    CHANGE_FILE,
    DROP_WAITING,
    DROP_WAITING_MAPPED,
    changed_config,
    changed_registry,
    rename_timer,
    swap_timers,
)
from web_helpers import Api, report

from komunikator.engine.service.definition_changes import DefinitionDrift, migrate, name_legacy_timers, verify
from komunikator.engine.store.models import Timer
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.engine.timers import fire_due_timers
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio
ZG = "zgierz"


def client_for(registry: TenantRegistry, api: Api) -> tuple[Any, httpx.AsyncClient]:
    """An app on the same database, compiled from another configuration."""
    app = create_app(registry, init_database=False, clock=api.clock)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                  headers={"Host": f"{ZG}.localhost"})


async def two_tickets(api: Api) -> tuple[dict[str, str], str, str]:
    """A dispatcher; a ticket in progress and one waiting for the resident (its timer armed)."""
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    numbers = []
    for _ in range(2):
        r = await client.post("/api/v1/tickets", json=report())
        assert r.status_code == 201, r.text
        numbers.append(str(r.json()["number"]))
        r = await client.post(f"/api/v1/tickets/{numbers[-1]}/actions/verify", json={}, headers=dispatcher)
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/tickets/{numbers[1]}/actions/ask_resident",
                          json={"public_comment": "Prosimy o zdjęcie."}, headers=dispatcher)
    assert r.status_code == 200, r.text
    return dispatcher, numbers[0], numbers[1]


async def zgierz() -> TenantScope:
    return TenantScope((await ensure_tenant(ZG)).id)


async def test_a_dropped_state_renders_as_unknown_refuses_to_start_and_migrates_by_state_map(
        api: Api, tmp_path: Path) -> None:
    dispatcher, in_hand, waiting = await two_tickets(api)
    settings = changed_config(tmp_path / "dropped", DROP_WAITING)
    dropped = changed_registry(settings)
    app, client = client_for(dropped, api)
    async with client:
        # the ticket in the lost state still renders, for staff and for the public, marked unknown
        r = await client.get(f"/api/v1/tickets/{waiting}", headers=dispatcher)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["state"], body["state_known"], body["actions"]) == ("waiting_for_resident", False, [])
        assert body["state_label"] == "Nieznany stan (waiting_for_resident)"
        assert body["category_known"] is True
        r = await client.get(f"/api/v1/public/tickets/{waiting}")
        assert r.status_code == 200, r.text
        assert r.json()["state_known"] is False
        assert r.json()["state_label"]["en"] == "Unknown state (waiting_for_resident)"
        assert (await client.get(f"/api/v1/tickets/{waiting}/history", headers=dispatcher)).status_code == 200
        r = await client.post(f"/api/v1/tickets/{waiting}/actions/reject", json={"public_comment": "Nie."},
                              headers=dispatcher)
        assert r.status_code == 409, r.text
        assert "migrate-definitions" in r.text
        # editing and commenting answer without a 500 (an edit is refused or done, never a crash)
        version = {"If-Match": f'"{body["version"]}"'}
        r = await client.patch(f"/api/v1/tickets/{waiting}", json={"address": "ul. Długa 1"},
                               headers={**dispatcher, **version})
        assert r.status_code in (200, 409), r.text
        r = await client.post(f"/api/v1/tickets/{waiting}/comments", json={"body": "Notatka"}, headers=dispatcher)
        assert r.status_code in (201, 409), r.text
        listed = await client.get("/api/v1/tickets", headers=dispatcher)
        assert listed.status_code == 200 and {i["number"] for i in listed.json()["items"]} == {in_hand, waiting}
        assert (await client.get(f"/api/v1/tickets/{in_hand}", headers=dispatcher)).json()["state_known"] is True

    # the server does not start on it: the list says where the YAML is at fault and how many tickets
    with pytest.raises(DefinitionDrift) as refused:
        await verify(dropped, settings.definitions_dir)
    lines = refused.value.lines()
    state_line = next(line for line in lines if "state 'waiting_for_resident'" in line)
    assert CHANGE_FILE in state_line and "processes.simple_fix.states: 1 open ticket(s) of zgierz" in state_line
    assert "state_map: {waiting_for_resident: STATE}" in state_line
    assert any("timer 'resume_unanswered'" in line and CHANGE_FILE in line for line in lines)
    assert lines[-1] == "2 definition change(s) do not fit 2 open ticket(s)"
    with pytest.raises(DefinitionDrift):  # the app factory's start-up asks the same
        async with app.router.lifespan_context(app):
            pass

    # a state_map says where they go; migrate moves them, audited, and the configuration fits
    mapped = changed_registry(changed_config(tmp_path / "mapped", DROP_WAITING_MAPPED))
    with pytest.raises(DefinitionDrift, match="sends them to 'in_progress'"):
        await verify(mapped)
    done = await migrate(await zgierz(), mapped.tenants[ZG], api.clock.now)
    assert dict(done.moved) == {("simple_fix", "waiting_for_resident", "in_progress"): 1}
    await verify(mapped)
    _, client = client_for(mapped, api)
    async with client:
        body = (await client.get(f"/api/v1/tickets/{waiting}", headers=dispatcher)).json()
        assert (body["state"], body["state_known"], body["sla_paused"]) == ("in_progress", True, False)
        assert body["actions"]
        history = (await client.get(f"/api/v1/tickets/{waiting}/history", headers=dispatcher)).json()["events"]
        moves = [h for h in history if h["action"] == "state_map"]
        assert [(m["before"], m["after"], m["actor"]["kind"]) for m in moves] == [
            ({"state": "waiting_for_resident"}, {"state": "in_progress"}, "system")]
    statuses = await (await zgierz()).timers().filter(state="waiting_for_resident").values_list("status", flat=True)
    assert statuses == ["cancelled"]


async def test_reordered_timers_fire_what_they_were_armed_as(api: Api, tmp_path: Path) -> None:
    dispatcher, _in_hand, waiting = await two_tickets(api)
    r = await api.client(ZG).post("/api/v1/tickets", json=report())
    fresh = str(r.json()["number"])  # in `new`: remind_dispatcher armed
    swapped = changed_registry(changed_config(tmp_path, library_edit=swap_timers))
    assert [t.name for t in swapped.tenants[ZG].processes["simple_fix"].timers] == ["resume_unanswered",
                                                                                   "remind_dispatcher"]
    await verify(swapped)  # names, not positions: nothing to refuse
    api.clock.advance(days=20)
    await fire_due_timers(swapped, now=api.clock.now)
    scope = await zgierz()
    rows = await scope.timers().filter(ticket__number__in=[fresh, waiting]).values_list(
        "ticket__number", "timer_name", "status")
    assert sorted(rows) == sorted([(fresh, "remind_dispatcher", "fired"), (waiting, "resume_unanswered", "fired"),
                                   (waiting, "remind_dispatcher", "cancelled")])  # cancelled by `verify` long ago
    _, client = client_for(swapped, api)
    async with client:
        assert (await client.get(f"/api/v1/tickets/{waiting}", headers=dispatcher)).json()["state"] == "in_progress"
        assert (await client.get(f"/api/v1/tickets/{fresh}", headers=dispatcher)).json()["state"] == "new"


async def test_a_renamed_timer_is_refused_then_cancelled_by_migrate(api: Api, tmp_path: Path) -> None:
    dispatcher, _in_hand, waiting = await two_tickets(api)
    renamed = changed_registry(changed_config(tmp_path, library_edit=rename_timer))
    with pytest.raises(DefinitionDrift, match=r"1 open ticket\(s\) of zgierz have timer 'resume_unanswered' armed"):
        await verify(renamed)
    done = await migrate(await zgierz(), renamed.tenants[ZG], api.clock.now)
    assert done.cancelled_timers == 1 and not done.moved
    await verify(renamed)
    _, client = client_for(renamed, api)
    async with client:
        history = (await client.get(f"/api/v1/tickets/{waiting}/history", headers=dispatcher)).json()["events"]
    assert [h["before"] for h in history if h["action"] == "timer_cancelled"] == [{"timer": "resume_unanswered"}]


async def test_timers_armed_before_names_are_named_from_their_position(api: Api) -> None:
    _dispatcher, _in_hand, waiting = await two_tickets(api)
    scope = await zgierz()
    ticket = await scope.get_ticket(waiting)
    await scope.timers().filter(ticket_id=ticket.id).delete()
    legacy = await scope.create(Timer, ticket_id=ticket.id, timer_name="", timer_index=1,
                                state="waiting_for_resident", fire_at=api.clock.now)
    from web_helpers import registry

    assert await name_legacy_timers(scope, registry().tenants[ZG]) == 1
    assert (await scope.timers().get(id=legacy.id)).timer_name == "resume_unanswered"
    await verify(registry())


async def test_a_removed_unit_with_open_tasks_is_refused_until_they_are_delegated(api: Api) -> None:
    from web_helpers import registry

    dispatcher, in_hand, _waiting = await two_tickets(api)
    scope = await zgierz()
    ticket = await scope.get_ticket(in_hand)
    # as if the YAML had dropped the unit the task was created for
    assert await scope.tasks().filter(ticket_id=ticket.id).update(unit="wydzial_zlikwidowany") == 1
    with pytest.raises(DefinitionDrift, match=r"units: 1 open ticket\(s\) of zgierz have open tasks for unit "
                                              r"'wydzial_zlikwidowany', which no longer exists"):
        await verify(registry())
    body = (await api.client(ZG).get(f"/api/v1/tickets/{in_hand}", headers=dispatcher)).json()
    (task,) = body["tasks"]
    assert (task["unit"], task["unit_known"], [a["name"] for a in task["actions"]]) == (
        "wydzial_zlikwidowany", False, ["delegate"])
    # the way out without touching the YAML: the dispatcher hands the task to a unit that exists
    r = await api.client(ZG).post(f"/api/v1/tickets/{in_hand}/tasks/{task['key']}/delegate",
                                  json={"to_unit": "drogi", "reason": "Wydział zlikwidowany"}, headers=dispatcher)
    assert r.status_code == 200, r.text
    await verify(registry())
