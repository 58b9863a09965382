"""Helpers of the browser tests: pages that record CSP violations, sign-in, axe-core, screenshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from komunikator.engine.store.scope import TenantScope
from komunikator.engine.tenants import TenantRegistry

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
AXE = HERE / "vendor" / "axe-core@4.11.1" / "axe.min.js"
PASSWORD = "haslo-testowe-123"
#: what a hostile reporter writes into every free-text field
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> <a href="javascript:alert(2)">klik</a>'
#: a file name that tries to break out of the attribute it is shown in
HOSTILE_FILE = '"><img src=x onerror=alert(3)>\'.jpg'
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class World:
    """The seeded city: accounts by role and tickets by purpose."""

    base: str
    other_base: str
    emails: dict[str, str] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)
    scope: TenantScope | None = None
    other_scope: TenantScope | None = None
    registry: TenantRegistry | None = None
    #: the folder the server keeps photos in (a photo added by the test's service calls lands there too)
    media: Path | None = None

    def url(self, path: str) -> str:
        return self.base + path


@dataclass
class Tab:
    """A page and what its console said (CSP violations are console errors in Chromium)."""

    page: Any
    console: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


async def open_tab(browser: Any, locale: str = "pl-PL", viewport: dict[str, int] | None = None) -> Tab:
    """A fresh context (own cookies) with one page."""
    context = await browser.new_context(locale=locale, viewport=viewport or DESKTOP)
    page = await context.new_page()
    tab = Tab(page)
    page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
    return tab


async def sign_in(tab: Tab, world: World, who: str, next_path: str = "/staff/") -> None:
    """Sign in through the form, as a person would."""
    page = tab.page
    await page.goto(world.url(f"/staff/login?next={next_path}"))
    await page.fill("#email", world.emails[who])
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_load_state("load")


async def add_admin(world: World, email: str = "admin@zgierz.localhost") -> None:
    """Zgierz's administrator (`bom:admin`), signed in later as `sign_in(tab, world, "admin")`."""
    from komunikator.engine.service import accounts

    assert world.scope is not None and world.registry is not None
    user = await accounts.create_user(world.scope, email, "Ada Administratorka", password=PASSWORD)
    await accounts.grant(world.scope, world.registry.tenants["zgierz"], user, "bom", "admin")
    world.emails["admin"] = email


async def axe_violations(tab: Tab) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations (WCAG 2.0/2.1 A and AA) on the page as it is now.

    axe is evaluated through the DevTools protocol (as @axe-core/playwright does), so the
    page's CSP — which rightly forbids injected scripts — does not stop it.
    """
    page = tab.page
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["html"][:200] for n in v["nodes"][:3]]}
        for v in result if v["impact"] in ("serious", "critical")
    ]


async def shoot(tab: Tab, name: str) -> Path:
    """A full-page screenshot at the page's size and at a phone's width; returns the desktop one."""
    page = tab.page
    SCREENSHOTS.mkdir(exist_ok=True)
    desktop = SCREENSHOTS / f"{name}-desktop.png"
    size = page.viewport_size
    await page.screenshot(path=str(desktop), full_page=True)
    await page.set_viewport_size(PHONE)
    # let the page lay itself out at the new width before measuring its full height
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    await page.set_viewport_size(size)
    return desktop




async def page_actions(page: Any) -> set[str]:
    """The actions the ticket page offers: `name` for the ticket's, `KEY:name` for a task's."""
    ticket = await page.locator("#actions form[action$='/act'] input[name=action]").evaluate_all(
        "els => els.map(e => e.value)")
    tasks = await page.locator("li.task form").evaluate_all(
        "els => els.map(f => f.closest('li.task').id.slice(5) + ':' + f.querySelector('[name=action]').value)")
    return set(ticket) | set(tasks)


async def engine_actions(world: World, slug: str, number: str, email: str) -> set[str]:
    """What `capabilities` offers this user on this ticket now, in `page_actions`' form."""
    from datetime import UTC, datetime

    from komunikator.engine.runtime import capabilities
    from komunikator.engine.service.row_views import ticket_view, user_view

    assert world.registry is not None
    scope = world.scope if slug == "zgierz" else world.other_scope
    assert scope is not None
    ticket = await scope.get_ticket(number)
    user = await scope.users().get(email=email)
    caps = capabilities(world.registry.tenants[slug], await ticket_view(scope, ticket), await user_view(scope, user),
                        datetime.now(UTC))
    return {a.name for a in caps.actions} | {f"{t.key}:{a.name}" for t in caps.tasks for a in t.actions}
