"""A report's whole life in Chromium, in each demo city, each step checked in the page and in the database.

Zgierz, in Polish and in English: the dispatcher moves the report's pin on the map and changes its
category (the timeline shows both diffs); verifying fans the work out to three units (environment,
the city guard, the municipal company); a worker takes a task and hands it to a colleague picked
among the unit's people; the company withdraws its task with a reason and the ticket goes back to
the dispatcher, who sends it out again; the dispatcher records the guard's part (no accounts), the
company completes its own, the unit's head completes and accepts the work; the ticket closes.

Nieporęt (its YAML offers Polish only): the short process — pin and category, a task taken and
handed to a colleague, withdrawn with a reason, back to the dispatcher, sent again, the head
completes it, closed. At every step the buttons equal `capabilities` for the acting person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_helpers import PASSWORD, Tab, World, axe_violations, engine_actions, open_tab, page_actions, shoot

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, intake
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.web.staff import words
from komunikator.web.staff.i18n import localized, translations

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@dataclass
class City:
    """One city of the flow: its host, database scope, configuration, people (by role in the story), language."""

    slug: str
    base: str
    scope: TenantScope
    tenant: CompiledTenant
    language: str
    emails: dict[str, str]
    world: World

    def t(self, message: str) -> str:
        return translations(self.language).gettext(message)

    def state(self, process: str, state: str) -> str:
        return localized(self.tenant.processes[process].states[state].label, self.language)

    def category(self, name: str) -> str:
        return localized(self.tenant.categories[name].spec.name, self.language)

    def unit(self, name: str) -> str:
        return localized(self.tenant.units[name].name, self.language)

    async def ticket(self, number: str) -> Ticket:
        return await self.scope.get_ticket(number)

    async def tasks(self, number: str) -> dict[str, Any]:
        ticket = await self.ticket(number)
        return {t.key: t for t in await self.scope.tasks().filter(ticket_id=ticket.id).order_by("id")}

    async def user_id(self, who: str) -> int:
        return int((await self.scope.users().get(email=self.emails[who])).id)


async def _city(world: World, slug: str, language: str, people: dict[str, list[str]]) -> City:
    assert world.registry is not None
    scope = world.scope if slug == "zgierz" else world.other_scope
    assert scope is not None
    tenant = world.registry.tenants[slug]
    emails = {}
    for who, memberships in people.items():
        email = f"{who}.{language}@{slug}.localhost"
        user = await accounts.create_user(scope, email, f"{who.capitalize()} ({language})", password=PASSWORD,
                                          locale=language)
        for membership in memberships:
            unit, role = membership.split(":")
            await accounts.grant(scope, tenant, user, unit, role)
        emails[who] = email
    base = world.base if slug == "zgierz" else world.other_base
    return City(slug, base, scope, tenant, language, emails, world)


async def _report(city: City, category: str, lat: float, lon: float, **extra: Any) -> str:
    body = intake.Submission(category=category, description="Śmieci i gruz przy drodze do lasu.", lat=lat, lon=lon,
                             reporter=intake.ReporterIn(name="Jan Kowalski", email="jan@example.pl"), **extra)
    ticket, _ = await intake.submit(city.scope, city.tenant, body, channel="public",
                                    actor=UserView("anonymous", (), "resident", ""), reporter_user_id=None,
                                    now=datetime.now(UTC))
    assert isinstance(ticket, Ticket)
    return ticket.number


async def _desk(browser: Any, city: City, who: str, number: str) -> Tab:
    """A person signs in (their own browser) and opens the ticket; its buttons are what the engine offers them."""
    tab = await open_tab(browser, locale="pl-PL" if city.language == "pl" else "en-GB")
    page = tab.page
    await page.goto(f"{city.base}/staff/login?next=/staff/tickets/{number}")
    await page.fill("#email", city.emails[who])
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_load_state("load")
    assert page.url == f"{city.base}/staff/tickets/{number}"
    assert await page.get_attribute("html", "lang") == city.language
    await _same_as_engine(tab, city, who, number)
    return tab


async def _same_as_engine(tab: Tab, city: City, who: str, number: str) -> None:
    assert await page_actions(tab.page) == await engine_actions(city.world, city.slug, number, city.emails[who]), who


async def _submit(tab: Tab, form: str) -> None:
    """Open the form's <details> if it has one, and send it."""
    page = tab.page
    await _open(tab, form)
    await page.click(f"#{form} button[type=submit]")
    await page.wait_for_load_state("load")
    assert tab.csp_violations() == []


