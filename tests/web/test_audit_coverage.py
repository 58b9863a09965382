"""Every mutating route writes history: at least one audit row, with before → after, naming who did it.

The routes come from the app's OpenAPI schema; each must have an entry in
`CALLS` (how to call it validly), so a new route fails here until it says
how it is audited.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image
from route_table import app_routes
from web_helpers import Api, registry, report

from komunikator.engine.lists.declared import LISTS
from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.open311 import keys as open311_keys
from komunikator.engine.service import accounts, reporter_links
from komunikator.engine.store.models import AuditEvent
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct horse battery"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 40)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Ctx:
    """What the calls share: clients, people, and what earlier calls made."""

    client: httpx.AsyncClient
    dispatcher: dict[str, str]
    worker: dict[str, str]
    made: dict[str, Any] = field(default_factory=dict)


async def _login(c: Ctx) -> httpx.Response:
    r = await c.client.post("/api/v1/auth/login", json={"email": "anna@zgierz.pl", "password": PASSWORD})
    assert r.cookies.get("komunikator_session")  # kept in the client's jar for the logout
    return r


async def _logout(c: Ctx) -> httpx.Response:
    r = await c.client.post("/api/v1/auth/logout")
    c.client.cookies.clear()
    return r


async def _create_token(c: Ctx) -> httpx.Response:
    await _login(c)  # tokens are made from a session only (a token cannot mint tokens)
    r = await c.client.post("/api/v1/auth/tokens", json={"name": "eksport"})
    c.made["token"] = r.json().get("id")
    return r


async def _revoke_token(c: Ctx) -> httpx.Response:
    r = await c.client.delete(f"/api/v1/auth/tokens/{c.made['token']}")
    c.client.cookies.clear()  # the calls after this one are anonymous or carry their own token
    return r


async def _choose_locale(c: Ctx) -> httpx.Response:
    return await c.client.patch("/api/v1/auth/me", json={"locale": "en"}, headers=c.dispatcher)


async def _submit(c: Ctx) -> httpx.Response:
    r = await c.client.post("/api/v1/tickets", json=report())
    c.made["number"] = r.json().get("number")
    return r


async def _edit(c: Ctx) -> httpx.Response:
    return await c.client.patch(f"/api/v1/tickets/{c.made['number']}", json={"description": "poprawiony"},
                                headers=c.dispatcher)


async def _verify(c: Ctx) -> httpx.Response:
    r = await c.client.post(f"/api/v1/tickets/{c.made['number']}/actions/verify", json={}, headers=c.dispatcher)
    c.made["task"] = r.json()["tasks"][0]["key"]
    return r


async def _take(c: Ctx) -> httpx.Response:
    return await c.client.post(f"/api/v1/tickets/{c.made['number']}/tasks/{c.made['task']}/take", json={},
                               headers=c.worker)


async def _comment(c: Ctx) -> httpx.Response:
    return await c.client.post(f"/api/v1/tickets/{c.made['number']}/comments", json={"body": "notatka"},
                               headers=c.dispatcher)


async def _upload(c: Ctx) -> httpx.Response:
    r = await c.client.post(f"/api/v1/tickets/{c.made['number']}/attachments", headers=c.dispatcher,
                            files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, data={"visibility": "public"})
    c.made["photo"] = r.json().get("id")
    return r


async def _hide(c: Ctx) -> httpx.Response:
    return await c.client.post(f"/api/v1/tickets/{c.made['number']}/attachments/{c.made['photo']}/hide",
                               json={"reason": "widać twarz"}, headers=c.dispatcher)


async def _unhide(c: Ctx) -> httpx.Response:
    return await c.client.post(f"/api/v1/tickets/{c.made['number']}/attachments/{c.made['photo']}/unhide",
                               json={}, headers=c.dispatcher)


async def _reporter_link(c: Ctx) -> str:
    """A reporter's link for the ticket, made as delivery makes it (tests/delivery covers the e-mail)."""
    scope = TenantScope((await ensure_tenant(ZG)).id)
    ticket = await scope.get_ticket(c.made["number"])
    link = await reporter_links.mint(scope, registry().tenants[ZG], ticket, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert link is not None
    return link


async def _revoke_reporter_links(c: Ctx) -> httpx.Response:
    r = await c.client.post(f"/api/v1/tickets/{c.made['number']}/actions/ask_resident",
                            json={"public_comment": "Z której strony?"}, headers=c.dispatcher)
    assert r.status_code == 200, r.text
    await _reporter_link(c)
    return await c.client.post(f"/api/v1/tickets/{c.made['number']}/reporter-links/revoke",
                               json={"reason": "wysłany na zły adres"}, headers=c.dispatcher)


async def _reporter_answers(c: Ctx) -> httpx.Response:
    link = await _reporter_link(c)  # a fresh one: the revoke above ended the first
    return await c.client.post(f"/api/v1/reporter-links/{link}/actions/resident_answered",
                               json={"public_comment": "Od ul. Długiej."})


async def _gdpr_export(c: Ctx) -> httpx.Response:
    return await c.client.post("/api/v1/admin/gdpr/export", json={"ticket": c.made["number"]}, headers=c.dispatcher)


async def _gdpr_erase(c: Ctx) -> httpx.Response:
    return await c.client.post("/api/v1/admin/gdpr/erase", json={"ticket": c.made["number"], "legal_basis": "art. 17"},
                               headers=c.dispatcher)


async def _open311_post(c: Ctx, suffix: str) -> httpx.Response:
    scope = TenantScope((await ensure_tenant(ZG)).id)
    key, _ = await open311_keys.create_key(scope, f"aplikacja {suffix or 'xml'}", datetime.now(UTC))
    return await c.client.post(f"/open311/v2/requests{suffix}", data={
        "api_key": key, "service_code": "pothole", "lat": "51.855", "long": "19.406", "description": "Dziura",
        "attribute[size]": "small"})


def _background_export(name: str) -> Callable[[Ctx], Awaitable[httpx.Response]]:
    async def call(c: Ctx) -> httpx.Response:
        return await c.client.post(f"/api/v1/lists/{name}/exports", params={"format": "csv"}, headers=c.dispatcher)

    return call


Call = Callable[[Ctx], Awaitable[httpx.Response]]

#: How to call each mutating route once, validly; in order (later calls use what earlier ones made).
CALLS: dict[tuple[str, str], tuple[Call, str | None]] = {
    # (call, whose id the audit row names: "dispatcher", "worker", "anna", or None for anonymous)
    ("POST", "/api/v1/auth/login"): (_login, "anna"),
    ("POST", "/api/v1/auth/logout"): (_logout, "anna"),
    ("POST", "/api/v1/auth/tokens"): (_create_token, "anna"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): (_revoke_token, "anna"),
    ("PATCH", "/api/v1/auth/me"): (_choose_locale, "dispatcher"),
    ("POST", "/api/v1/tickets"): (_submit, None),
    ("PATCH", "/api/v1/tickets/{number}"): (_edit, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/actions/{action}"): (_verify, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/tasks/{key}/{action}"): (_take, "worker"),
    ("POST", "/api/v1/tickets/{number}/comments"): (_comment, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/attachments"): (_upload, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/attachments/{attachment_id}/hide"): (_hide, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/attachments/{attachment_id}/unhide"): (_unhide, "dispatcher"),
    ("POST", "/api/v1/tickets/{number}/reporter-links/revoke"): (_revoke_reporter_links, "dispatcher"),
    # the reporter through their link: no account, the audit rows name the reporter contact (actor kind reporter)
    ("POST", "/api/v1/reporter-links/{link}/actions/{action}"): (_reporter_answers, None),
    ("POST", "/api/v1/admin/gdpr/export"): (_gdpr_export, "dispatcher"),  # the dispatcher is an admin too
    ("POST", "/api/v1/admin/gdpr/erase"): (_gdpr_erase, "dispatcher"),
    # a background export asked for (web/api_exports.py): list_export_requested; the dispatcher is an admin too
    **{("POST", f"/api/v1/lists/{name}/exports"): (_background_export(name), "dispatcher") for name in LISTS},
    # Open311 (web/open311/): anonymous reports through an application's api key, as the intake audits them
    ("POST", "/open311/v2/requests"): (lambda c: _open311_post(c, ""), None),
    ("POST", "/open311/v2/requests.json"): (lambda c: _open311_post(c, ".json"), None),
    ("POST", "/open311/v2/requests.xml"): (lambda c: _open311_post(c, ".xml"), None),
}


async def _rows(scope: TenantScope, after_id: int) -> list[AuditEvent]:
    return await scope.audit_events().filter(id__gt=after_id).order_by("id")


async def _last_id(scope: TenantScope) -> int:
    row = await scope.audit_events().order_by("-id").first()
    return row.id if row is not None else 0


def _check_rows(rows: list[AuditEvent], who: int | None, what: str) -> None:
    assert rows, f"{what} wrote no audit row"
    for row in rows:
        assert isinstance(row.before, dict) and isinstance(row.after, dict), (what, row.action)
    assert any(row.before != row.after for row in rows), f"{what}: no row says what changed (before → after)"
    actors = {row.actor_user_id for row in rows}  # type: ignore[attr-defined]
    if who is None:
        assert actors == {None}, (what, actors)
    else:
        assert who in actors, (what, actors, who)


@pytest.fixture
async def ctx(api: Api, tmp_path: Any) -> Ctx:
    api.app.state.media_storage = LocalStorage(tmp_path / "media")
    scope = TenantScope((await ensure_tenant(ZG)).id)
    await accounts.create_user(scope, "anna@zgierz.pl", "Anna", password=PASSWORD)
    return Ctx(api.client(ZG), await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher", "bom:admin"),
               await api.staff(ZG, "drogi@zgierz.pl", "drogi:worker"))


async def test_every_mutating_route_writes_an_audit_row(api: Api, ctx: Ctx) -> None:
    # a plugin's routes answer only in a city that enables it; each plugin's own tests check its audit rows
    # (tests/plugins/test_lost_and_found.py)
    routes = sorted((m, p) for m, p in app_routes(api.app) if m in MUTATING and not p.startswith("/api/v1/plugins/"))
    documented = {(m.upper(), p) for p, ops in api.app.openapi()["paths"].items() for m in ops} & set(routes)
    assert documented == set(routes)
    uncovered = [r for r in routes if r not in CALLS]
    assert not uncovered, f"mutating routes with no audit check (add them to CALLS): {uncovered}"
    assert set(CALLS) <= set(routes), f"CALLS names routes that are gone: {sorted(set(CALLS) - set(routes))}"

    scope = TenantScope((await ensure_tenant(ZG)).id)
    anna = await accounts.get_user(scope, "anna@zgierz.pl")
    ids = {"dispatcher": int(ctx.dispatcher["X-User-Id"]), "worker": int(ctx.worker["X-User-Id"]), "anna": anna.id}
    for (method, path), (call, who) in CALLS.items():
        last = await _last_id(scope)
        r = await call(ctx)
        assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text)
        _check_rows(await _rows(scope, last), ids[who] if who else None, f"{method} {path}")


#: Inputs for each ticket action a dispatcher may fire on a new pothole.
ACTION_INPUTS: dict[str, dict[str, Any]] = {
    "verify": {},
    "reject": {"public_comment": "to nie nasza droga"},
    "reclassify": {"category": "pavement_damage"},
    "mark_duplicate": {},  # filled in with another ticket
    "set_priority": {"priority": "urgent"},
}
TASK_INPUTS: dict[str, dict[str, Any]] = {
    "take": {},
    "complete": {},
    "delegate": {"to_unit": "inwestycje", "reason": "oświetlenie"},
    "withdraw": {"reason": "brak sprzętu"},
}


async def test_every_ticket_and_task_action_is_audited(api: Api, ctx: Ctx) -> None:
    """The parametrised routes: each action a user may take, once, on a fresh ticket."""
    scope = TenantScope((await ensure_tenant(ZG)).id)
    dispatcher_id, worker_id = int(ctx.dispatcher["X-User-Id"]), int(ctx.worker["X-User-Id"])
    master = (await ctx.client.post("/api/v1/tickets", json=report())).json()["number"]
    offered = (await ctx.client.get(f"/api/v1/tickets/{master}", headers=ctx.dispatcher)).json()["actions"]
    assert {a["name"] for a in offered} == set(ACTION_INPUTS)
    for action, inputs in ACTION_INPUTS.items():
        number = (await ctx.client.post("/api/v1/tickets", json=report())).json()["number"]
        body = {"duplicate_of": master} if action == "mark_duplicate" else inputs
        last = await _last_id(scope)
        r = await ctx.client.post(f"/api/v1/tickets/{number}/actions/{action}", json=body, headers=ctx.dispatcher)
        assert r.status_code == 200, (action, r.text)
        rows = await _rows(scope, last)
        _check_rows(rows, dispatcher_id, action)
        assert any(row.action == action for row in rows), (action, [row.action for row in rows])
    for action, inputs in TASK_INPUTS.items():
        number = (await ctx.client.post("/api/v1/tickets", json=report())).json()["number"]
        r = await ctx.client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=ctx.dispatcher)
        key = r.json()["tasks"][0]["key"]
        last = await _last_id(scope)
        r = await ctx.client.post(f"/api/v1/tickets/{number}/tasks/{key}/{action}", json=inputs, headers=ctx.worker)
        assert r.status_code == 200, (action, r.text)
        rows = await _rows(scope, last)
        _check_rows(rows, worker_id, f"task {action}")
        assert any(row.action == f"task_{action}" for row in rows), (action, [row.action for row in rows])
        if "reason" in inputs:
            assert any(row.reason == inputs["reason"] for row in rows), action
