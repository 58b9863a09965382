"""Erasure by post in the administration, in Chromium: find the reporter, see what will be erased, the form's
errors by the fields, the erasure done; every state accessible (axe) and within the CSP, desktop and phone."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import Tab, World, add_admin, axe_violations, open_tab, shoot, sign_in

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _check(tab: Tab, name: str) -> None:
    assert await axe_violations(tab) == [], name
    assert tab.csp_violations() == [], name
    await shoot(tab, name)


async def test_an_administrator_erases_a_reporter_by_post(world: World, browser: Any) -> None:
    assert world.scope is not None
    await add_admin(world)
    tab = await open_tab(browser)
    page = tab.page
    await sign_in(tab, world, "admin")
    await page.get_by_role("link", name="Administracja").click()
    await page.get_by_role("link", name="Dane osobowe").click()
    assert page.url == world.url("/staff/admin/privacy")
    await _check(tab, "admin-privacy")

    await page.get_by_label("Adres e-mail lub numer zgłoszenia").fill("JAN@example.pl")
    await page.get_by_role("button", name="Znajdź").click()
    assert "Co zostanie usunięte" in await page.locator("main").inner_text()
    assert "jan@example.pl" not in page.url.lower()
    await _check(tab, "admin-privacy-found")

    await page.get_by_role("button", name="Usuń dane osobowe").click()  # nothing filled in
    assert (await page.title()).startswith("Błąd: Dane osobowe")
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert await page.get_attribute("#confirm", "aria-invalid") == "true"
    await _check(tab, "admin-privacy-errors")

    await page.get_by_label("Podstawa prawna").fill("art. 17 ust. 1 lit. a RODO")
    await page.get_by_label("Znak wniosku").fill("KW.0123.4.2026 z 1.12.2026")
    await page.get_by_label("Potwierdzam: usuń te dane osobowe.").check()
    await page.get_by_role("button", name="Usuń dane osobowe").click()
    done = await page.locator("#erasure-done").inner_text()
    assert "Usunięto dane" in done
    assert await page.get_by_role("link", name=world.tickets["pothole"]).count() == 1
    await _check(tab, "admin-privacy-done")
    contacts = await world.scope.reporter_contacts().all()
    assert contacts and all(c.erased_at is not None for c in contacts)
