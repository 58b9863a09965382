"""The ticket page's parts, rendered by the app in-process on the test database (SQLite and PostgreSQL).

Photos hidden and shown again with a reason; followers and duplicates; a task handed to a
person picked among the target unit's people; the reporter's contact only for roles that
read it; the SLA clock (due, overdue, paused) in Polish and English dates; a stale form
that shows what changed meanwhile and is redone; the SQL statements a page costs.
"""

from __future__ import annotations

import html
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from web_helpers import Api, registry, report, staff_member, staff_session

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.runtime import capabilities
from komunikator.engine.service import accounts, attachments
from komunikator.engine.service.row_views import ticket_view, user_view
from komunikator.engine.store.models import Attachment
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.store.statements import count_statements
from komunikator.web.staff.i18n import when

pytestmark = pytest.mark.anyio
ZG = "zgierz"
STAFF = {
    "dispatcher": ("bom@zgierz.localhost", ["bom:dispatcher"]),
    "worker": ("drogi@zgierz.localhost", ["drogi:worker"]),
    "worker2": ("drogi2@zgierz.localhost", ["drogi:worker"]),
    "greenery": ("zielen@zgierz.localhost", ["zielen:worker"]),
    "head": ("kierownik@zgierz.localhost", ["gospodarka_komunalna:unit_head"]),
    "mayor": ("prezydent@zgierz.localhost", ["bom:management"]),
}