async def _open(tab: Tab, form: str) -> None:
    page = tab.page
    if not await page.locator(f"#{form}").is_visible():
        await page.click(f"details:has(#{form}) > summary")


async def _latest(tab: Tab) -> str:
    return " ".join((await tab.page.locator(".timeline__item").first.inner_text()).split())


async def _move_the_pin_and_change_the_category(tab: Tab, city: City, number: str, category: str) -> None:
    """The dispatcher drags the pin on the map (the edit form's fields follow) and saves; then reclassifies."""
    page = tab.page
    before = await city.ticket(number)
    marker = page.locator("#ticket-map .leaflet-marker-icon")
    await marker.wait_for()
    await page.locator("#ticket-map").scroll_into_view_if_needed()
    box = await marker.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 30, y - 20, steps=8)
    await page.mouse.move(x + 60, y - 40, steps=8)
    await page.mouse.up()
    lat, lon = float(await page.input_value("#edit-lat")), float(await page.input_value("#edit-lon"))
    assert lat > before.lat and lon > before.lon  # north-east, as dragged
    assert await page.locator("details:has(#edit)").get_attribute("open") == ""  # the form opened itself
    await shoot(tab, f"flow-{city.slug}-verification-{city.language}")
    assert await axe_violations(tab) == []
    await _submit(tab, "edit")
    moved = await city.ticket(number)
    assert (round(moved.lat, 6), round(moved.lon, 6)) == (round(lat, 6), round(lon, 6))
    edited = await _latest(tab)
    assert edited.startswith(city.t(words.EVENTS["edit"]))
    assert f"{city.t(words.FIELDS['lat'])}: {before.lat} → {moved.lat}" in edited

    await _open(tab, "act-reclassify")
    await page.select_option("#act-reclassify-category", category)
    await _submit(tab, "act-reclassify")
    ticket = await city.ticket(number)
    assert ticket.category == category and ticket.process == city.tenant.categories[category].process
    changed = await _latest(tab)
    assert changed.startswith(city.t(words.EVENTS["reclassify"]))
    assert f"{city.t(words.FIELDS['category'])}: {city.category(before.category)} → {city.category(category)}" \
        in changed
    history = await page.locator(".timeline").inner_text()
    assert city.t(words.EVENTS["edit"]) in history  # both diffs stay in the timeline
    assert await page.locator("h1").inner_text() == f"{number} {city.category(category)}"


async def _hand_to_a_colleague(tab: Tab, city: City, who: str, number: str, key: str, colleague: str,
                               reason: str) -> None:
    """`who` takes the task, then hands it to a person offered among the task unit's people."""
    page = tab.page
    await _submit(tab, f"task-{key}-take")
    assert (await city.tasks(number))[key].assignee_id == await city.user_id(who)
    await _open(tab, f"task-{key}-delegate")
    unit = (await city.tasks(number))[key].unit
    shown = await page.locator(f"#task-{key}-delegate-to_user option:not([value=''])").evaluate_all(
        "os => os.filter(o => !o.hidden).map(o => o.dataset.units)")
    assert shown and all(unit in units.split() for units in shown)  # only the unit's people
    await page.select_option(f"#task-{key}-delegate-to_user", str(await city.user_id(colleague)))
    await page.fill(f"#task-{key}-delegate-reason", reason)
    await shoot(tab, f"flow-{city.slug}-delegate-{city.language}")
    await _submit(tab, f"task-{key}-delegate")
    task = (await city.tasks(number))[key]
    assert (task.unit, task.state, task.assignee_id) == (unit, "open", await city.user_id(colleague))
    latest = await _latest(tab)
    assert latest.startswith(city.t(words.EVENTS["task_delegate"])) and reason in latest


