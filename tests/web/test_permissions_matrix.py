"""Each role in each unit, on each state of each shipped Zgierz process: the API does what the YAML allows.

For every (process, reachable state, staff member):

- `GET /tickets/{n}` is a 404 exactly when the engine's `sees_ticket` says no,
  and otherwise offers exactly the engine's `allowed_actions` (and, per task
  the member reads, `allowed_task_actions`), the tasks being those
  `capabilities` lets the member read;
- every action not offered is refused with the engine's own refusal (code and
  message), changing nothing;
- every action offered succeeds on a fresh ticket in that state, ending where
  the engine says.

Tickets are driven into their states through the service layer (fast); only
the calls under test go through HTTP. A few expectations are written out by
hand from the YAML, so the test does not only compare the API with itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from web_helpers import Api, registry

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import allowed_actions, allowed_task_actions, fire, fire_task
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.actions import BUILTIN_ACTIONS
from komunikator.engine.runtime.capabilities import capabilities
from komunikator.engine.runtime.outcome import Refusal
from komunikator.engine.runtime.tasks import TASK_ACTIONS
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.service import intake, tickets
from komunikator.engine.service import row_views as views
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"
#: The shipped processes of Zgierz, each through one of its categories.
PROCESSES = {"simple_fix": "pothole", "multi_unit": "fallen_tree", "dumping_cleanup": "illegal_dumping"}
ATTRIBUTES = {"pothole": {"size": "large"}, "fallen_tree": {"blocking": "road"},
              "illegal_dumping": {"waste_type": ["tyres"]}}
RECLASSIFY_TO = {"pothole": "pavement_damage", "fallen_tree": "tree_hazard", "illegal_dumping": "bulky_waste_dumped"}
#: How each ticket state is reached from `new` (driver actions: ticket actions, or "complete" = finish the step).
PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "simple_fix": {
        "new": (), "in_progress": ("verify",), "waiting_for_resident": ("verify", "ask_resident"),
        "resolved": ("verify", "complete"), "rejected": ("reject",), "duplicate": ("mark_duplicate",),
    },
    "multi_unit": {
        "new": (), "in_progress": ("verify",), "acceptance": ("verify", "complete"),
        "resolved": ("verify", "complete", "complete"), "rejected": ("reject",), "duplicate": ("mark_duplicate",),
    },
}
PATHS["dumping_cleanup"] = PATHS["multi_unit"]


def _members(tenant: CompiledTenant) -> list[tuple[str, str]]:
    """(role, unit) of each staff member to try: the office roles at the front desk, unit roles everywhere."""
    internal = [u for u, spec in tenant.units.items() if not spec.external]
    external = [u for u, spec in tenant.units.items() if spec.external and spec.accounts]
    out = [("dispatcher", "bom"), ("management", "bom"), ("admin", "bom")]
    out += [(role, unit) for unit in internal for role in ("worker", "unit_head")]
    out += [(role, unit) for unit in external for role in ("external", "worker")]
    assert {r for r, _ in out} == set(tenant.roles), "a role of the tenant is not tried"
    return out


@dataclass
class Member:
    """A staff member under test."""

    label: str  # role@unit
    headers: dict[str, str]
    view: UserView


class Office:
    """Drives tickets through the service layer as an all-powerful clerk."""

    def __init__(self, api: Api, scope: TenantScope, tenant: CompiledTenant, driver: UserView) -> None:
        self.api, self.scope, self.tenant, self.driver = api, scope, tenant, driver
        self.masters: dict[str, str] = {}

    @property
    def now(self) -> datetime:
        return self.api.clock.now

    async def submit(self, category: str) -> str:
        sub = intake.Submission(category=category, description=f"{category}: test", lat=51.855, lon=19.406,
                                attributes=ATTRIBUTES[category], reporter={"email": "jan@example.pl"})
        ticket, _ = await intake.submit(self.scope, self.tenant, sub, channel="staff", actor=self.driver,
                                        reporter_user_id=None, now=self.now)
        assert ticket is not None
        return ticket.number

    async def ticket_in(self, process: str, state: str) -> str:
        category = PROCESSES[process]
        number = await self.submit(category)
        for step in PATHS[process][state]:
            if step == "complete":
                view = await self.view(number)
                for task in view.current_tasks():
                    if task.active:
                        await tickets.act_on_task(self.scope, self.tenant, number, task.key, "complete", self.driver,
                                                  {}, self.now)
            else:
                await tickets.act(self.scope, self.tenant, number, step, self.driver,
                                  await self.inputs(process, step, number), self.now)
        assert (await self.view(number)).state == state, (process, state)
        return number

    async def inputs(self, process: str, action: str, number: str) -> dict[str, Any]:
        """Valid inputs for a ticket action (so a refusal is about who and when, never about inputs)."""
        if action == "mark_duplicate":
            if process not in self.masters:
                self.masters[process] = await self.submit(PROCESSES[process])
            return {"duplicate_of": self.masters[process]}
        transition = self.tenant.processes[process].transitions.get(action)
        requires = transition.requires if transition is not None else BUILTIN_ACTIONS[action]
        values = {"public_comment": "komentarz", "category": RECLASSIFY_TO[PROCESSES[process]], "priority": "urgent"}
        return {name: values[name] for name in requires}

    async def view(self, number: str) -> TicketView:
        return await views.ticket_view(self.scope, await self.scope.get_ticket(number))


def _task_inputs(action: str, unit: str) -> dict[str, Any]:
    return {"delegate": {"to_unit": "inwestycje" if unit != "inwestycje" else "drogi", "reason": "nie nasze"},
            "withdraw": {"reason": "brak sprzętu"}}.get(action, {})


def _refusal_body(refusal: Refusal) -> dict[str, Any]:
    body = {"error": refusal.code, "message": refusal.message}
    if refusal.field is not None:
        body["field"] = refusal.field
    return body


class Refusals:
    """Fires actions a member is not offered through the API and compares the answer with the engine's refusal.

    An action the engine refuses as `not_available` to the all-powerful driver (a transition that
    does not leave this state, an automatic one, anything on a closed ticket or a finished task)
    is refused to everyone with the same words: it is sent for two members only, the rest for all.
    """

    def __init__(self, client: Any, office: Office, process: str, number: str, view: TicketView) -> None:
        self.client, self.office, self.process, self.number, self.view = client, office, process, number, view
        self.tenant = office.tenant
        #: every action of the process, not only those leaving this state
        self.actions = [*self.tenant.processes[process].transitions, *BUILTIN_ACTIONS]
        self.sent = 0

    def for_everyone(self, action: str, task_key: str | None) -> Refusal | None:
        """The refusal every user gets (None if it depends on who asks)."""
        result = self._engine(self.office.driver, action, task_key, {})
        return result if isinstance(result, Refusal) and result.code == "not_available" else None

    def _engine(self, user: UserView, action: str, task_key: str | None, inputs: dict[str, Any]) -> Any:
        if task_key is None:
            return fire(self.tenant, self.view, action, user, inputs, self.office.now)
        return fire_task(self.tenant, self.view, task_key, action, user, inputs, self.office.now)

    async def refused(self, member: Member, action: str, task_key: str | None = None) -> None:
        """`member` fires `action` (on task `task_key`) with valid inputs: the engine's refusal, word for word."""
        if task_key is None:
            inputs = await self.office.inputs(self.process, action, self.number)
            path = f"/api/v1/tickets/{self.number}/actions/{action}"
        else:
            task = self.view.task(task_key)
            assert task is not None
            inputs = _task_inputs(action, task.unit)
            path = f"/api/v1/tickets/{self.number}/tasks/{task_key}/{action}"
        refusal = self._engine(member.view, action, task_key, inputs)
        assert isinstance(refusal, Refusal), (self.process, self.view.state, member.label, action, task_key)
        r = await self.client.post(path, json=inputs, headers=member.headers)
        self.sent += 1
        assert r.status_code in (403, 409), (self.process, self.view.state, member.label, action, task_key, r.text)
        assert r.json() == _refusal_body(refusal), (self.process, self.view.state, member.label, action, task_key)