class Desk:
    """Zgierz's staff, a browser-like client per person, and API tokens to change tickets behind their back."""

    def __init__(self, api: Api, scope: TenantScope) -> None:
        self.api, self.scope = api, scope
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.csrf: dict[str, str] = {}
        self.ids: dict[str, int] = {}
        self.bearer: dict[str, str] = {}

    async def start(self) -> Desk:
        for who, (email, memberships) in STAFF.items():
            user = await staff_member(ZG, email, *memberships)
            self.ids[who] = user.id
            raw, _ = await accounts.create_token(self.scope, user, "tests")
            self.bearer[who] = f"Bearer {raw}"
        return self

    async def page(self, who: str) -> httpx.AsyncClient:
        if who not in self.clients:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.api.app), base_url="http://test",
                                       headers={"Host": f"{ZG}.localhost"})
            self.csrf[who] = await staff_session(client, STAFF[who][0])
            self.clients[who] = client
        return self.clients[who]

    async def get(self, who: str, number: str) -> str:
        r = await (await self.page(who)).get(f"/staff/tickets/{number}")
        assert r.status_code == 200, r.text
        return r.text

    async def post(self, who: str, path: str, form: dict[str, str], number: str | None = None) -> httpx.Response:
        """A form post as the page sends it: the session's token and the ticket's current version."""
        data = {"csrf_token": self.csrf[who], **form}
        if number is not None and "version" not in form:
            data["version"] = str((await self.scope.get_ticket(number)).version)
        return await (await self.page(who)).post(path, data=data)

    async def api_post(self, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.api.client(ZG).post(path, json=body, headers={"Authorization": self.bearer[who]})
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    async def sign_out_all(self) -> None:
        """Forget every session (after moving the clock past their lifetime)."""
        await self.close()
        self.clients.clear()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest.fixture
async def desk(api: Api) -> Any:
    made = await Desk(api, TenantScope((await ensure_tenant(ZG)).id)).start()
    try:
        yield made
    finally:
        await made.close()


async def _report(desk: Desk, category: str = "pothole", **extra: Any) -> str:
    return str((await desk.api_post("dispatcher", "/api/v1/tickets", report(category, **extra)))["number"])


def _text(page: str) -> str:
    """The page's text without tags, whitespace collapsed (what a reader reads)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _form(page: str, form_id: str) -> str:
    found = re.search(rf'<form [^>]*id="{re.escape(form_id)}".*?</form>', page, re.S)
    assert found is not None, form_id
    return found.group(0)


async def test_a_photo_is_hidden_with_a_reason_and_shown_again(desk: Desk, tmp_path: Path) -> None:
    number = await _report(desk)
    dispatcher = await user_view(desk.scope, await desk.scope.users().get(id=desk.ids["dispatcher"]))
    picture = io.BytesIO()
    Image.new("RGB", (120, 90), (20, 120, 40)).save(picture, "JPEG")
    photo = await attachments.add(desk.scope, registry().tenants[ZG], number, dispatcher,
                                  attachments.Upload(picture.getvalue(), "tablica.jpg"),
                                  storage=LocalStorage(tmp_path), now=desk.api.clock(), visibility="public")
    base = f"/staff/tickets/{number}/photos/{photo.id}"
    hide, restore = f"{base}/hide", f"{base}/restore"
    page = await desk.get("dispatcher", number)
    assert f'action="{hide}"' in _form(page, f"photo-{photo.id}-hide")
    # the worker's role may not hide photos: no form, and a forged post changes nothing
    assert f"photo-{photo.id}-hide" not in await desk.get("worker", number)
    await desk.page("worker")
    forged = await desk.post("worker", hide, {"action": "hide", "reason": "twarz"}, number)
    assert forged.status_code == 403
    assert (await desk.scope.query(Attachment).get(id=photo.id)).hidden_at is None

    # another unit's clerk and another city's dispatcher get the missing ticket's 404, with their own valid tokens
    await desk.page("greenery")
    assert (await desk.post("greenery", hide, {"action": "hide", "reason": "twarz"}, number)).status_code == 404
    await staff_member("nieporet", "urzad@nieporet.localhost", "urzad:dispatcher")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=desk.api.app), base_url="http://test",
                                 headers={"Host": "nieporet.localhost"}) as other:
        token = await staff_session(other, "urzad@nieporet.localhost")
        forged = await other.post(hide, data={"csrf_token": token, "action": "hide", "reason": "twarz"})
        assert forged.status_code == 404
    assert (await desk.scope.query(Attachment).get(id=photo.id)).hidden_at is None
    refused = await desk.post("dispatcher", hide, {"action": "hide", "reason": "  "}, number)
    assert refused.status_code == 422
    field = f"photo-{photo.id}-hide-reason"
    assert (f'id="{field}" name="reason" rows="4" aria-describedby="{field}-hint {field}-error" aria-invalid="true"'
            in refused.text)
    assert (await desk.scope.query(Attachment).get(id=photo.id)).hidden_at is None

    done = await desk.post("dispatcher", hide, {"action": "hide", "reason": "Widać tablicę rejestracyjną."}, number)
    assert done.status_code == 303, done.text
    row = await desk.scope.query(Attachment).get(id=photo.id)
    assert row.hidden_at is not None and row.hidden_reason == "Widać tablicę rejestracyjną."
    text = _text(await desk.get("dispatcher", number))
    assert "Ukryte przed mieszkańcami Powód: Widać tablicę rejestracyjną." in text
    assert "Ukryto zdjęcie" in text and "Zdjęcie: Zdjęcie 1" in text
    assert (await desk.api.client(ZG).get(f"/api/v1/public/tickets/{number}/photos/{photo.id}")).status_code == 404

    page = await desk.get("dispatcher", number)
    assert f"photo-{photo.id}-hide\"" not in page and f'action="{restore}"' in _form(page, f"photo-{photo.id}-restore")
    again = await desk.post("dispatcher", restore, {"action": "restore", "reason": "Tablica zamazana."}, number)
    assert again.status_code == 303, again.text
    assert (await desk.scope.query(Attachment).get(id=photo.id)).hidden_at is None
    timeline = _text(await desk.get("dispatcher", number))
    assert "Przywrócono zdjęcie" in timeline and "Tablica zamazana." in timeline


async def test_followers_and_duplicates_are_shown_both_ways(desk: Desk) -> None:
    original, copy = await _report(desk), await _report(desk)
    page = await desk.get("dispatcher", original)
    assert "mark_duplicate" in page  # the engine offers it: a form with the original's number
    done = await desk.post("dispatcher", f"/staff/tickets/{copy}/act",
                           {"action": "mark_duplicate", "duplicate_of": original}, copy)
    assert done.status_code == 303, done.text
    master = await desk.scope.get_ticket(original)
    followers = await desk.scope.followers().filter(ticket_id=master.id).count()
    assert followers >= 1  # the copy's reporter follows the original now
    text = _text(await desk.get("dispatcher", original))
    people = {1: "osoba obserwuje", 2: "osoby obserwują", 3: "osoby obserwują"}.get(followers, "osób obserwuje")
    assert f"Obserwujący {followers} {people} to zgłoszenie" in text
    assert f"Duplikaty {copy}" in text
    assert f"Duplikat zgłoszenia {original}" in _text(await desk.get("dispatcher", copy))
    # a number of a ticket the user may not see is not listed: the greenery clerk sees neither
    assert (await (await desk.page("greenery")).get(f"/staff/tickets/{original}")).status_code == 404


async def test_a_task_goes_to_a_person_of_the_target_unit_by_the_apis_rules(desk: Desk) -> None:
    number = await _report(desk)
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    await desk.api_post("worker", f"/api/v1/tickets/{number}/tasks/T1/take", {})
    page = await desk.get("worker", number)
    form = _form(page, "task-T1-delegate")
    picker = re.search(r'<select [^>]*name="to_user"[^>]*>(.*?)</select>', form, re.S)
    assert picker is not None and 'data-person-picker data-task-unit="drogi"' in picker.group(0)
    options = {int(m[0]): set(m[1].split()) for m in re.findall(r'<option value="(\d+)" data-units="([^"]*)"',
                                                                  picker.group(1))}
    # the people who handle some unit's tasks, each with those units; the dispatcher and the mayor handle none
    assert options == {desk.ids["worker"]: {"drogi"}, desk.ids["worker2"]: {"drogi"},
                       desk.ids["greenery"]: {"zielen"}, desk.ids["head"]: {"gospodarka_komunalna", "zielen"}}
    to_person = await desk.post("worker", f"/staff/tickets/{number}/tasks/T1",
                                {"action": "delegate", "to_user": str(desk.ids["worker2"]),
                                 "reason": "Ewa zna ten odcinek."}, number)
    assert to_person.status_code == 303, to_person.text
    ticket = await desk.scope.get_ticket(number)
    task = await desk.scope.tasks().get(ticket_id=ticket.id, key="T1")
    assert (task.unit, task.assignee_id, task.state) == ("drogi", desk.ids["worker2"], "open")
    assert "Przekazano zadanie" in _text(await desk.get("worker2", number))
    # someone who does not handle the chosen unit's tasks is refused, as by the API, tied to the person field
    await desk.api_post("worker2", f"/api/v1/tickets/{number}/tasks/T1/take", {})
    wrong = await desk.post("worker2", f"/staff/tickets/{number}/tasks/T1",
                            {"action": "delegate", "to_unit": "drogi", "to_user": str(desk.ids["greenery"]),
                             "reason": "Zieleń?"}, number)
    assert wrong.status_code == 422
    assert 'id="task-T1-delegate-to_user-error"' in wrong.text
    api = await desk.api.client(ZG).post(f"/api/v1/tickets/{number}/tasks/T1/delegate", json={
        "to_unit": "drogi", "to_user": desk.ids["greenery"], "reason": "Zieleń?"},
        headers={"Authorization": desk.bearer["worker2"]})
    assert api.status_code == 422 and api.json()["field"] == "to_user"
    assert (await desk.scope.tasks().get(id=task.id)).assignee_id == desk.ids["worker2"]


async def test_the_reporters_contact_only_for_roles_that_read_it(desk: Desk) -> None:
    number = await _report(desk)
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    ticket = await desk.scope.get_ticket(number)
    shown = {}
    for who in ("dispatcher", "worker", "head", "mayor"):
        me = await user_view(desk.scope, await desk.scope.users().get(id=desk.ids[who]))
        caps = capabilities(registry().tenants[ZG], await ticket_view(desk.scope, ticket), me, desk.api.clock())
        r = await (await desk.page(who)).get(f"/staff/tickets/{number}")
        if not caps.sees_ticket:
            assert r.status_code == 404, who
            continue
        shown[who] = "jan@example.pl" in r.text
        assert shown[who] == caps.reporter_contact, who
        assert ("Jan Kowalski" in r.text) == caps.reporter_contact, who
    assert shown["dispatcher"] and shown["worker"]
    assert shown.get("mayor") is False  # management reads the city's reports, not the residents' addresses


async def test_the_deadline_overdue_and_paused_in_polish_and_english(desk: Desk, api: Api) -> None:
    number = await _report(desk)
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    waiting = await _report(desk)
    await desk.api_post("dispatcher", f"/api/v1/tickets/{waiting}/actions/verify", {})
    await desk.api_post("dispatcher", f"/api/v1/tickets/{waiting}/actions/ask_resident",
                        {"public_comment": "Prosimy o zdjęcie."})
    zone = registry().tenants[ZG].config.time_zone
    due = (await desk.scope.get_ticket(number)).due_at
    assert due is not None
    text = _text(await desk.get("dispatcher", number))
    assert f"Termin {when(due, 'pl', zone)}" in text
    assert re.search(r"Termin \d{1,2}\.\d{2}\.20\d{2}, \d{2}:\d{2}", text)  # Babel's Polish form, local time
    assert "po terminie" not in text
    api.clock.now = datetime.fromisoformat(due.isoformat()).astimezone(api.clock.now.tzinfo)
    api.clock.advance(days=1)
    await desk.sign_out_all()  # the sessions ended meanwhile
    text = _text(await desk.get("dispatcher", number))
    assert f"Termin {when(due, 'pl', zone)} po terminie" in text
    paused = _text(await desk.get("dispatcher", waiting))
    assert "termin wstrzymany" in paused and "po terminie" not in paused  # its clock stands still
    english = await desk.page("dispatcher")
    r = await english.post("/staff/language", data={"csrf_token": desk.csrf["dispatcher"], "language": "en",
                                                    "back": f"/staff/tickets/{number}"})
    assert r.status_code == 303
    text = _text(await desk.get("dispatcher", number))
    assert f"Deadline {when(due, 'en', zone)} overdue" in text
    assert "deadline paused" in _text(await desk.get("dispatcher", waiting))


async def test_a_stale_form_shows_what_changed_meanwhile_and_is_redone(desk: Desk) -> None:
    number = await _report(desk)
    page = await desk.get("dispatcher", number)
    form = _form(page, "act-reject")
    version = re.search(r'name="version" value="(\d+)"', form)
    seen = re.search(r'name="seen" value="([^"]+)"', form)
    assert version is not None and seen is not None
    # five minutes later someone else raises the priority
    desk.api.clock.advance(minutes=5)
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/set_priority", {"priority": "high"})
    reason = "Droga wojewódzka – nie nasza."
    stale = await desk.post("dispatcher", f"/staff/tickets/{number}/act",
                            {"action": "reject", "public_comment": reason, "version": version.group(1),
                             "seen": seen.group(1)})
    assert stale.status_code == 409
    text = _text(stale.text)
    assert "Zmieniono w międzyczasie" in text
    assert "Zmieniono priorytet" in text and "Priorytet: zwykły → wysoki" in text
    assert "W międzyczasie ktoś inny zmienił to zgłoszenie" in text
    assert (await desk.scope.get_ticket(number)).state == "new"
    kept = _form(stale.text, "act-reject")
    assert reason in html.unescape(kept)  # the inputs stay
    current = (await desk.scope.get_ticket(number)).version
    assert f'name="version" value="{current}"' in kept  # sending it again redoes it on the current ticket
    redo = await desk.post("dispatcher", f"/staff/tickets/{number}/act",
                           {"action": "reject", "public_comment": reason, "version": str(current)})
    assert redo.status_code == 303
    assert (await desk.scope.get_ticket(number)).state == "rejected"


async def test_the_ticket_page_runs_as_many_statements_however_long_its_history(desk: Desk, tmp_path: Path) -> None:
    """No N+1: the statements a ticket page costs do not grow with its tasks' hops, comments, photos, history."""
    tree = {"attributes": {"blocking": "road"}}
    small, big = await _report(desk, "fallen_tree", **tree), await _report(desk, "fallen_tree", **tree)
    for number in (small, big):
        await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})  # two units' tasks
    dispatcher = await user_view(desk.scope, await desk.scope.users().get(id=desk.ids["dispatcher"]))
    for i in range(6):
        await desk.api_post("dispatcher", f"/api/v1/tickets/{big}/comments",
                            {"body": f"Notatka {i}", "visibility": "internal"})
    for i in range(3):
        picture = io.BytesIO()
        Image.new("RGB", (60, 40), (10 * i, 80, 40)).save(picture, "JPEG")
        await attachments.add(desk.scope, registry().tenants[ZG], big, dispatcher,
                              attachments.Upload(picture.getvalue(), f"zdjecie{i}.jpg"),
                              storage=LocalStorage(tmp_path), now=desk.api.clock())
    await desk.api_post("greenery", f"/api/v1/tickets/{big}/tasks/T1/take", {})
    for unit in ("gospodarka_komunalna", "zielen", "gospodarka_komunalna"):
        await desk.api_post("head", f"/api/v1/tickets/{big}/tasks/T1/delegate", {"to_unit": unit, "reason": "Hop."})
    await desk.page("dispatcher")
    counts = {}
    for number in (small, big):
        await desk.get("dispatcher", number)  # warm: the first request of a session loads its settings
        with count_statements() as statements:
            text = await desk.get("dispatcher", number)
        counts[number] = statements.count
        assert "Zadania" in text
    assert _text(await desk.get("dispatcher", big)).count("Notatka") == 6
    assert counts[small] == counts[big], counts
    assert counts[big] <= 40, counts
    print(f"ticket page: {counts[big]} SQL statements")  # noqa: T201  (the figure for the report)


