"""`capabilities` is the one answer: properties over Zgierz's shipped roles and processes, random tickets and users.

- a user who may not see the ticket gets nothing at all;
- otherwise the offered actions are exactly `allowed_actions`, each readable
  task's exactly `allowed_task_actions`, and no unreadable task has an action;
- everything refused has a precise refusal (403 forbidden or 409 not_available),
  everything allowed none;
- comment kinds and reading rights come only from the roles' YAML, through the
  memberships that let the user see the ticket;
- a role that says nothing reads nothing and adds no comment (safe defaults).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import allowed_actions, allowed_task_actions
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.capabilities import NOTHING, capabilities
from komunikator.engine.runtime.views import Membership, TaskView, TicketView, UserView
from komunikator.engine.schema.org import COMMENT_KINDS, Role
from komunikator.engine.settings import Settings
from komunikator.engine.tenants import TenantRegistry

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CATEGORIES = {"simple_fix": "pothole", "multi_unit": "fallen_tree", "dumping_cleanup": "illegal_dumping"}
TASK_STATES = ("open", "in_progress", "done", "withdrawn", "cancelled")


@cache
def zgierz() -> CompiledTenant:
    return TenantRegistry.load(Settings.from_env()).tenants["zgierz"]


@st.composite
def tickets(draw: st.DrawFn, tenant: CompiledTenant) -> TicketView:
    process = draw(st.sampled_from(sorted(CATEGORIES)))
    state = draw(st.sampled_from(sorted(tenant.processes[process].states)))
    units = sorted(tenant.units)
    tasks = tuple(
        TaskView(f"T{i + 1}", 1, state, draw(st.sampled_from(units)), draw(st.sampled_from(TASK_STATES)),
                 due_at=NOW + timedelta(days=draw(st.integers(-3, 3))))
        for i in range(draw(st.integers(0, 4)))
    )
    final = tenant.processes[process].states[state].final
    return TicketView(
        id="ZG-2026-000001", category=CATEGORIES[process], process=process, state=state,
        responsible_unit=tenant.categories[CATEGORIES[process]].unit, step=1, tasks=tasks, reporter_id=None,
        closed_at=NOW if final else None,
    )


@st.composite
def users(draw: st.DrawFn, tenant: CompiledTenant) -> UserView:
    memberships = draw(st.lists(st.tuples(st.sampled_from(sorted(tenant.units)), st.sampled_from(sorted(tenant.roles))),
                                min_size=0, max_size=3, unique=True))
    return UserView("7", tuple(Membership(u, r) for u, r in memberships), "staff", "x")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_capabilities_agree_with_the_runtime_and_the_yaml(data: st.DataObject) -> None:
    tenant = zgierz()
    ticket = data.draw(tickets(tenant))
    user = data.draw(users(tenant))
    caps = capabilities(tenant, ticket, user, NOW)
    if not sees_ticket(tenant, user, ticket):
        assert caps == NOTHING
        return
    assert list(caps.actions) == allowed_actions(tenant, ticket, user, NOW)
    readable = {t.key for t in caps.tasks}
    for task in ticket.tasks:
        offered = allowed_task_actions(tenant, ticket, task.key, user)
        if task.key in readable:
            shown = caps.task(task.key)
            assert shown is not None and list(shown.actions) == offered
        else:
            assert not offered, (task, offered)  # nobody acts on a task they may not read
    what = ["edit", "hide_photos", *(f"comment:{k}" for k in COMMENT_KINDS), "photo:internal", "photo:public"]
    for name in what:
        refusal = caps.refusal(name)
        if name in ("edit", "hide_photos"):
            allowed = caps.edit if name == "edit" else caps.hide_photos
        else:
            of, kind = name.split(":")
            allowed = kind in (caps.comment_kinds if of == "comment" else caps.photo_kinds)
        assert (refusal is None) == allowed, (name, refusal)
        assert refusal is None or refusal.code in ("forbidden", "not_available")
    roles = [tenant.roles[m.role] for m in user.memberships]
    closed = tenant.processes[ticket.process].states[ticket.state].final
    granted = {k for r in roles for k in (r.comments.closed if closed else r.comments.open)}
    assert set(caps.comment_kinds) <= granted
    assert set(caps.photo_kinds) == set(caps.comment_kinds) & {"internal", "public"}
    assert caps.reporter_contact <= any(r.sees_reporter_contact for r in roles)
    assert caps.internal_comments <= any(r.sees_internal_comments for r in roles)
    if caps.other_tasks:
        assert readable == {t.key for t in ticket.tasks}
    else:  # only the tasks of the user's own units (and the units below them)
        own = {u for m in user.memberships for u in tenant.unit_subtree[m.unit]}
        assert readable == {t.key for t in ticket.tasks if t.unit in own}


def test_a_role_that_says_nothing_reads_nothing_and_adds_no_comment() -> None:
    tenant = zgierz()
    quiet = Role(name={"pl": "Cichy"}, sees="all", edits_tickets=True)
    tenant = replace(tenant, roles=MappingProxyType({**tenant.roles, "quiet": quiet}))
    ticket = TicketView("ZG-2026-000001", "illegal_dumping", "dumping_cleanup", "in_progress", "srodowisko", step=1,
                        tasks=(TaskView("T1", 1, "in_progress", "pgk"), TaskView("T2", 1, "in_progress", "drogi")))
    caps = capabilities(tenant, ticket, UserView("7", (Membership("bom", "quiet"),)), NOW)
    assert caps.sees_ticket and caps.edit  # what it may do is its own keys
    assert (caps.reporter_contact, caps.internal_comments, caps.other_tasks, caps.full_history) == (
        False, False, False, False)
    assert caps.comment_kinds == () and caps.photo_kinds == () and caps.tasks == ()
    refusal = caps.refusal("comment:internal")
    assert refusal is not None and refusal.code == "forbidden"
    # the library's external role is as quiet on another unit's work, and speaks only while its task runs
    external = capabilities(tenant, ticket, UserView("8", (Membership("pgk", "external"),)), NOW)
    assert [t.key for t in external.tasks] == ["T1"] and external.comment_kinds == ("internal",)
    done = replace(ticket, tasks=(TaskView("T1", 1, "in_progress", "pgk", "done"), ticket.tasks[1]))
    idle = capabilities(tenant, done, UserView("8", (Membership("pgk", "external"),)), NOW)
    assert idle.comment_kinds == ()
    refusal = idle.refusal("comment:internal")
    assert refusal is not None and refusal.code == "not_available"
