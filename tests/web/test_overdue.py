"""Overdue tickets and tasks, as the staff list and the ticket detail show them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from web_helpers import Api, report

pytestmark = pytest.mark.anyio
ZG = "zgierz"


async def test_the_list_finds_what_is_overdue_and_a_paused_or_closed_ticket_is_not(api: Api) -> None:
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")

    async def submit() -> str:
        r = await client.post("/api/v1/tickets", json=report())
        assert r.status_code == 201, r.text
        return str(r.json()["number"])

    async def act(number: str, action: str, **inputs: Any) -> None:
        r = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=dispatcher)
        assert r.status_code == 200, r.text

    waiting_to_verify, in_hand, rejected, waiting_for_resident = [await submit() for _ in range(4)]
    for number in (in_hand, waiting_for_resident):
        await act(number, "verify")
    await act(rejected, "reject", public_comment="To nie jest droga gminna.")
    await act(waiting_for_resident, "ask_resident", public_comment="Prosimy o zdjęcie.")

    async def overdue(flag: str) -> set[str]:
        r = await client.get("/api/v1/tickets", params={"overdue": flag, "limit": 200}, headers=dispatcher)
        assert r.status_code == 200, r.text
        return {item["number"] for item in r.json()["items"]}

    everything = {waiting_to_verify, in_hand, rejected, waiting_for_resident}
    assert await overdue("true") == set()
    assert await overdue("false") == everything
    api.clock.advance(days=60)  # past every deadline, however many holidays lie between
    # a report nobody verified is overdue by the category's verify SLA (simple_fix: `new` is due by it)
    assert await overdue("true") == {waiting_to_verify, in_hand}
    assert await overdue("false") == {rejected, waiting_for_resident}

    detail = (await client.get(f"/api/v1/tickets/{in_hand}", headers=dispatcher)).json()
    assert detail["overdue"] is True
    assert [t["overdue"] for t in detail["tasks"]] == [True]
    paused = (await client.get(f"/api/v1/tickets/{waiting_for_resident}", headers=dispatcher)).json()
    assert paused["sla_paused"] is True and paused["overdue"] is False
    assert [t["overdue"] for t in paused["tasks"]] == [False]
    bad = await client.get("/api/v1/tickets", params={"overdue": "maybe"}, headers=dispatcher)
    assert bad.status_code == 422


async def test_a_new_report_is_due_by_its_verify_sla_to_the_minute(api: Api) -> None:
    """The verify SLA (pothole: 1 working day; manhole cover: 2 hours) is the new report's deadline."""
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post("/api/v1/tickets", json=report("manhole_cover"))
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])
    reported_at = api.clock.now

    async def detail() -> dict[str, Any]:
        answer = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def overdue_numbers() -> set[str]:
        answer = await client.get("/api/v1/tickets", params={"overdue": "true"}, headers=dispatcher)
        assert answer.status_code == 200, answer.text
        return {item["number"] for item in answer.json()["items"]}

    first = await detail()
    assert datetime.fromisoformat(first["due_at"]) == reported_at + timedelta(hours=2)
    assert first["overdue"] is False
    api.clock.advance(minutes=119)
    assert (await detail())["overdue"] is False
    assert number not in await overdue_numbers()
    api.clock.advance(minutes=1)
    assert (await detail())["overdue"] is True
    assert number in await overdue_numbers()
    # verifying replaces it with the resolve SLA (urgent: 8 hours), counted from the verification
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    verified = await detail()
    assert datetime.fromisoformat(verified["due_at"]) == api.clock.now + timedelta(hours=8)
    assert verified["overdue"] is False
    assert number not in await overdue_numbers()
