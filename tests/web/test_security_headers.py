"""Security headers on every answer, and /docs without a CDN (issue #12, 9), through the ASGI app."""

from __future__ import annotations

import re

import httpx
import pytest
from web_helpers import Api, Clock, make_api, report

from komunikator.web.api_docs import ASSETS, DOCS_CSP, SWAGGER_UI_VERSION

ALWAYS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY"}


def _check_common(r: httpx.Response) -> None:
    for name, value in ALWAYS.items():
        assert r.headers.get(name) == value, (r.request.url, name, dict(r.headers))
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_json_answers_carry_the_security_headers(api: Api) -> None:
    client = api.client("zgierz")
    dispatcher = await api.staff("zgierz", "bom@zgierz.pl", "bom:dispatcher")
    made = await client.post("/api/v1/tickets", json=report())
    number = made.json()["number"]
    answers = [
        await client.get("/api/v1/tenant"),
        made,  # the reporter's own data in the answer
        await client.get(f"/api/v1/tickets/{number}", headers=dispatcher),  # personal data
        await client.get("/api/v1/tickets/ZG-0000-404", headers=dispatcher),  # an error
        await client.get("/api/v1/tickets"),  # 401
        await client.post("/api/v1/tickets", content=b"{" * 70_000, headers={"Content-Type": "application/json"}),
    ]
    assert [r.status_code for r in answers] == [200, 201, 200, 404, 401, 413]
    for r in answers:
        _check_common(r)
        assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert "strict-transport-security" not in r.headers  # plain http


async def test_hsts_over_https_only(api: Api) -> None:
    secure = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="https://zgierz.localhost")
    try:
        r = await secure.get("/api/v1/tenant")
    finally:
        await secure.aclose()
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    _check_common(r)
    plain = await api.client("zgierz").get("/api/v1/tenant")
    assert "strict-transport-security" not in plain.headers


async def test_hsts_is_a_setting(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_HSTS_SECONDS", "0")
    made = make_api(Clock())
    secure = httpx.AsyncClient(transport=httpx.ASGITransport(app=made.app), base_url="https://zgierz.localhost")
    try:
        assert "strict-transport-security" not in (await secure.get("/api/v1/tenant")).headers
    finally:
        await secure.aclose()
        for client in made.clients.values():
            await client.aclose()


async def test_a_response_keeps_the_headers_it_set_itself(api: Api) -> None:
    """The /docs page brings its own policy (it loads scripts); the middleware only fills in what is missing."""
    r = await api.client("zgierz").get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == DOCS_CSP
    assert r.headers["cache-control"] == "no-cache"
    _check_common(r)


async def test_docs_load_swagger_ui_from_the_package_not_a_cdn(api: Api) -> None:
    client = api.client("zgierz")
    page = (await client.get("/docs")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    assert "cdn" not in page.lower() and "http" not in page.lower()
    assert "script-src 'self';" in DOCS_CSP
    for source in sources:
        r = await client.get(source)
        assert r.status_code == 200, source
        if source.endswith(".js") and SWAGGER_UI_VERSION in source:
            assert r.content == (ASSETS / "swagger-ui-bundle.js").read_bytes()
            assert "immutable" in r.headers["cache-control"]
    assert (await client.get(f"/docs/swagger-ui@{SWAGGER_UI_VERSION}/package.json")).status_code == 404
    assert (await client.get("/redoc")).status_code == 404  # ReDoc came from a CDN too
    assert (await client.get("/openapi.json")).status_code == 200


async def test_docs_can_be_turned_off(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_API_DOCS", "off")
    made = make_api(Clock())
    try:
        client = made.client("zgierz")
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200
    finally:
        for client in made.clients.values():
            await client.aclose()