#: The SQL statements of the dispatcher's page of a verified fallen tree (below): the session (2: its user,
#: joined, and the memberships), the ticket and its rows read once (4: the ticket with how many follow it and
#: are its duplicates, tasks, attributes, reporter contact), the tasks' Open311 hand-overs, the staff's names
#: with the people a task may go to (one: the accounts joined with their memberships), the history (events,
#: comments), the photos. The navigation's counts come after the page (their own request,
#: `GET /staff/nav/counts`). Each table the page needs is read once: a change that reads one again (or adds a
#: read) fails here, with the statements listed.
TICKET_PAGE_STATEMENTS = 11


async def test_the_ticket_page_reads_each_piece_once(desk: Desk) -> None:
    """The page's statements are pinned, and the ticket's tasks, contact and staff names are read once."""
    number = await _report(desk, "fallen_tree", attributes={"blocking": "road"})
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/comments",
                        {"body": "Notatka", "visibility": "internal"})
    await desk.get("dispatcher", number)  # warm: the first request of a session loads its settings
    with count_statements() as statements:
        await desk.get("dispatcher", number)
    listing = "\n".join(statements.seen)
    assert statements.count == TICKET_PAGE_STATEMENTS, listing
    ticket_tasks = [s for s in statements.seen if 'FROM "tasks" WHERE "tenant_id"=? AND "ticket_id"' in s
                    or 'FROM "tasks" WHERE "tenant_id"=$1 AND "ticket_id"' in s]
    assert len(ticket_tasks) == 1, listing
    assert sum('FROM "reporter_contacts"' in s for s in statements.seen) == 1, listing
    assert sum('"users"' in s for s in statements.seen) == 2, listing  # the session's user, the staff