async def _withdraw(tab: Tab, city: City, number: str, key: str, reason: str, entry: str) -> None:
    page = tab.page
    await _open(tab, f"task-{key}-withdraw")
    await page.fill(f"#task-{key}-withdraw-reason", reason)
    await _submit(tab, f"task-{key}-withdraw")
    ticket = await city.ticket(number)
    assert (await city.tasks(number))[key].state == "withdrawn"
    assert ticket.state == entry  # back to the dispatcher
    assert await page.locator(".ticket-header .tag").first.inner_text() == city.state(ticket.process, entry)
    timeline = await page.locator(".timeline").inner_text()
    assert city.t(words.EVENTS["task_withdraw"]) in timeline and reason in timeline


async def _waiting_for_verification(browser: Any, city: City, number: str) -> None:
    """The dispatcher's inbox lists the ticket among the reports to verify."""
    tab = await open_tab(browser)
    page = tab.page
    await page.goto(f"{city.base}/staff/login")
    await page.fill("#email", city.emails["dispatcher"])
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_load_state("load")
    assert await page.locator(f"#verify a:has-text('{number}')").count() == 1
    await shoot(tab, f"flow-{city.slug}-inbox-{city.language}")
    assert await axe_violations(tab) == []
    await page.context.close()


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_zgierz_a_report_fans_out_to_three_units_and_closes(world: World, browser: Any, language: str) -> None:
    city = await _city(world, "zgierz", language, {
        "dispatcher": ["bom:dispatcher"], "olga": ["srodowisko:worker"], "adam": ["srodowisko:worker"],
        "head": ["srodowisko:unit_head"], "company": ["pgk:external"], "roads": ["drogi:worker"],
    })
    number = await _report(city, "litter", 51.8561, 19.4062)

    desk = await _desk(browser, city, "dispatcher", number)
    await _move_the_pin_and_change_the_category(desk, city, number, "illegal_dumping")
    await _submit(desk, "act-verify")
    tasks = await city.tasks(number)
    assert {k: (t.unit, t.state) for k, t in tasks.items()} == {
        "T1": ("srodowisko", "open"), "T2": ("straz_miejska", "open"), "T3": ("pgk", "open")}
    assert await desk.page.locator("li.task").count() == 3
    titles = {"pl": ["Ustalenie właściciela terenu i nadzór", "Ustalenie sprawcy", "Uprzątnięcie odpadów"],
              "en": ["Identify the landowner and supervise", "Find the culprit", "Remove the waste"]}[language]
    for key, unit, title in zip(("T1", "T2", "T3"), ("srodowisko", "straz_miejska", "pgk"), titles, strict=True):
        heading = await desk.page.locator(f"#task-{key} .task__title").inner_text()
        assert city.unit(unit) in heading and title in heading  # the YAML's task title, in the reader's language
    await _same_as_engine(desk, city, "dispatcher", number)
    await shoot(desk, f"flow-zgierz-fanned-out-{language}")

    # a worker of the environment department takes T1 and hands it to a colleague
    olga = await _desk(browser, city, "olga", number)
    await _hand_to_a_colleague(olga, city, "olga", number, "T1", "adam", "Adam zna właściciela tej działki.")
    await _same_as_engine(olga, city, "olga", number)
    # another unit's clerk cannot open it (the same 404 as a missing ticket)
    roads = await open_tab(browser)
    await roads.page.goto(f"{city.base}/staff/login")
    await roads.page.fill("#email", city.emails["roads"])
    await roads.page.fill("#password", PASSWORD)
    await roads.page.press("#password", "Enter")
    await roads.page.wait_for_load_state("load")
    response = await roads.page.goto(f"{city.base}/staff/tickets/{number}")
    assert response is not None and response.status == 404

    # the municipal company withdraws its task: the ticket goes back to the dispatcher
    company = await _desk(browser, city, "company", number)
    await _withdraw(company, city, number, "T3", "Brak sprzętu do wywozu eternitu – potrzebna firma z uprawnieniami.",
                    "new")
    assert {k: t.state for k, t in (await city.tasks(number)).items()} == {
        "T1": "cancelled", "T2": "cancelled", "T3": "withdrawn"}
    await _same_as_engine(company, city, "company", number)
    await _waiting_for_verification(browser, city, number)

    # the dispatcher sends it out again: three new tasks
    await desk.page.reload()
    await _same_as_engine(desk, city, "dispatcher", number)
    await _submit(desk, "act-verify")
    tasks = await city.tasks(number)
    assert {k: (t.unit, t.state) for k, t in tasks.items() if k in ("T4", "T5", "T6")} == {
        "T4": ("srodowisko", "open"), "T5": ("straz_miejska", "open"), "T6": ("pgk", "open")}
    # the city guard has no accounts: the dispatcher records its outcome
    await _submit(desk, "task-T5-complete")
    assert (await city.tasks(number))["T5"].state == "done"
    await company.page.reload()
    await _same_as_engine(company, city, "company", number)
    await _submit(company, "task-T6-take")
    await _submit(company, "task-T6-complete")
    assert (await city.tasks(number))["T6"].state == "done"

    # the head completes the department's task, then accepts the work: the ticket closes
    head = await _desk(browser, city, "head", number)
    await _submit(head, "task-T4-complete")
    ticket = await city.ticket(number)
    assert ticket.state == "acceptance"
    acceptance = [k for k, t in (await city.tasks(number)).items() if t.state == "open"]
    assert len(acceptance) == 1 and (await city.tasks(number))[acceptance[0]].unit == "srodowisko"
    await _same_as_engine(head, city, "head", number)
    await _submit(head, f"task-{acceptance[0]}-complete")
    ticket = await city.ticket(number)
    assert ticket.state == "resolved" and ticket.closed_at is not None
    assert await head.page.locator(".ticket-header .tag").first.inner_text() == city.state(ticket.process,
                                                                                           "resolved")
    await _same_as_engine(head, city, "head", number)
    assert await axe_violations(head) == []
    await shoot(head, f"flow-zgierz-closed-{language}")


