"""Issue #11 through the API on both databases: SLA pauses in office time (item 2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from web_helpers import Api, report

pytestmark = pytest.mark.anyio
ZG = "zgierz"


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