async def test_the_next_request_reads_what_changed_meanwhile(desk: Desk) -> None:
    """Nothing of a ticket is kept between requests: a change made through the API shows on the next page."""
    number = await _report(desk, "fallen_tree", attributes={"blocking": "road"})
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    before = await desk.get("dispatcher", number)
    assert "Zmiana po drodze" not in before
    await desk.api_post("greenery", f"/api/v1/tickets/{number}/tasks/T1/take", {})
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/comments",
                        {"body": "Zmiana po drodze", "visibility": "internal"})
    after = await desk.get("dispatcher", number)
    assert "Zmiana po drodze" in _text(after)
    assert "zielen" in _text(after.split('id="task-T1"', 1)[-1])[:2000] or "zielen" in _text(after)
    assert f'name="version" value="{(await desk.scope.get_ticket(number)).version}"' in after


async def test_the_inbox_runs_as_many_statements_however_many_reports_wait(desk: Desk) -> None:
    """No N+1 in the inbox (and so in every page's navigation counts): more waiting work, same statements."""
    counts = []
    for _ in range(2):
        for _ in range(4):  # four more to verify, four more tasks for the road workers
            number = await _report(desk)
            await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
            await _report(desk)
        seen = {}
        for who in ("dispatcher", "worker"):
            client = await desk.page(who)
            await client.get("/staff/")
            with count_statements() as statements:
                inbox = await client.get("/staff/")
            assert inbox.status_code == 200
            seen[who] = statements.count
        counts.append(seen)
        box = (await (await desk.page("dispatcher")).get("/staff/")).text
        assert len(re.findall(r'<tr[^>]*>\s*<td><a href="/staff/tickets/', box)) == 4 * len(counts)
    assert counts[0] == counts[1], counts