async def test_nieporet_a_report_is_handed_over_withdrawn_sent_again_and_closed(world: World, browser: Any) -> None:
    city = await _city(world, "nieporet", "pl", {
        "dispatcher": ["urzad:dispatcher", "urzad:worker"], "konserwator": ["zuk:worker"],
        "monter": ["zuk:worker"], "head": ["zuk:unit_head"],
    })
    number = await _report(city, "pothole", 52.43, 21.03, attributes={"size": "medium"})
    assert re.fullmatch(r"NP-\d{4}-\d{6}", number)
    desk = await _desk(browser, city, "dispatcher", number)
    assert await desk.page.locator(".masthead__city").inner_text() == "Urząd Gminy Nieporęt"
    await _move_the_pin_and_change_the_category(desk, city, number, "lakeshore_litter")
    await _submit(desk, "act-verify")
    assert {k: (t.unit, t.state) for k, t in (await city.tasks(number)).items()} == {"T1": ("zuk", "open")}

    worker = await _desk(browser, city, "konserwator", number)
    await _hand_to_a_colleague(worker, city, "konserwator", number, "T1", "monter", "Monter ma dziś sprzęt na plaży.")
    colleague = await _desk(browser, city, "monter", number)
    await _withdraw(colleague, city, number, "T1", "To teren Wód Polskich, nie gminy.", "new")
    await _waiting_for_verification(browser, city, number)

    await desk.page.reload()
    await _same_as_engine(desk, city, "dispatcher", number)
    await _submit(desk, "act-verify")
    assert (await city.tasks(number))["T2"].state == "open"
    head = await _desk(browser, city, "head", number)
    await _submit(head, "task-T2-complete")
    ticket = await city.ticket(number)
    assert ticket.state == "resolved" and ticket.closed_at is not None
    await _same_as_engine(head, city, "head", number)
    assert await axe_violations(head) == []
    await shoot(head, "flow-nieporet-closed-pl")