NOT_FOUND = {"error": "not_found", "message": "ticket not found"}


@pytest.mark.slow
async def test_every_role_and_unit_gets_exactly_what_the_yaml_allows(api: Api) -> None:
    tenant = registry().tenants[ZG]
    scope = TenantScope((await ensure_tenant(ZG)).id)
    client = api.client(ZG)
    driver_headers = await api.staff(ZG, "driver@zgierz.pl", "bom:dispatcher",
                                     *(f"{u}:worker" for u, s in tenant.units.items() if s.accounts))
    driver = await views.user_view(scope, await scope.users().get(id=int(driver_headers["X-User-Id"])))
    office = Office(api, scope, tenant, driver)
    members = []
    for role, unit in _members(tenant):
        headers = await api.staff(ZG, f"{role}.{unit}@zgierz.pl", f"{unit}:{role}")
        user = await scope.users().get(id=int(headers["X-User-Id"]))
        members.append(Member(f"{role}@{unit}", headers, await views.user_view(scope, user)))

    offered: list[tuple[str, str, Member, str, str | None]] = []  # process, state, member, action, task unit
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}  # (process, state, member) → what GET showed
    for process in PROCESSES:
        for state in PATHS[process]:
            number = await office.ticket_in(process, state)
            view = await office.view(number)
            version = (await scope.get_ticket(number)).version
            checks = Refusals(client, office, process, number, view)
            visible = [m for m in members if sees_ticket(tenant, m.view, view)]
            probed = False
            for member in members:
                r = await client.get(f"/api/v1/tickets/{number}", headers=member.headers)
                if member not in visible:
                    assert (r.status_code, r.json()) == (404, NOT_FOUND), (process, state, member.label)
                    if not probed:  # the same lookup refuses every write too: once per ticket is enough
                        probed = True
                        key = view.tasks[0].key if view.tasks else "T1"
                        for path, body in (("actions/reject", {"public_comment": "x"}), (f"tasks/{key}/take", {})):
                            r = await client.post(f"/api/v1/tickets/{number}/{path}", json=body,
                                                  headers=member.headers)
                            assert (r.status_code, r.json()) == (404, NOT_FOUND), (process, state, member.label)
                    continue
                assert r.status_code == 200, (process, state, member.label, r.text)
                shown = r.json()
                seen[(process, state, member.label)] = shown
                allowed = {a.name for a in allowed_actions(tenant, view, member.view, office.now)}
                assert {a["name"] for a in shown["actions"]} == allowed, (process, state, member.label)
                for action in checks.actions:
                    if action in allowed:
                        offered.append((process, state, member, action, None))
                    elif checks.for_everyone(action, None) is None or member in visible[:2]:
                        await checks.refused(member, action)
                caps = capabilities(tenant, view, member.view, office.now)
                given = shown["capabilities"]
                assert (given["comment_kinds"], given["edit"], given["hide_photos"]) == (
                    list(caps.comment_kinds), caps.edit, caps.hide_photos), (process, state, member.label)
                assert (shown["reporter"] is not None) == caps.reporter_contact, (process, state, member.label)
                readable = [t for t in view.tasks if caps.task(t.key)]
                assert [t["key"] for t in shown["tasks"]] == [t.key for t in readable], (process, state, member.label)
                for task, task_json in zip(readable, shown["tasks"], strict=True):
                    task_allowed = {a.name for a in allowed_task_actions(tenant, view, task.key, member.view)}
                    assert {a["name"] for a in task_json["actions"]} == task_allowed, (process, state, member.label)
                    for action in TASK_ACTIONS:
                        if action in task_allowed:
                            offered.append((process, state, member, action, task.unit))
                        elif checks.for_everyone(action, task.key) is None or member in visible[:2]:
                            await checks.refused(member, action, task.key)
            assert (await scope.get_ticket(number)).version == version, "a refused action changed the ticket"
            assert checks.sent > 0

    _check_by_hand(seen)

    # every offered action succeeds on a fresh ticket in that state, and ends where the engine says
    fired = set()
    for process, state, member, action, task_unit in offered:
        number = await office.ticket_in(process, state)
        view = await office.view(number)
        if task_unit is None:
            inputs = await office.inputs(process, action, number)
            expected = fire(tenant, view, action, member.view, inputs, office.now)
            r = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=inputs, headers=member.headers)
        else:
            task = next(t for t in view.tasks if t.unit == task_unit and t.active)
            inputs = _task_inputs(action, task_unit)
            expected = fire_task(tenant, view, task.key, action, member.view, inputs, office.now)
            r = await client.post(f"/api/v1/tickets/{number}/tasks/{task.key}/{action}", json=inputs,
                                  headers=member.headers)
        assert not isinstance(expected, Refusal), (process, state, member.label, action, expected)
        assert r.status_code == 200, (process, state, member.label, action, task_unit, r.text)
        assert (await office.view(number)).state == expected.ticket.state, (process, state, member.label, action)
        fired.add((process, state, member.label, action))
    assert len(fired) > 50, sorted(fired)

    await _check_lists(api, scope, tenant, members)