async def test_the_navigation_counts_come_after_the_page(desk: Desk) -> None:
    """A page leaves an empty place for the inbox's count and asks for it after loading; the answer fills the
    place (an out-of-band swap by id) with today's figure; the inbox page, which has the figure, draws it."""
    number = await _report(desk)
    await _report(desk)  # two reports wait for the dispatcher's verification
    page = await desk.get("dispatcher", number)
    assert 'hx-get="/staff/nav/counts" hx-trigger="load" hx-swap="none"' in page
    assert '<span class="count" id="nav-count-inbox" hidden></span>' in page
    client = await desk.page("dispatcher")
    with count_statements() as statements:
        counts = await client.get("/staff/nav/counts", headers={"HX-Request": "true"})
    assert counts.status_code == 200 and counts.headers["cache-control"] == "no-store"
    assert statements.count < TICKET_PAGE_STATEMENTS  # the inbox's lists, not a page
    assert re.fullmatch(r'\s*<span class="count" id="nav-count-inbox" title="2 sprawy czekają" hx-swap-oob="true">'
                        r'<span class="visually-hidden">\(</span>2<span class="visually-hidden"> 2 sprawy czekają\)'
                        r'</span></span>\s*', counts.text), counts.text
    inbox = (await client.get("/staff/")).text
    assert 'hx-get="/staff/nav/counts"' not in inbox and 'id="nav-count-inbox" title="2 sprawy czekają"' in inbox
    # after a verification the figure is one less, without drawing a page
    await desk.api_post("dispatcher", f"/api/v1/tickets/{number}/actions/verify", {})
    assert '>1<' in (await client.get("/staff/nav/counts")).text
    # signed out: the sign-in form (htmx: a redirect of the whole page), never someone's figures
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=desk.api.app), base_url="http://test",
                                 headers={"Host": f"{ZG}.localhost"}) as stranger:
        r = await stranger.get("/staff/nav/counts", headers={"HX-Request": "true"})
        assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/staff/login")
