"""Scenario tests of issue #11's engine items over a small city (fixtures/engine3/wrzesnia) and the shipped library."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import cache
from pathlib import Path

from runtime_helpers import local, new_ticket, ok, resident, staff

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_tenant, compile_tenant
from komunikator.engine.config.explain import explain
from komunikator.engine.runtime import (
    Refusal,
    allowed_actions,
    allowed_task_actions,
    fire,
    fire_task,
    fire_timer,
    start,
)
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.capabilities import capabilities
from komunikator.engine.settings import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "engine3" / "wrzesnia"
NOW = local(2026, 12, 1, 9, 0)
DISPATCHER = staff("bom1", "bom:dispatcher")
REPORTER = resident("mieszkaniec")


@cache
def wrzesnia() -> CompiledTenant:
    return compile_tenant(FIXTURE, Settings.from_env().definitions_dir)


def reported(category: str = "pothole"):
    t = wrzesnia()
    ticket = new_ticket(t, category, reporter_id=REPORTER.id, reporter_has_contact=True)
    return ok(start(t, ticket, DISPATCHER, NOW)).ticket


# -- item 4: role:ROLE@task_unit recipients ---------------------------------------------------


def test_a_transitions_task_scoped_recipients_get_one_message_per_task() -> None:
    t = wrzesnia()
    outcome = ok(fire(t, reported("fallen_tree"), "verify", DISPATCHER, {}, NOW))
    sent = [(tuple(str(r) for r in n.recipients), n.task) for n in outcome.of_type(fx.Notify)
            if n.template == "ticket_accepted"]
    assert sent == [
        (("reporter",), None),
        (("role:unit_head@task_unit",), "T1"),  # zielen's head (or the department's: delivery decides)
        (("role:unit_head@task_unit",), "T2"),  # drogi's head
    ]


def test_after_the_last_task_is_done_the_done_tasks_units_are_told() -> None:
    t = wrzesnia()
    ticket = ok(fire(t, reported(), "verify", DISPATCHER, {}, NOW)).ticket
    roads = staff("d1", "drogi:worker")
    ticket = ok(fire_task(t, ticket, "T1", "complete", roads, {}, NOW)).ticket
    outcome = ok(fire_task(t, ticket, "T2", "complete", roads, {}, NOW))
    assert outcome.ticket.state == "resolved"
    sent = [n.task for n in outcome.of_type(fx.Notify) if n.template == "ticket_resolved"]
    assert sent == [None, "T1", "T2"]


def test_the_shipped_resident_answered_reaches_the_task_unit() -> None:
    # simple_fix's `resident_answered` tells `task_unit`: each open task's unit, not nobody
    settings = Settings.from_env()
    z = compile_tenant(settings.tenants_dir / "zgierz", settings.definitions_dir)
    ticket = ok(start(z, new_ticket(z, "pothole", reporter_id=REPORTER.id, reporter_has_contact=True),
                      DISPATCHER, NOW)).ticket
    ticket = ok(fire(z, ticket, "verify", staff("b", "bom:dispatcher"), {}, NOW)).ticket
    ticket = ok(fire(z, ticket, "ask_resident", staff("b", "bom:dispatcher"), {"public_comment": "?"}, NOW)).ticket
    outcome = ok(fire(z, ticket, "resident_answered", REPORTER, {"public_comment": "Zdjęcie"}, NOW))
    (note,) = [n for n in outcome.of_type(fx.Notify) if n.template == "ticket_resident_answered"]
    assert ([str(r) for r in note.recipients], note.task) == (["task_unit"], "T1")


# -- item 7: office-wide roles at the city level ----------------------------------------------


def test_a_city_level_membership_covers_every_unit() -> None:
    t = wrzesnia()
    assert t.unit_subtree["city"] == frozenset(t.units)
    mayor = staff("burmistrz", "city:mayor")
    management = staff("sekretarz", "city:management")
    roads_head = staff("d0", "drogi:unit_head")
    pothole = ok(fire(t, reported("pothole"), "verify", DISPATCHER, {}, NOW)).ticket  # drogi (+ drogi)
    tree = ok(fire(t, reported("fallen_tree"), "verify", DISPATCHER, {}, NOW)).ticket  # zielen + drogi
    for ticket in (reported("pothole"), pothole, tree):
        assert sees_ticket(t, mayor, ticket) and sees_ticket(t, management, ticket)
        # read-only: no process lets these roles act, no task is theirs to handle
        assert allowed_actions(t, ticket, mayor, NOW) == [] == allowed_actions(t, ticket, management, NOW)
        for task in ticket.tasks:
            assert allowed_task_actions(t, ticket, task.key, mayor) == []
    caps = capabilities(t, tree, mayor, NOW)
    assert caps.sees_ticket and caps.actions == () and {c.key for c in caps.tasks} == {"T1", "T2"}
    assert caps.own_units == frozenset(t.units)
    # a unit role stays in its unit
    assert not sees_ticket(t, roads_head, reported("fallen_tree"))


def test_a_city_level_task_role_handles_every_units_tasks() -> None:
    t = wrzesnia()
    deputy = staff("zastepca", "city:unit_head")
    tree = ok(fire(t, reported("fallen_tree"), "verify", DISPATCHER, {}, NOW)).ticket
    assert {a.name for a in allowed_task_actions(t, tree, "T1", deputy)} == {"take", "complete", "delegate", "withdraw"}


def test_a_unit_may_not_be_named_city(tmp_path: Path) -> None:
    folder = tmp_path / "wrzesnia"
    folder.mkdir()
    text = (FIXTURE / "tenant.yaml").read_text(encoding="utf-8")
    (folder / "tenant.yaml").write_text(text.replace("  bom: {name:", "  city: {name: Miasto}\n  bom: {name:"),
                                        encoding="utf-8")
    compiled, errors = check_tenant(folder, Settings.from_env().definitions_dir)
    assert compiled is None
    expected = ("'city' is the whole office (the root every unit belongs to, where office-wide roles are granted: "
                "city:management); give this unit another name")
    assert [e.message for e in errors.errors] == [expected]


# -- item 9: `to: $previous` -------------------------------------------------------------------


def test_waiting_for_the_resident_returns_to_where_the_ticket_came_from() -> None:
    t = wrzesnia()
    asked = {"public_comment": "Prosimy o zdjęcie"}
    answer = {"public_comment": "W załączniku"}
    # during verification: back to verification
    waiting = ok(fire(t, reported(), "ask_resident", DISPATCHER, asked, NOW)).ticket
    assert (waiting.state, waiting.previous_state, waiting.sla_paused_at) == ("waiting_for_resident", "new", NOW)
    offered = {a.name: a.dest for a in allowed_actions(t, waiting, REPORTER, NOW)}
    assert offered == {"resident_answered": "new"}
    back = ok(fire(t, waiting, "resident_answered", REPORTER, answer, NOW))
    assert (back.ticket.state, back.ticket.previous_state) == ("new", "waiting_for_resident")
    assert back.of_type(fx.ChangeState)[0].after == "new"
    # during the work: back to the work, its tasks untouched
    working = ok(fire(t, reported(), "verify", DISPATCHER, {}, NOW)).ticket
    waiting = ok(fire(t, working, "ask_resident", DISPATCHER, asked, NOW)).ticket
    resumed = ok(fire(t, waiting, "resume", DISPATCHER, {}, NOW)).ticket
    assert resumed.state == "in_progress"
    assert [(x.key, x.state) for x in resumed.tasks] == [("T1", "open"), ("T2", "open")]


def test_the_timer_returns_too_and_nowhere_to_return_is_refused() -> None:
    t = wrzesnia()
    waiting = ok(fire(t, reported(), "ask_resident", DISPATCHER, {"public_comment": "?"}, NOW)).ticket
    fired = ok(fire_timer(t, waiting, "resume_unanswered", NOW + timedelta(days=14)))
    assert fired.ticket.state == "new"
    # a ticket that does not know where it came from (older than the column) is not moved anywhere
    lost = replace(waiting, previous_state=None)
    assert {a.name for a in allowed_actions(t, lost, DISPATCHER, NOW)} == {"mark_duplicate", "set_priority"}
    refusal = fire(t, lost, "resume", DISPATCHER, {}, NOW)
    assert isinstance(refusal, Refusal) and refusal.code == "not_available"
    assert "returns to the previous state" in refusal.message
    # nor one that came from a state the transition may not return to
    assert isinstance(fire(t, replace(waiting, previous_state="resolved"), "resume", DISPATCHER, {}, NOW), Refusal)


def test_the_graph_knows_where_previous_leads() -> None:
    process = wrzesnia().processes["checked_fix"]
    assert process.transitions["resume"].dest == "$previous"
    assert process.transitions["resume"].returns_to == ("new", "in_progress")


# -- item 3: task actions per role --------------------------------------------------------------


def test_a_role_may_take_and_complete_without_delegating_or_withdrawing() -> None:
    t = wrzesnia()
    clerk = staff("r1", "drogi:clerk")
    head = staff("d0", "drogi:unit_head")
    ticket = ok(fire(t, reported(), "verify", DISPATCHER, {}, NOW)).ticket
    assert {a.name for a in allowed_task_actions(t, ticket, "T1", clerk)} == {"take", "complete"}
    assert {a.name for a in allowed_task_actions(t, ticket, "T1", head)} == {"take", "complete", "delegate", "withdraw"}
    # the dispatcher may still hand any task over (it verifies tickets), not take it
    assert {a.name for a in allowed_task_actions(t, ticket, "T1", DISPATCHER)} == {"delegate"}
    for action, inputs in (("delegate", {"to_unit": "zielen", "reason": "nie nasze"}), ("withdraw", {"reason": "x"})):
        refusal = fire_task(t, ticket, "T1", action, clerk, inputs, NOW)
        assert isinstance(refusal, Refusal) and refusal.code == "forbidden", action
    taken = ok(fire_task(t, ticket, "T1", "take", clerk, {}, NOW)).ticket
    done = ok(fire_task(t, taken, "T1", "complete", clerk, {}, NOW)).ticket.task("T1")
    assert done is not None and done.state == "done"
    # the default stays the handles_tasks bundle
    assert t.roles["worker"].task_rights == frozenset({"take", "complete", "delegate", "withdraw"})
    assert t.roles["mayor"].task_rights == frozenset()


def test_explain_says_who_may_do_what_with_tasks() -> None:
    text = explain(wrzesnia())
    assert "  clerk: take, complete\n" in text
    assert "  unit_head: take, complete, delegate, withdraw\n" in text
    assert "  dispatcher: none; also delegates any unit's task" in text