def _check_by_hand(seen: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Expectations read off the YAML by hand (processes, units.yaml, roles)."""

    def actions(process: str, state: str, who: str) -> set[str]:
        return {a["name"] for a in seen[(process, state, who)]["actions"]}

    def task_actions(process: str, state: str, who: str) -> dict[str, set[str]]:
        return {t["unit"]: {a["name"] for a in t["actions"]} for t in seen[(process, state, who)]["tasks"]
                if t["state"] in ("open", "in_progress")}

    editing = {"reclassify", "mark_duplicate", "set_priority"}
    assert actions("simple_fix", "new", "dispatcher@bom") == {"verify", "reject"} | editing
    assert actions("simple_fix", "in_progress", "worker@drogi") == {"ask_resident"}
    assert task_actions("simple_fix", "in_progress", "worker@drogi") == {"drogi": {"take", "complete", "delegate",
                                                                                  "withdraw"}}
    assert task_actions("simple_fix", "in_progress", "dispatcher@bom") == {"drogi": {"delegate"}}
    assert actions("simple_fix", "waiting_for_resident", "unit_head@drogi") == {"resume"}
    assert actions("simple_fix", "resolved", "dispatcher@bom") == {"reopen"}
    assert ("simple_fix", "new", "worker@inwestycje") not in seen
    # the greenery section lies under municipal services: its head sees and handles its tasks
    assert task_actions("multi_unit", "in_progress", "unit_head@gospodarka_komunalna")["zielen"] == {
        "take", "complete", "delegate", "withdraw"}
    # the company sees only tickets with a task for it, reads and acts only on that task
    assert ("multi_unit", "new", "external@pgk") not in seen
    assert actions("dumping_cleanup", "in_progress", "external@pgk") == set()
    assert task_actions("dumping_cleanup", "in_progress", "external@pgk") == {
        "pgk": {"take", "complete", "delegate", "withdraw"}}
    assert {t["unit"] for t in seen[("dumping_cleanup", "in_progress", "dispatcher@bom")]["tasks"]} == {
        "srodowisko", "straz_miejska", "pgk"}
    # the city guard has no accounts: the dispatcher records its outcome
    assert task_actions("dumping_cleanup", "in_progress", "dispatcher@bom")["straz_miejska"] == {
        "complete", "delegate", "withdraw"}
    # who reads the reporter's contact and comments what, as the roles' YAML says
    assert seen[("dumping_cleanup", "in_progress", "external@pgk")]["reporter"] is None
    assert seen[("dumping_cleanup", "in_progress", "dispatcher@bom")]["reporter"] is not None
    assert seen[("simple_fix", "resolved", "management@bom")]["capabilities"]["comment_kinds"] == []
    assert seen[("simple_fix", "new", "management@bom")]["capabilities"]["comment_kinds"] == ["internal"]
    assert seen[("simple_fix", "resolved", "dispatcher@bom")]["capabilities"]["comment_kinds"] == [
        "internal", "public", "to_reporter"]
    # management and the administrator read everything and can fire nothing
    for process, state, who in seen:
        if who in ("management@bom", "admin@bom"):
            assert actions(process, state, who) == set(), (process, state, who)
            assert all(not a for a in task_actions(process, state, who).values()), (process, state, who)
    for process, states in PATHS.items():
        for state in states:
            assert (process, state, "management@bom") in seen
            has_pgk_task = any(t["unit"] == "pgk" and t["state"] != "cancelled"
                               for t in seen[(process, state, "dispatcher@bom")]["tasks"])
            assert ((process, state, "external@pgk") in seen) == has_pgk_task, (process, state)


async def _check_lists(api: Api, scope: TenantScope, tenant: CompiledTenant, members: list[Member]) -> None:
    """Each member's ticket list holds exactly the tickets they may see."""
    rows = await scope.tickets().all()
    ticket_views = {t.number: await views.ticket_view(scope, t) for t in rows}
    for member in members:
        listed: set[str] = set()
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = await api.client(ZG).get("/api/v1/tickets", params=params, headers=member.headers)
            assert r.status_code == 200, r.text
            listed |= {i["number"] for i in r.json()["items"]}
            cursor = r.json()["next_cursor"]
            if not cursor:
                break
        expected = {n for n, v in ticket_views.items() if sees_ticket(tenant, member.view, v)}
        assert listed == expected, (member.label, sorted(listed ^ expected))
        if member.label in ("management@bom", "admin@bom", "dispatcher@bom"):
            assert listed == set(ticket_views)
