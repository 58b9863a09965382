"""The administration pages in Chromium: an administrator creates an account, the person signs in with the
temporary password, must replace it first, is deactivated and thrown out; every admin page type is accessible
(axe) and keeps to its policy; the configuration view draws a process with Mermaid (screenshots, desktop and phone)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_helpers import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Tab,
    World,
    add_admin,
    axe_violations,
    open_tab,
    shoot,
    sign_in,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _check(tab: Tab, name: str) -> None:
    """No serious/critical axe violation and no CSP violation, at desktop and phone size; screenshots saved."""
    assert await axe_violations(tab) == [], name
    assert tab.csp_violations() == [], name
    await shoot(tab, name)
    assert await axe_violations(tab) == [], f"{name} (after the phone-sized screenshot)"


async def test_an_administrator_manages_an_account_in_the_browser(world: World, browser: Any) -> None:
    await add_admin(world)
    tab = await open_tab(browser)
    page = tab.page
    await sign_in(tab, world, "admin")
    await page.get_by_role("link", name="Administracja").click()
    assert page.url == world.url("/staff/admin/users")
    assert await page.title() == "Użytkownicy – Panel pracownika – Urząd Miasta Zgierza"
    await _check(tab, "admin-users")

    await page.get_by_role("link", name="Dodaj konto").click()
    await page.get_by_role("button", name="Utwórz konto").click()  # nothing filled in: errors by the fields
    assert (await page.title()).startswith("Błąd: Nowe konto")
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert await page.get_attribute("#email", "aria-invalid") == "true"
    await _check(tab, "admin-new-user-error")

    await page.get_by_label("Adres e-mail").fill("nowa.osoba@zgierz.localhost")
    await page.get_by_label("Imię i nazwisko widoczne dla współpracowników").fill("Nowa <b>Osoba</b>")
    await page.locator("#unit_1").select_option("drogi")
    await page.locator("#role_1").select_option("worker")
    await page.get_by_role("button", name="Utwórz konto").click()
    secret = await page.locator("code.secret").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", secret)
    assert await page.locator("h1").inner_text() == "Nowa <b>Osoba</b>"  # the name as text
    await _check(tab, "admin-user-created")

    # the person signs in with the temporary password, in their own browser
    other = await open_tab(browser)
    await other.page.goto(world.url("/staff/login"))
    await other.page.fill("#email", "nowa.osoba@zgierz.localhost")
    await other.page.fill("#password", secret)
    await other.page.press("#password", "Enter")
    await other.page.wait_for_load_state("load")
    # a temporary password: the staff pages wait until the person chooses their own
    assert other.page.url == world.url("/staff/password")
    assert "ustawił administrator" in await other.page.locator("#must-change").inner_text()
    assert await other.page.get_by_role("link", name="Administracja").count() == 0
    await _check(other, "staff-password-must-change")
    # and replaces the temporary password with their own, staying signed in
    await other.page.get_by_label("Obecne hasło").fill(secret)
    await other.page.get_by_label("Nowe hasło", exact=True).fill("moje-nowe-haslo-1")
    await other.page.get_by_label("Powtórz nowe hasło").fill("moje-nowe-haslo-2")
    await other.page.get_by_role("button", name="Zmień hasło").click()
    assert (await other.page.title()).startswith("Błąd: Zmień hasło")
    assert await other.page.get_attribute("#new_password_again", "aria-invalid") == "true"
    await _check(other, "staff-password-error")
    await other.page.get_by_label("Obecne hasło").fill(secret)
    await other.page.get_by_label("Nowe hasło", exact=True).fill("moje-nowe-haslo-1")
    await other.page.get_by_label("Powtórz nowe hasło").fill("moje-nowe-haslo-1")
    await other.page.get_by_role("button", name="Zmień hasło").click()
    assert "Hasło zostało zmienione" in await other.page.locator("#password-changed").inner_text()
    await _check(other, "staff-password-changed")
    await other.page.goto(world.url("/staff/"))
    assert other.page.url == world.url("/staff/")  # the inbox now opens

    # the administrator deactivates the account: the person's next page is the sign-in form
    await page.get_by_role("button", name="Dezaktywuj konto").click()
    assert "Konto zostało dezaktywowane" in await page.locator("[role=status]").inner_text()
    await other.page.reload()
    assert other.page.url.startswith(world.url("/staff/login"))
    await _check(tab, "admin-user")
    await other.page.context.close()


async def test_the_configuration_view_draws_each_process(world: World, browser: Any) -> None:
    await add_admin(world)
    tab = await open_tab(browser)
    page = tab.page
    await sign_in(tab, world, "admin", "/staff/admin/config")
    assert page.url == world.url("/staff/admin/config")
    assert await page.locator("#check-ok").count() == 1
    await _check(tab, "admin-config")
    for part in ("routing", "permissions", "notifications", "units"):
        await page.get_by_role("navigation", name="Konfiguracja").locator(f"a[href$='/{part}']").click()
        assert page.url == world.url(f"/staff/admin/config/{part}")
        assert await page.locator("table").count() >= 1, part
        await _check(tab, f"admin-config-{part}")
    await page.get_by_role("navigation", name="Konfiguracja").get_by_role("link", name="Przegląd").click()

    await page.locator("a[href='/staff/admin/config/processes/simple_fix']").click()
    response_policy = await page.evaluate("document.title")
    assert response_policy.startswith("Prosta naprawa") or "simple_fix" in await page.locator("h1").inner_text()
    svg = page.locator("#diagram svg")
    await svg.wait_for(timeout=30000)
    drawn = await page.evaluate("""() => {
      const svg = document.querySelector('#diagram svg');
      const box = svg.getBoundingClientRect();
      return {width: box.width, height: box.height, text: svg.textContent,
              nodes: svg.querySelectorAll('g.node, g.stateGroup, .node').length,
              edges: svg.querySelectorAll('path.transition, .edgePaths path, path[class*=transition]').length};
    }""")
    assert drawn["width"] > 200 and drawn["height"] > 200, drawn
    assert drawn["nodes"] >= 4 and drawn["edges"] >= 4, drawn
    transitions = await page.locator("#transitions tbody td[data-label='przejście']").all_inner_texts()
    assert transitions and all(name in drawn["text"] for name in transitions), transitions
    assert tab.csp_violations() == []  # Mermaid's own styles are allowed on this page, scripts still 'self'
    await _check(tab, "admin-process")
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(SCREENSHOTS / "admin-process-diagram-phone.png"))
    await page.set_viewport_size(DESKTOP)
    await page.locator("#diagram").screenshot(path=str(SCREENSHOTS / "admin-process-diagram.png"))
