"""Working through the staff pages in Chromium, each step checked in the page and in the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_helpers import (
    HOSTILE,
    PASSWORD,
    World,
    axe_violations,
    engine_actions,
    open_tab,
    page_actions,
    shoot,
    sign_in,
)

from komunikator.engine.runtime import capabilities
from komunikator.engine.service.row_views import ticket_view, user_view

pytestmark = pytest.mark.anyio


async def _post(page: Any, url: str, form: dict[str, str]) -> int:
    """A form post made by the page's own script (same origin, the session's cookie): the status."""
    return int(await page.evaluate(
        "async ([url, form]) => (await fetch(url, {method: 'POST', body: new URLSearchParams(form),"
        " redirect: 'manual'})).status", [url, form]))


async def _page_actions(page: Any) -> set[str]:
    return await page_actions(page)


async def _engine_actions(world: World, key: str, who: str) -> set[str]:
    return await engine_actions(world, "zgierz", world.tickets[key], world.emails[who])


async def _ticket(world: World, key: str) -> Any:
    assert world.scope is not None
    return await world.scope.get_ticket(world.tickets[key])


async def _task(world: World, key: str, task: str) -> Any:
    assert world.scope is not None
    ticket = await _ticket(world, key)
    return await world.scope.tasks().get(ticket_id=ticket.id, key=task)


async def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    await sign_in(tab, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    assert tab.page.url == world.url(f"/staff/tickets/{world.tickets['pothole']}")  # back where it started
    cookies = {c["name"]: c for c in await tab.page.context.cookies()}
    session = cookies["komunikator_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]  # http here
    assert await tab.page.evaluate("document.cookie") == ""  # nothing readable by scripts
    await tab.page.click("text=Wyloguj się")
    await tab.page.wait_for_url(re.compile(r".*/staff/login$"))
    assert world.scope is not None
    assert await world.scope.sessions().filter(expires_at__gt=datetime.now(UTC)).count() == 0  # ended
    await tab.page.goto(world.url("/staff/"))
    assert "/staff/login" in tab.page.url  # the session is over


async def test_too_many_wrong_passwords_show_how_long_to_wait(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    page = tab.page
    await page.goto(world.url("/staff/login"))
    for _ in range(6):  # KOMUNIKATOR_LOGIN_MAX_FAILURES defaults to 5
        await page.fill("#email", world.emails["worker"])
        await page.fill("#password", "to-nie-jest-haslo")
        await page.press("#password", "Enter")
        await page.wait_for_load_state("load")
    message = await page.locator("#throttled").inner_text()
    assert re.fullmatch(r"Zbyt wiele nieudanych prób logowania\. Spróbuj ponownie za 1[45] minut\.", message.strip())
    # even the right password waits
    await page.fill("#email", world.emails["worker"])
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_load_state("load")
    assert await page.locator("#throttled").count() == 1
    assert await axe_violations(tab) == []


async def test_a_form_without_its_token_or_from_elsewhere_is_refused(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    await sign_in(tab, world, "dispatcher")
    url = world.url(f"/staff/tickets/{world.tickets['pothole']}/act")
    assert await _post(tab.page, url, {"action": "verify"}) == 403
    assert await _post(tab.page, url, {"action": "verify", "csrf_token": "x" * 64}) == 403
    assert (await _ticket(world, "pothole")).state == "new"  # nothing happened


async def test_verify_take_withdraw_with_a_reason(world: World, browser: Any) -> None:
    # the dispatcher verifies: the process creates the road authority's task
    dispatcher = await open_tab(browser)
    await sign_in(dispatcher, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    page = dispatcher.page
    # the navigation's count arrives after the page (GET /staff/nav/counts, an out-of-band swap into its place)
    await page.wait_for_selector("#nav-count-inbox:not([hidden])")
    assert "czeka" in await page.locator("#nav-count-inbox").inner_text()
    await page.click("#actions button:has-text('Zweryfikuj i przekaż')")
    await page.wait_for_load_state("load")
    assert (await _ticket(world, "pothole")).state == "in_progress"
    assert await page.locator(".ticket-header .tag").first.inner_text() == "W realizacji"
    assert await _page_actions(page) == await _engine_actions(world, "pothole", "dispatcher")
    assert await page.locator("#task-T1").count() == 1

    # the worker sees it in the inbox, takes it with one click (htmx), and it becomes theirs
    worker = await open_tab(browser)
    await sign_in(worker, world, "worker")
    wp = worker.page
    assert await wp.locator("#unit tbody tr").count() == 1
    assert "1 sprawa czeka" in await wp.locator("#nav-list .count").inner_text()  # Polish plural forms
    await wp.click("#unit button:has-text('Podejmij')")
    await wp.wait_for_selector("#mine tbody tr")
    assert await wp.locator("#unit tbody tr").count() == 0
    assert (await _task(world, "pothole", "T1")).assignee_id is not None
    await shoot(worker, "inbox-after-take")

    # the worker opens the ticket: exactly the offered task actions, nothing else
    await wp.click(f"#mine a:has-text('{world.tickets['pothole']}')")
    await wp.wait_for_load_state("load")
    task_buttons = await wp.locator("#task-T1 > form button, #task-T1 > details > summary").all_inner_texts()
    assert sorted(t.strip() for t in task_buttons) == ["Przekaż", "Wycofaj", "Zakończ"]
    assert await _page_actions(wp) == await _engine_actions(world, "pothole", "worker")

    # withdrawing without a reason: the form says what is missing, tied to the field
    await wp.click("#task-T1 summary:has-text('Wycofaj')")
    await wp.click("#task-T1-withdraw button[type=submit]")
    await wp.wait_for_load_state("load")
    assert (await wp.title()).startswith("Błąd: ")
    assert await wp.get_attribute("#task-T1-withdraw-reason", "aria-invalid") == "true"
    assert await wp.locator(".error-summary li").all_inner_texts() == ["Uzupełnij pole „Powód”."]
    inline = await wp.locator("#task-T1-withdraw-reason-error").text_content() or ""
    assert " ".join(inline.split()) == "Błąd: Uzupełnij pole „Powód”."  # "Błąd:" for screen readers only
    assert await wp.evaluate("document.activeElement.classList.contains('error-summary')")
    assert await axe_violations(worker) == []
    await shoot(worker, "task-withdraw-error")
    assert (await _task(world, "pothole", "T1")).state == "in_progress"

    await wp.fill("#task-T1-withdraw-reason", "To nie nasz teren – chodnik należy do spółdzielni.")
    await wp.click("#task-T1-withdraw button[type=submit]")
    await wp.wait_for_load_state("load")
    assert (await _task(world, "pothole", "T1")).state == "withdrawn"
    assert (await _ticket(world, "pothole")).state == "new"  # back to the dispatcher (on_withdraw)
    timeline = await wp.locator(".timeline").inner_text()
    assert "Wycofano zadanie" in timeline and "To nie nasz teren – chodnik należy do spółdzielni." in timeline


async def test_a_stale_form_is_refused_and_shown_never_applied(world: World, browser: Any) -> None:
    first = await open_tab(browser)
    await sign_in(first, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    second = await open_tab(browser)
    await sign_in(second, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    # the second tab changes the priority meanwhile
    sp = second.page
    await sp.click("summary:has-text('Zmień priorytet')")
    await sp.select_option("#act-set_priority-priority", "high")
    await sp.click("#act-set_priority button[type=submit]")
    await sp.wait_for_load_state("load")
    assert (await _ticket(world, "pothole")).priority == "high"
    # the first tab, drawn before that, rejects: refused, its text kept, the current ticket shown
    fp = first.page
    await fp.click("summary:has-text('Odrzuć')")
    await fp.fill("#act-reject-public_comment", "Zgłoszenie dotyczy drogi wojewódzkiej.")
    await fp.click("#act-reject button[type=submit]")
    await fp.wait_for_load_state("load")
    assert (await _ticket(world, "pothole")).state == "new"
    summary = await fp.locator(".error-summary").inner_text()
    assert "W międzyczasie ktoś inny zmienił to zgłoszenie" in summary
    assert await fp.input_value("#act-reject-public_comment") == "Zgłoszenie dotyczy drogi wojewódzkiej."
    assert "wysoki" in await fp.locator(".summary-list").inner_text()  # the current priority
    meanwhile = " ".join((await fp.locator(".meanwhile").inner_text()).split())  # what changed since it was drawn
    assert "Zmieniono w międzyczasie" in meanwhile and "Priorytet: zwykły → wysoki" in meanwhile
    assert await axe_violations(first) == []
    await shoot(first, "ticket-stale")
    # repeating it now works
    await fp.click("#act-reject button[type=submit]")
    await fp.wait_for_load_state("load")
    assert (await _ticket(world, "pothole")).state == "rejected"


async def test_another_units_clerk_and_another_citys_admin_get_the_same_404(world: World, browser: Any) -> None:
    number = world.tickets["pothole"]
    clerk = await open_tab(browser)
    await sign_in(clerk, world, "greenery")
    response = await clerk.page.goto(world.url(f"/staff/tickets/{number}"))
    assert response is not None and response.status == 404
    missing = await clerk.page.goto(world.url("/staff/tickets/ZG-2026-999999"))
    assert missing is not None and missing.status == 404
    # a forged form post with a valid token of their own session: refused, nothing changes
    token = await clerk.page.locator("input[name=csrf_token]").first.input_value()
    forged = await _post(clerk.page, world.url(f"/staff/tickets/{number}/act"),
                         {"action": "reject", "csrf_token": token, "public_comment": "nie"})
    assert forged == 404
    assert (await _ticket(world, "pothole")).state == "new"

    admin = await open_tab(browser)
    await admin.page.goto(world.other_base + "/staff/login")
    await admin.page.fill("#email", world.emails["other_admin"])
    await admin.page.fill("#password", PASSWORD)
    await admin.page.press("#password", "Enter")
    await admin.page.wait_for_load_state("load")
    assert await admin.page.locator(".masthead__city").inner_text() == "Urząd Gminy Nieporęt"
    await shoot(admin, "nieporet-inbox")  # the other city's look: its name and colours
    other = await admin.page.goto(world.other_base + f"/staff/tickets/{number}")
    assert other is not None and other.status == 404
    # nor does the Nieporęt session count on Zgierz's host
    here = await admin.page.goto(world.url(f"/staff/tickets/{number}"))
    assert here is not None and "/staff/login" in admin.page.url


async def test_comments_of_the_kinds_the_role_may_add(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    await sign_in(tab, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    page = tab.page
    offered = await page.locator("#comment-visibility option").evaluate_all("os => os.map(o => o.value)")
    assert world.scope is not None and world.registry is not None
    ticket = await _ticket(world, "pothole")
    user = await world.scope.users().get(email=world.emails["dispatcher"])
    caps = capabilities(world.registry.tenants["zgierz"], await ticket_view(world.scope, ticket),
                        await user_view(world.scope, user), datetime.now(UTC))
    assert offered == list(caps.comment_kinds)
    await page.click("summary:has-text('Dodaj komentarz')")
    await page.select_option("#comment-visibility", "internal")
    await page.fill("#comment-body", HOSTILE)
    await page.click("#comment button[type=submit]")
    await page.wait_for_load_state("load")
    note = page.locator(".timeline__item--internal")
    assert "Wewnętrzna" in await note.inner_text()
    assert (await note.locator(".timeline__body").inner_text()) == HOSTILE  # shown as text
    assert await page.locator("main script, main img[src='x']").count() == 0
    assert await world.scope.comments().filter(ticket_id=ticket.id, visibility="internal", body=HOSTILE).count() == 1
    await shoot(tab, "ticket-comment")
    # an empty comment is refused with a message tied to the field
    await page.click("summary:has-text('Dodaj komentarz')")
    await page.click("#comment button[type=submit]")
    await page.wait_for_load_state("load")
    assert await page.get_attribute("#comment-body", "aria-invalid") == "true"


async def test_verification_edits_the_report_and_the_timeline_shows_the_diff(world: World, browser: Any) -> None:
    tab = await open_tab(browser)
    await sign_in(tab, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    page = tab.page
    await page.click("summary:has-text('Zmień dane zgłoszenia')")
    assert await page.input_value("#edit-description") == "Dziura na ul. Długiej przy przystanku."
    await page.fill("#edit-description", "Głęboka dziura na ul. Długiej 5, przy przystanku MPK.")
    await page.fill("#edit-lat", "51.8570")
    await page.fill("#edit-lon", "19.4080")
    await page.select_option("#edit-attr__size", "large")
    await shoot(tab, "ticket-verification-form")
    assert await axe_violations(tab) == []
    await page.click("#edit button[type=submit]")
    await page.wait_for_load_state("load")
    ticket = await _ticket(world, "pothole")
    assert ticket.description == "Głęboka dziura na ul. Długiej 5, przy przystanku MPK."
    assert (ticket.lat, ticket.lon) == (51.857, 19.408)
    latest = page.locator(".timeline__item").first
    assert await latest.locator(".timeline__title").inner_text() == "Zmieniono zgłoszenie"
    changes = await latest.locator(".timeline__changes li").all_inner_texts()
    assert "Opis: Dziura na ul. Długiej przy przystanku. → Głęboka dziura na ul. Długiej 5, przy przystanku MPK." \
        in changes
    assert "Szerokość geograficzna: 51.8561 → 51.857" in changes
    assert "Wielkość ubytku: średnia (30–100 cm) → duża (ponad 1 m)" in changes
    await shoot(tab, "ticket-edited")
    # a place outside the city is refused, tied to the field
    await page.click("summary:has-text('Zmień dane zgłoszenia')")
    await page.fill("#edit-lat", "52.5")
    await page.click("#edit button[type=submit]")
    await page.wait_for_load_state("load")
    assert await page.get_attribute("#edit-lat", "aria-invalid") == "true"
    assert "Miejsce leży poza granicami gminy." in await page.locator(".error-summary").inner_text()
    assert (await _ticket(world, "pothole")).lat == 51.857


async def test_a_task_handed_over_to_another_unit_is_completed_there_and_the_ticket_closes(
        world: World, browser: Any) -> None:
    dispatcher = await open_tab(browser)
    await sign_in(dispatcher, world, "dispatcher", f"/staff/tickets/{world.tickets['pothole']}")
    await dispatcher.page.click("#actions button:has-text('Zweryfikuj i przekaż')")
    await dispatcher.page.wait_for_load_state("load")

    worker = await open_tab(browser)
    await sign_in(worker, world, "worker", f"/staff/tickets/{world.tickets['pothole']}")
    wp = worker.page
    await wp.click("#task-T1 button:has-text('Podejmij')")
    await wp.wait_for_load_state("load")
    await wp.click("#task-T1 summary:has-text('Przekaż')")
    await wp.select_option("#task-T1-delegate-to_unit", "zielen")
    await wp.fill("#task-T1-delegate-reason", "Korzenie drzewa podniosły nawierzchnię – to sprawa zieleni.")
    await wp.click("#task-T1-delegate button[type=submit]")
    await wp.wait_for_load_state("load")
    task = await _task(world, "pothole", "T1")
    assert (task.unit, task.state, task.assignee_id) == ("zielen", "open", None)
    timeline = await wp.locator(".timeline").inner_text()
    assert "Przekazano zadanie" in timeline
    assert "Komórka: Zarząd Dróg Miejskich → Referat Zieleni Miejskiej" in timeline
    assert "Korzenie drzewa podniosły nawierzchnię – to sprawa zieleni." in timeline

    greenery = await open_tab(browser)
    await sign_in(greenery, world, "greenery")
    gp = greenery.page
    await gp.click("#unit button:has-text('Podejmij')")
    await gp.wait_for_selector("#mine tbody tr")
    await gp.click(f"#mine a:has-text('{world.tickets['pothole']}')")
    await gp.wait_for_load_state("load")
    assert await _page_actions(gp) == await _engine_actions(world, "pothole", "greenery")
    await gp.click("#task-T1 button:has-text('Zakończ')")
    await gp.wait_for_load_state("load")
    ticket = await _ticket(world, "pothole")
    assert ticket.state == "resolved" and ticket.closed_at is not None
    assert await gp.locator(".ticket-header .tag").first.inner_text() == "Załatwione"
    assert await _page_actions(gp) == set() == await _engine_actions(world, "pothole", "greenery")
    await shoot(greenery, "ticket-closed")
