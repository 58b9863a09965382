"""Tenant isolation over HTTP: another city's ids are exactly as unknown as ids that do not exist.

To make the check bite, Nieporęt runs here with Zgierz's number prefix: both
cities then hold a ticket `ZG-2026-000001`, and Nieporęt alone holds
`ZG-2026-000002` and `…003`. Scoping by number alone would find them; only
the tenant scope keeps them out. Every route with a path parameter
(enumerated from the app, a new one fails until this table covers it) is
called on Zgierz's host with Nieporęt's ids and with ids that exist nowhere:
both answers must be the same 404, and neither city's rows may change.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring

import httpx
import pytest
from PIL import Image
from route_table import app_routes, fill, path_params
from web_helpers import Api, Clock, registry, report

from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.service import accounts, reporter_links
from komunikator.engine.settings import Settings
from komunikator.engine.store import models
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

ZG, NP = "zgierz", "nieporet"
NOWHERE = {"number": "ZG-2026-999999", "attachment_id": "999999", "token_id": "999999", "item_id": "999999",
           "export_id": "999999",
           "key": "T1", "token": "x" * 43, "service_code": "no_such_service", "service_request_id": "ZG-2026-999999",
           "link": "x" * 43}
#: Open311 (web/open311/) answers errors in the spec's shape: `[{code, description}]`, in JSON when asked.
OPEN311 = "/open311/"
OPEN311_JSON = {"params": {"format": "json"}}
UNKNOWN_HOST = {"error": "unknown_host", "message": "no city is served at this address"}
#: Routes that answer without a city (liveness).
CITY_FREE = {("GET", "/api/v1/health")}


def open311_errors(r: httpx.Response) -> Any:
    """An Open311 error document as data, from JSON or from XML (`<errors><error><code>…`)."""
    if not r.headers["content-type"].startswith("text/xml"):
        return r.json()
    return [{"code": int(e.findtext("code") or 0), "description": e.findtext("description")}
            for e in fromstring(r.content).findall("error")]  # noqa: S314 - our own server


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 40)).save(out, "JPEG")
    return out.getvalue()


PHOTO = {"files": {"file": ("zdjecie.jpg", _jpeg(), "image/jpeg")}, "data": {"visibility": "public"}}

#: How to call each route with a path parameter: the request's extras and the action in the path.
ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/public/tickets/{number}"): {},
    ("GET", "/api/v1/public/tickets/{number}/photos/{attachment_id}"): {},
    ("GET", "/api/v1/public/tickets/{number}/photos/{attachment_id}/thumb"): {},
    ("GET", "/api/v1/tickets/{number}"): {},
    ("PATCH", "/api/v1/tickets/{number}"): {"json": {"description": "przejęte"}},
    ("POST", "/api/v1/tickets/{number}/actions/{action}"): {"action": "reject", "json": {"public_comment": "x"}},
    ("POST", "/api/v1/tickets/{number}/tasks/{key}/{action}"): {"action": "complete", "json": {}},
    ("POST", "/api/v1/tickets/{number}/comments"): {"json": {"body": "przejęte"}},
    ("GET", "/api/v1/tickets/{number}/history"): {},
    ("POST", "/api/v1/tickets/{number}/attachments"): PHOTO,
    ("GET", "/api/v1/tickets/{number}/attachments"): {},
    ("GET", "/api/v1/tickets/{number}/attachments/{attachment_id}"): {},
    ("GET", "/api/v1/tickets/{number}/attachments/{attachment_id}/thumb"): {},
    ("POST", "/api/v1/tickets/{number}/attachments/{attachment_id}/hide"): {"json": {"reason": "twarz"}},
    ("POST", "/api/v1/tickets/{number}/attachments/{attachment_id}/unhide"): {"json": {}},
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): {},
    ("GET", "/api/v1/public/email-confirmations/{token}"): {},
    ("GET", "/api/v1/reporter-links/{link}"): {},
    ("POST", "/api/v1/reporter-links/{link}/actions/{action}"): {"action": "resident_answered",
                                                                 "json": {"public_comment": "x"}},
    ("POST", "/api/v1/tickets/{number}/reporter-links/revoke"): {"json": {}},
    ("GET", "/open311/v2/services/{service_code}"): OPEN311_JSON,
    ("GET", "/open311/v2/requests/{service_request_id}"): OPEN311_JSON,
    ("GET", "/open311/v2/tokens/{token}"): OPEN311_JSON,
    ("GET", "/api/v1/exports/{export_id}"): {},
    ("GET", "/api/v1/exports/{export_id}/file"): {},
}


@cache
def _same_prefix_registry(root: str) -> TenantRegistry:
    """The shipped Zgierz, and Nieporęt numbering its tickets `ZG-…` too."""
    settings = Settings.from_env()
    folder = Path(root) / NP
    shutil.copytree(settings.tenants_dir / NP, folder)
    config = folder / "tenant.yaml"
    text = config.read_text(encoding="utf-8")
    assert "number_prefix: NP" in text
    config.write_text(text.replace("number_prefix: NP", "number_prefix: ZG"), encoding="utf-8")
    compiled, errors = check_tenant(folder, settings.definitions_dir)
    assert compiled is not None, errors
    return TenantRegistry.of([registry().tenants[ZG], compiled], settings.base_domain)


@dataclass
class World:
    """Two cities with tickets, tasks, photos and tokens; clients per host."""

    zg: httpx.AsyncClient
    np: httpx.AsyncClient
    anywhere: httpx.AsyncClient  # no Host set: each request names its own
    zg_dispatcher: dict[str, str]
    np_dispatcher: dict[str, str]
    zg_numbers: list[str]
    np_numbers: list[str]
    np_only: str
    zg_photo: str
    np_photo: str
    np_token_id: str
    np_confirm_token: str
    np_link: str
    app: Any
    np_export: str = ""


async def _snapshot(slug: str) -> dict[str, Any]:
    scope = TenantScope((await ensure_tenant(slug)).id)
    owned = [m for m in vars(models).values() if isinstance(m, type) and issubclass(m, models.Model)
             and m is not models.Model and "tenant" in m._meta.fk_fields]
    out: dict[str, Any] = {m.__name__: await scope.query(m).count() for m in owned}
    out["tickets"] = sorted(await scope.tickets().values_list("number", "version", "description"))
    out["tasks"] = sorted(await scope.tasks().values_list("id", "state", "unit"))
    out["photos"] = sorted(await scope.query(models.Attachment).values_list("id", "hidden_at"))
    out["tokens"] = sorted(await scope.api_tokens().values_list("id", "revoked_at"))
    return out


async def _photo(client: httpx.AsyncClient, number: str, who: dict[str, str]) -> str:
    r = await client.post(f"/api/v1/tickets/{number}/attachments", headers=who, **PHOTO)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
async def world(api: Api, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    app = create_app(_same_prefix_registry(str(tmp_path_factory.mktemp("tenants"))), init_database=False,
                     clock=Clock())
    app.state.media_storage = LocalStorage(tmp_path / "media")
    transport = httpx.ASGITransport(app=app)
    clients = [httpx.AsyncClient(transport=transport, base_url="http://test", headers={"Host": f"{slug}.localhost"})
               for slug in (ZG, NP)]
    anywhere = httpx.AsyncClient(transport=transport, base_url="http://test")
    zg, np = clients
    try:
        zg_dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
        np_dispatcher = await api.staff(NP, "urzad@nieporet.pl", "urzad:dispatcher")
        zg_numbers = []
        for description in ("Zgierz: dziura", "Zgierz: druga dziura"):
            r = await zg.post("/api/v1/tickets", json=report(description=description))
            assert r.status_code == 201, r.text
            zg_numbers.append(r.json()["number"])
        np_numbers = []
        for i in range(4):
            r = await np.post("/api/v1/tickets", json={
                "category": "pothole", "description": f"Nieporęt: tajne {i}", "lat": 52.43, "lon": 21.03,
                "attributes": {"size": "small"}, **({"reporter": {"email": "ktos@example.pl"}} if i == 0 else {})})
            assert r.status_code == 201, r.text
            np_numbers.append(r.json()["number"])
        assert zg_numbers == ["ZG-2026-000001", "ZG-2026-000002"]
        assert np_numbers == ["ZG-2026-000001", "ZG-2026-000002", "ZG-2026-000003", "ZG-2026-000004"]
        for client, number, who in ((zg, zg_numbers[0], zg_dispatcher), (np, np_numbers[-1], np_dispatcher)):
            r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=who)
            assert r.status_code == 200, r.text
            assert [t["key"] for t in r.json()["tasks"]] == ["T1"]
        zg_photo = await _photo(zg, zg_numbers[0], zg_dispatcher)
        np_photo = await _photo(np, np_numbers[-1], np_dispatcher)
        # a second Nieporęt token (tokens are minted from a session, so through the service here)
        np_scope = TenantScope((await ensure_tenant("nieporet")).id)
        np_user = await np_scope.users().get(id=int(np_dispatcher["X-User-Id"]))
        _, np_token = await accounts.create_token(np_scope, np_user, "integracja")
        np_contact = await np_scope.reporter_contacts().filter(confirm_token__not_isnull=True).first()
        assert np_contact is not None and np_contact.confirm_token is not None  # an unconfirmed reporter there
        np_ticket = await np_scope.get_ticket(np_numbers[0])  # a reporter's link there (made as delivery makes it)
        np_link = await reporter_links.mint(np_scope, app.state.tenants.tenants[NP], np_ticket, Clock().now)
        assert np_link is not None
        r = await np.post("/api/v1/lists/tickets/exports", params={"format": "csv"}, headers=np_dispatcher)
        assert r.status_code == 202, r.text  # a background export of Nieporęt's (web/api_exports.py)
        yield World(zg, np, anywhere, zg_dispatcher, np_dispatcher, zg_numbers, np_numbers, np_numbers[-1], zg_photo,
                    np_photo, str(np_token.id), np_contact.confirm_token, np_link, app, str(r.json()["id"]))
    finally:
        for client in (*clients, anywhere):
            await client.aclose()


def _covered(app: Any) -> list[tuple[str, str]]:
    # a plugin's routes: gated per city, isolated by its own tests (tests/plugins: another city's item is a 404)
    with_params = sorted((m, p) for m, p in app_routes(app) if path_params(p) and not p.startswith("/api/v1/plugins/"))
    missing = [route for route in with_params if route not in ROUTES]
    assert not missing, f"routes with path parameters that the isolation table does not cover: {missing}"
    return with_params


async def _call(client: httpx.AsyncClient, method: str, template: str, values: dict[str, str],
                headers: dict[str, str]) -> httpx.Response:
    how = dict(ROUTES[(method, template)])
    action = how.pop("action", "verify")
    return await client.request(method, fill(template, **{"action": action, **values}), headers=headers, **how)


async def test_another_citys_ids_are_unknown_on_every_route(world: World) -> None:
    routes = _covered(world.app)
    before = {ZG: await _snapshot(ZG), NP: await _snapshot(NP)}
    foreign = {"number": world.np_only, "attachment_id": world.np_photo, "token_id": world.np_token_id, "key": "T1",
               "token": world.np_confirm_token, "service_code": "lakeshore_litter",  # Nieporęt's own category
               "service_request_id": world.np_only, "link": world.np_link, "export_id": world.np_export}
    for method, template in routes:
        theirs = await _call(world.zg, method, template, foreign, world.zg_dispatcher)
        nowhere = await _call(world.zg, method, template, NOWHERE, world.zg_dispatcher)
        assert theirs.status_code == 404, (method, template, theirs.text)
        assert (theirs.status_code, theirs.json()) == (nowhere.status_code, nowhere.json()), (method, template)
        assert "Nieporęt" not in theirs.text
        if "attachment_id" in path_params(template):
            # our own ticket, their photo: the same 404 as a photo that does not exist
            ours = {**foreign, "number": world.zg_numbers[0]}
            theirs = await _call(world.zg, method, template, ours, world.zg_dispatcher)
            nowhere = await _call(world.zg, method, template, {**ours, "attachment_id": "999999"},
                                  world.zg_dispatcher)
            assert theirs.status_code == 404, (method, template, theirs.text)
            assert (theirs.status_code, theirs.json()) == (nowhere.status_code, nowhere.json()), (method, template)
    assert await _snapshot(ZG) == before[ZG]
    assert await _snapshot(NP) == before[NP]
    # and Nieporęt's own token still works at home
    r = await world.np.get(f"/api/v1/tickets/{world.np_only}", headers=world.np_dispatcher)
    assert r.status_code == 200, r.text


async def test_a_number_both_cities_have_shows_each_city_its_own(world: World) -> None:
    shared = world.zg_numbers[0]
    assert shared in world.np_numbers
    for client, who, city in ((world.zg, world.zg_dispatcher, "Zgierz"), (world.np, world.np_dispatcher, "Nieporęt")):
        r = await client.get(f"/api/v1/tickets/{shared}", headers=who)
        assert r.status_code == 200, r.text
        assert r.json()["description"].startswith(city)
        history = await client.get(f"/api/v1/tickets/{shared}/history", headers=who)
        assert all(city in (e["after"] or {}).get("description", city) for e in history.json()["events"])
    r = await world.zg.get(f"/api/v1/public/tickets/{shared}")
    assert (r.json()["lat"], r.json()["lon"]) == (51.855, 19.406)


async def test_lists_hold_only_this_citys_tickets(world: World) -> None:
    r = await world.zg.get("/api/v1/tickets", params={"limit": 200}, headers=world.zg_dispatcher)
    assert r.status_code == 200, r.text
    assert sorted(i["number"] for i in r.json()["items"]) == world.zg_numbers
    assert "Nieporęt" not in r.text
    for params in ({"state": "new"}, {"category": "pothole"}, {"unit": "zuk"}, {"public_status": "open"}):
        r = await world.zg.get("/api/v1/tickets", params=params, headers=world.zg_dispatcher)
        assert {i["number"] for i in r.json()["items"]} <= set(world.zg_numbers), params
    r = await world.zg.get(f"/api/v1/tickets/{world.zg_numbers[0]}/attachments", headers=world.zg_dispatcher)
    assert [str(i["id"]) for i in r.json()["items"]] == [world.zg_photo]
    r = await world.zg.get("/api/v1/auth/tokens", headers=world.zg_dispatcher)
    assert world.np_token_id not in {str(t["id"]) for t in r.json()}


async def test_another_citys_token_is_unknown(world: World) -> None:
    made_up = {"Authorization": "Bearer " + "x" * 43}
    for path in ("/api/v1/tickets", f"/api/v1/tickets/{world.np_only}", "/api/v1/auth/me", "/api/v1/auth/tokens"):
        theirs = await world.zg.get(path, headers=world.np_dispatcher)
        nobody = await world.zg.get(path, headers=made_up)
        assert theirs.status_code == 401, (path, theirs.text)
        assert theirs.json() == nobody.json() == {"error": "invalid_token",
                                                  "message": "the API token is invalid or revoked"}
    r = await world.zg.post("/api/v1/tickets", json=report(), headers=world.np_dispatcher)
    assert r.status_code == 401  # not filed anonymously either


async def test_unknown_hosts_get_the_same_404_on_every_route(world: World) -> None:
    values = {"number": world.zg_numbers[0], "attachment_id": world.zg_photo, "token_id": "1", "key": "T1",
              "token": "x" * 43, "item_id": "1", "service_code": "pothole", "service_request_id": world.zg_numbers[0],
              "link": "x" * 43, "export_id": "1"}
    before = await _snapshot(ZG)
    for host in ("unknown.localhost", "zgierz.localhost.example.com", "localhost", "[::1]", "zgierz", "",
                 "127.0.0.1:8000"):
        for method, template in sorted(app_routes(world.app) - CITY_FREE):
            how = dict(ROUTES.get((method, template), {"json": {}} if method in ("POST", "PATCH") else {}))
            action = how.pop("action", "verify")
            path = fill(template, **{"action": action, **values})
            if template.startswith(OPEN311):
                how = {**how, **OPEN311_JSON}
            r = await world.anywhere.request(method, path, headers={**world.zg_dispatcher, "Host": host}, **how)
            expected = [{"code": 404, "description": UNKNOWN_HOST["message"]}] if template.startswith(OPEN311) \
                else UNKNOWN_HOST
            body = open311_errors(r) if template.startswith(OPEN311) else r.json()
            assert (r.status_code, body) == (404, expected), (host, method, template, r.text)
    assert await _snapshot(ZG) == before
    for host in ("ZGIERZ.localhost", "zgierz.localhost:8000", "zgierz.example.pl", "zglos.zgierz.example.pl."):
        r = await world.anywhere.get("/api/v1/tenant", headers={"Host": host})
        assert (r.status_code, r.json()["slug"]) == (200, ZG), host
