"""The reporter's link (#11 item 8) through the JSON API, on both databases.

A Zgierz pothole is verified, the office asks the reporter (`ask_resident`),
and the reporter answers through the link (`resident_answered`, `by: [reporter]`
in definitions/processes/simple_fix.yaml). The link is made by the service
that delivery calls (`reporter_links.mint`); tests/delivery covers the way
from the e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from web_helpers import Api, registry, report

from komunikator.engine.service import reporter_links
from komunikator.engine.store.models import ReporterLink
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = pytest.mark.anyio
ZG, NP = "zgierz", "nieporet"


@dataclass
class Waiting:
    """A Zgierz ticket waiting for its reporter, a link for them, and the dispatcher's header."""

    number: str
    link: str
    dispatcher: dict[str, str]
    scope: TenantScope


async def _mint(api: Api, number: str) -> str:
    scope = TenantScope((await ensure_tenant(ZG)).id)
    ticket = await scope.get_ticket(number)
    token = await reporter_links.mint(scope, registry().tenants[ZG], ticket, api.clock.now)
    assert token is not None
    return token


async def _waiting(api: Api, dispatcher: dict[str, str] | None = None) -> Waiting:
    client = api.client(ZG)
    dispatcher = dispatcher or await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post("/api/v1/tickets", json=report())
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])
    for action, inputs in (("verify", {}), ("ask_resident", {"public_comment": "Z której strony przystanku?"})):
        r = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=dispatcher)
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "waiting_for_resident"
    return Waiting(number, await _mint(api, number), dispatcher, TenantScope((await ensure_tenant(ZG)).id))


async def _state(api: Api, w: Waiting) -> str:
    r = await api.client(ZG).get(f"/api/v1/tickets/{w.number}", headers=w.dispatcher)
    return str(r.json()["state"])


