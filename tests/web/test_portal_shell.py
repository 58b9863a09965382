"""The resident portal's shell in-process: each city's own name and colours, the page headers, the PWA's
manifest, icons and service worker, the languages, and the staff workspace and the API still answering."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from web_helpers import Api

from komunikator.web.portal.assets import SHELL, SHELL_VENDOR
from komunikator.web.staff.security import content_security_policy

pytestmark = pytest.mark.anyio


async def test_each_host_shows_its_own_city(api: Api) -> None:
    zgierz = await api.client("zgierz").get("/")
    nieporet = await api.client("nieporet").get("/")
    assert zgierz.status_code == nieporet.status_code == 200
    assert "<title>Strona główna – Urząd Miasta Zgierza</title>" in zgierz.text
    assert "Zgierza" not in nieporet.text and "Nieporęt" in nieporet.text
    assert '<html lang="pl">' in zgierz.text and 'class="skip-link" href="#main"' in zgierz.text
    assert 'href="/zglos"' in zgierz.text and 'aria-current="page"' in zgierz.text
    # the colours come from each city's theme (a file: the CSP allows no inline styles)
    themes = [re.search(r'href="(/staff/theme\.css\?v=[^"]+)"', page.text) for page in (zgierz, nieporet)]
    assert themes[0] and themes[1]
    css = [(await api.client(slug).get(found.group(1))).text
           for slug, found in zip(("zgierz", "nieporet"), themes, strict=True)]
    assert "--brand:#b01c2e" in css[0] and css[0] != css[1]
    assert zgierz.headers["content-security-policy"] == content_security_policy()
    assert zgierz.headers["cache-control"] == "no-store"


async def test_the_language_is_picked_and_remembered(api: Api) -> None:
    client = api.client("zgierz")
    english = await client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Report a problem" in english.text
    assert (await client.get("/")).text.count('<html lang="en">') == 1  # the cookie remembers it
    assert '<html lang="pl">' in (await client.get("/?lang=pl")).text
    assert '<html lang="pl">' in (await client.get("/?lang=xx")).text  # not offered: the remembered one
    # a first visit follows the browser's languages among the city's: Nieporęt answers in Polish only
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test") as fresh:
        for host, expected in (("zgierz.localhost", "en"), ("nieporet.localhost", "pl")):
            page = await fresh.get("/", headers={"Host": host, "Accept-Language": "en-GB,en;q=0.9"})
            assert f'<html lang="{expected}">' in page.text, host
        assert 'href="/?lang=en"' not in (await fresh.get("/", headers={"Host": "nieporet.localhost"})).text


async def test_the_installable_app_is_the_city_s(api: Api) -> None:
    client = api.client("zgierz")
    manifest = await client.get("/manifest.webmanifest")
    body = json.loads(manifest.text)
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert body["name"] == "Urząd Miasta Zgierza" and body["display"] == "standalone"
    assert body["theme_color"] == "#b01c2e" and body["start_url"].startswith("/")
    for icon in body["icons"]:
        answer = await client.get(icon["src"])
        assert answer.status_code == 200 and answer.headers["content-type"] == icon["type"]
    big = await client.get("/icon-512.png")
    assert big.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert big.content != (await api.client("nieporet").get("/icon-512.png")).content  # the other city's colour
    worker = await client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in worker.text and "/*SHELL*/" not in worker.text
    # the worker obeys its own response's CSP: it must let it import /sw-push.js and fetch from this origin
    # (the non-HTML default, default-src 'none', made importScripts fail and the worker never installed)
    policy = dict(part.strip().split(" ", 1) for part in worker.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    precached = json.loads(re.search(r"var SHELL = (\[.*?\]);", worker.text).group(1))
    assert len(precached) == len(SHELL) + len(SHELL_VENDOR)
    for url in precached:  # every precached file is there (one missing would stop the worker installing)
        assert (await client.get(url)).status_code == 200, url
    offline = await client.get("/offline")
    assert offline.status_code == 200 and "Brak połączenia" in offline.text


async def test_staff_api_and_unknown_paths_keep_working(api: Api) -> None:
    client = api.client("zgierz")
    assert (await client.get("/staff/login")).status_code == 200
    assert (await client.get("/api/v1/health")).status_code == 200
    assert (await client.get("/nie-ma-takiej-strony")).status_code == 404
    unknown = await api.client("zgierz").get("/", headers={"Host": "nikt.example.org"})
    assert unknown.status_code == 404


def test_no_portal_file_loads_from_another_site_or_runs_inline_code() -> None:
    from komunikator.web.portal.rendering import STATIC, TEMPLATES

    for path in [*TEMPLATES.glob("*.html"), *STATIC.glob("*.js"), *STATIC.glob("*.css")]:
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), f"{path.name} names another site"
        assert "<style" not in text and " style=" not in text, f"{path.name} has inline styles (CSP)"
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{path.name} has an inline script (CSP)"
        assert not re.search(r"\son[a-z]+=", text) and "hx-on" not in text, f"{path.name} has inline handlers"
        assert "eval(" not in text and "new Function" not in text, f"{path.name} evaluates code"
