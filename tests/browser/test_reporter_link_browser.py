"""The reporter's page `/odpowiedz/{link}` in Chromium (#11 item 8): answered from a phone and a desktop,
no CSP violation, no serious axe finding, the error summary focused after an empty answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from browser_helpers import PHONE, World, axe_violations, open_tab, shoot

from komunikator.engine.service import accounts, reporter_links, tickets
from komunikator.engine.service.row_views import user_view

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _asked(world: World) -> str:
    """The seeded pothole verified and waiting for its reporter; a link for them (as delivery makes it)."""
    assert world.scope is not None and world.registry is not None
    scope, tenant = world.scope, world.registry.tenants["zgierz"]
    anna = await user_view(scope, await accounts.get_user(scope, world.emails["dispatcher"]))
    number = world.tickets["pothole"]
    now = datetime.now(UTC)
    await tickets.act(scope, tenant, number, "verify", anna, {}, now)
    await tickets.act(scope, tenant, number, "ask_resident", anna,
                      {"public_comment": "Prosimy o informację, czy dziura jest na jezdni, czy na chodniku."}, now)
    link = await reporter_links.mint(scope, tenant, await scope.get_ticket(number), now)
    assert link is not None
    return link


async def test_the_reporter_answers_on_a_phone(world: World, browser: Any) -> None:
    link = await _asked(world)
    tab = await open_tab(browser, viewport=PHONE)
    page = tab.page
    await page.goto(world.url(f"/odpowiedz/{link}"))
    assert await page.title() == f"Zgłoszenie {world.tickets['pothole']} – Urząd Miasta Zgierza"
    assert await axe_violations(tab) == []
    await shoot(tab, "reporter-link-form")

    await page.click("button[type=submit]")  # nothing written
    await page.wait_for_load_state("load")
    assert (await page.title()).startswith("Błąd: ")
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert await axe_violations(tab) == []
    await shoot(tab, "reporter-link-error")

    await page.click(".error-summary a")  # the summary's link leads to the field
    await page.keyboard.type("Na jezdni, prawy pas, ok. 2 m od krawężnika.")
    await page.click("button[type=submit]")
    await page.wait_for_load_state("load")
    assert "?wyslano=1" in page.url
    assert await page.locator("text=Dziękujemy, odpowiedź została wysłana").count() == 1
    assert await axe_violations(tab) == []
    await shoot(tab, "reporter-link-sent")
    assert tab.csp_violations() == []


async def test_an_unknown_link_in_english(world: World, browser: Any) -> None:
    tab = await open_tab(browser, locale="en-GB")
    page = tab.page
    response = await page.goto(world.url("/odpowiedz/" + "x" * 43))
    assert response is not None and response.status == 404
    assert await page.locator("h1").inner_text() == "Unknown link"
    assert await axe_violations(tab) == []
    await shoot(tab, "reporter-link-unknown")
    assert tab.csp_violations() == []
