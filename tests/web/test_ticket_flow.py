"""The whole story of tickets through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from web_helpers import Api, report

ZG = "zgierz"
DUMP = {"waste_type": ["construction"]}


async def test_dumping_report_through_every_step(api: Api) -> None:
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    env = await api.staff(ZG, "os@zgierz.pl", "srodowisko:worker")
    gk = await api.staff(ZG, "gk@zgierz.pl", "gospodarka_komunalna:worker")
    pgk = await api.staff(ZG, "pgk@zgierz.pl", "pgk:external")

    # a resident reports, without an account
    body = report("illegal_dumping", description="Gruz w lesie", attributes=DUMP)
    r = await client.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert number == "ZG-2026-000001"
    assert r.json()["public_status"] == "open"

    # the dispatcher verifies, fixing the description first (optimistic concurrency)
    r = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    assert {a["name"] for a in r.json()["actions"]} >= {"verify", "reject", "reclassify"}
    r = await client.patch(f"/api/v1/tickets/{number}", json={"description": "Gruz budowlany w lesie"},
                           headers={**dispatcher, "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    stale = await client.patch(f"/api/v1/tickets/{number}", json={"description": "x"},
                               headers={**dispatcher, "If-Match": f'"{version}"'})
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_version"
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    tasks = {t["unit"]: t["key"] for t in r.json()["tasks"]}
    assert set(tasks) == {"srodowisko", "straz_miejska", "pgk"}

    # environment delegates its task to the municipal services department
    r = await client.post(f"/api/v1/tickets/{number}/tasks/{tasks['srodowisko']}/delegate",
                          json={"to_unit": "gospodarka_komunalna", "reason": "teren gminy"}, headers=env)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/tickets/{number}/tasks/{tasks['srodowisko']}/complete", json={}, headers=env)
    assert r.status_code == 403  # no longer theirs
    r = await client.post(f"/api/v1/tickets/{number}/tasks/{tasks['srodowisko']}/complete",
                          json={"comment": "właściciel ustalony"}, headers=gk)
    assert r.status_code == 200, r.text

    # the company withdraws: the ticket goes back to the dispatcher
    r = await client.post(f"/api/v1/tickets/{number}/tasks/{tasks['pgk']}/withdraw", json={"reason": "brak sprzętu"},
                          headers=pgk)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "new"

    # verified again: a new step
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    open_tasks = [t for t in r.json()["tasks"] if t["state"] == "open"]
    assert len(open_tasks) == 3
    for task in open_tasks:
        who = {"srodowisko": env, "straz_miejska": dispatcher, "pgk": pgk}[task["unit"]]
        r = await client.post(f"/api/v1/tickets/{number}/tasks/{task['key']}/complete", json={}, headers=who)
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "acceptance"
    # the last one to complete may be the company, which reads only its own task: ask as the dispatcher
    r = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    acceptance = next(t for t in r.json()["tasks"] if t["state"] == "open")
    r = await client.post(f"/api/v1/tickets/{number}/tasks/{acceptance['key']}/complete", json={}, headers=env)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["public_status"]) == ("resolved", "closed")

    # a second report of the same dump is merged; the first one is reopened
    r = await client.post("/api/v1/tickets", json=report("illegal_dumping", description="Znowu gruz", attributes=DUMP))
    second = r.json()["number"]
    r = await client.post(f"/api/v1/tickets/{second}/actions/mark_duplicate", json={"duplicate_of": number},
                          headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "duplicate"
    api.clock.advance(days=3)
    r = await client.post(f"/api/v1/tickets/{number}/actions/reopen", json={"public_comment": "Gruz wrócił"},
                          headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_progress"

    # the history tells the whole story
    r = await client.get(f"/api/v1/tickets/{number}/history", headers=dispatcher)
    assert r.status_code == 200
    actions = [e["action"] for e in r.json()["events"]]
    for expected in ("submit", "edit", "verify", "task_create", "task_delegate", "task_complete", "task_withdraw",
                     "task_withdrawn", "task_cancel", "work_done", "accept", "reopen", "comment"):
        assert expected in actions, expected
    edit = next(e for e in r.json()["events"] if e["action"] == "edit")
    assert edit["before"] == {"description": "Gruz w lesie"}
    assert edit["after"] == {"description": "Gruz budowlany w lesie"}
    delegate = next(e for e in r.json()["events"] if e["action"] == "task_delegate")
    assert delegate["reason"] == "teren gminy"
    assert delegate["actor"]["name"] == "os"


async def test_idempotent_submission(api: Api) -> None:
    client = api.client(ZG)
    body = report()
    first = await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "abc-1"})
    again = await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    other = await client.post("/api/v1/tickets", json=report(description="inna"), headers={"Idempotency-Key": "abc-1"})
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    nxt = await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "abc-2"})
    assert nxt.json()["number"] == "ZG-2026-000002"