async def test_the_link_shows_the_report_and_exactly_the_reporters_transitions(api: Api, db: str) -> None:
    w = await _waiting(api)
    r = await api.client(ZG).get(f"/api/v1/reporter-links/{w.link}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["number"] == w.number
    assert body["state_label"]["pl"] == "Oczekuje na informacje od zgłaszającego"
    assert [(a["name"], a["requires"]) for a in body["actions"]] == [("resident_answered", ["public_comment"])]
    assert [u["body"] for u in body["updates"]] == ["Z której strony przystanku?"]
    assert body["expires_at"].startswith("2026-12-31")  # the city's reporter_link_days (30) from 1 December
    # only the hash is stored
    row = await w.scope.query(ReporterLink).get(ticket__number=w.number)
    assert row.token_hash == reporter_links.token_hash(w.link) and w.link not in row.token_hash


async def test_the_reporter_answers_once_audited_as_reporter(api: Api, db: str) -> None:
    w = await _waiting(api)
    client = api.client(ZG)
    path = f"/api/v1/reporter-links/{w.link}/actions/resident_answered"
    r = await client.post(path, json={})
    assert (r.status_code, r.json()["error"]) == (422, "missing_input"), r.text
    assert await _state(api, w) == "waiting_for_resident"

    key = {"Idempotency-Key": "odpowiedz-1"}
    r = await client.post(path, json={"public_comment": "Od strony ul. Długiej."}, headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["replayed"] is False
    assert r.json()["report"]["actions"] == []
    assert await _state(api, w) == "in_progress"

    again = await client.post(path, json={"public_comment": "Od strony ul. Długiej."}, headers=key)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    other = await client.post(path, json={"public_comment": "Inna treść"}, headers=key)
    assert (other.status_code, other.json()["error"]) == (422, "idempotency_key_reused")
    without_key = await client.post(path, json={"public_comment": "Od strony ul. Długiej."})
    assert without_key.status_code == 409, without_key.text  # nothing to answer in this state

    ticket = await w.scope.get_ticket(w.number)
    events = await w.scope.audit_events().filter(ticket_id=ticket.id, actor_kind="reporter").order_by("id")
    assert [e.action for e in events] == ["resident_answered", "sla_resume", "comment"]
    assert all(e.reporter_contact_id == ticket.reporter_contact_id and e.actor_user_id is None  # type: ignore[attr-defined]
               for e in events)
    answered = await w.scope.comments().filter(ticket_id=ticket.id, body="Od strony ul. Długiej.")
    assert [(c.visibility, c.author_contact_id) for c in answered] == [  # type: ignore[attr-defined]
        ("public", ticket.reporter_contact_id)]  # type: ignore[attr-defined]
    history = await client.get(f"/api/v1/tickets/{w.number}/history", headers=w.dispatcher)
    moves = [e for e in history.json()["events"] if e["actor"]["kind"] == "reporter"]
    assert moves and all(e["actor"]["id"] is None for e in moves)
    public = await client.get(f"/api/v1/public/tickets/{w.number}")
    assert "Od strony ul. Długiej." in [u["body"] for u in public.json()["updates"]]


@pytest.mark.parametrize(("action", "inputs", "status"), [
    ("resume", {}, 403),  # staff's way out of waiting
    ("reject", {"public_comment": "x"}, 403),
    ("ask_resident", {"public_comment": "x"}, 403),  # staff's (and not from this state)
    ("reclassify", {}, 403),  # a built-in action
    ("mark_duplicate", {}, 403),
    ("no_such_action", {}, 422),
])
async def test_forged_actions_are_refused_and_change_nothing(api: Api, db: str, action: str, inputs: dict[str, Any],
                                                             status: int) -> None:
    w = await _waiting(api)
    r = await api.client(ZG).post(f"/api/v1/reporter-links/{w.link}/actions/{action}", json=inputs)
    assert r.status_code == status, r.text
    assert await _state(api, w) == "waiting_for_resident"


async def test_a_reporter_writes_no_internal_comment(api: Api, db: str) -> None:
    w = await _waiting(api)
    r = await api.client(ZG).post(f"/api/v1/reporter-links/{w.link}/actions/resident_answered",
                                  json={"public_comment": "x", "internal_comment": "tylko dla urzędu"})
    assert r.status_code == 422, r.text
    assert await _state(api, w) == "waiting_for_resident"


async def test_expired_link_is_gone(api: Api, db: str) -> None:
    w = await _waiting(api)
    api.clock.advance(days=29, hours=23)
    assert (await api.client(ZG).get(f"/api/v1/reporter-links/{w.link}")).status_code == 200
    api.clock.advance(hours=2)
    r = await api.client(ZG).get(f"/api/v1/reporter-links/{w.link}")
    assert (r.status_code, r.json()["error"], r.json()["details"]) == (410, "link_gone", {"reason": "expired"})
    r = await api.client(ZG).post(f"/api/v1/reporter-links/{w.link}/actions/resident_answered",
                                  json={"public_comment": "spóźniona odpowiedź"})
    assert r.status_code == 410
    assert await _state(api, w) == "waiting_for_resident"


async def test_another_citys_link_is_as_unknown_as_no_link(api: Api, db: str) -> None:
    w = await _waiting(api)
    np = api.client(NP)
    theirs = await np.get(f"/api/v1/reporter-links/{w.link}")
    nowhere = await np.get(f"/api/v1/reporter-links/{'x' * 43}")
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()
    posted = await np.post(f"/api/v1/reporter-links/{w.link}/actions/resident_answered", json={"public_comment": "x"})
    assert (posted.status_code, posted.json()) == (404, nowhere.json())
    assert await _state(api, w) == "waiting_for_resident"


async def test_closing_revoking_and_erasing_end_the_link(api: Api, db: str) -> None:
    client = api.client(ZG)
    w = await _waiting(api)
    clerk = await api.staff(ZG, "robotnik@zgierz.pl", "drogi:worker")
    r = await client.post(f"/api/v1/tickets/{w.number}/reporter-links/revoke", json={}, headers=clerk)
    assert r.status_code == 403, r.text  # a worker sees the ticket (its task) but edits no tickets
    r = await client.post(f"/api/v1/tickets/{w.number}/reporter-links/revoke", json={"reason": "zły adres"},
                          headers=w.dispatcher)
    assert (r.status_code, r.json()) == (200, {"revoked": 1}), r.text
    r = await client.get(f"/api/v1/reporter-links/{w.link}")
    assert (r.status_code, r.json()["details"]) == (410, {"reason": "revoked"})

    fresh = await _mint(api, w.number)  # the next e-mail brings a new one
    assert (await client.get(f"/api/v1/reporter-links/{fresh}")).status_code == 200
    admin = await api.staff(ZG, "admin@zgierz.pl", "bom:admin")
    r = await client.post("/api/v1/admin/gdpr/erase", json={"ticket": w.number, "legal_basis": "art. 17 RODO"},
                          headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_links"] == 1
    r = await client.get(f"/api/v1/reporter-links/{fresh}")
    assert r.status_code == 410, r.text

    w2 = await _waiting(api, w.dispatcher)
    r = await client.post(f"/api/v1/tickets/{w2.number}/actions/reject", json={"public_comment": "Nie nasz teren"},
                          headers=w2.dispatcher)
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/reporter-links/{w2.link}")
    assert (r.status_code, r.json()["details"]) == (410, {"reason": "closed"})


async def test_answers_are_rate_limited_per_link(api: Api, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_SUBMIT_MAX_PER_EMAIL", "2")
    w = await _waiting(api)
    path = f"/api/v1/reporter-links/{w.link}/actions/resident_answered"
    codes = [(await api.client(ZG).post(path, json={"public_comment": f"odpowiedź {i}"})).status_code
             for i in range(3)]
    assert codes == [200, 409, 429]
    r = await api.client(ZG).post(path, json={"public_comment": "jeszcze"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
