"""Scenario tests of the runtime over the fixture processes `quick` and `relay`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from runtime_helpers import fixture_tenant, local, new_ticket, ok, resident, staff

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

T = fixture_tenant()
DISPATCHER = staff("dispo", "office:dispatcher")
ROADS_WORKER = staff("rw", "roads:worker")
GREEN_WORKER = staff("gw", "green:worker")
CITY_HEAD = staff("head", "works:unit_head")
GREEN_HEAD = staff("ghead", "green:unit_head")
MANAGER = staff("boss", "office:management")
COMPANY_WORKER = staff("pgk", "company:worker")
EXTERNAL_DISPATCHER = staff("x", "company:dispatcher")
REPORTER = resident("res")
NOW = local(2026, 12, 1, 9, 0)


def names(actions: list) -> set[str]:
    return {a.name for a in actions}


def verified(category: str = "pothole", **extra: object):
    ticket = ok(start(T, new_ticket(T, category, reporter_id="res", **extra), DISPATCHER, NOW)).ticket
    return ok(fire(T, ticket, "verify", DISPATCHER, {}, NOW)).ticket


# -- who sees which buttons ----------------------------------------------------


def test_buttons_in_new_state_per_role() -> None:
    ticket = new_ticket(T, "pothole", reporter_id="res")
    assert names(allowed_actions(T, ticket, DISPATCHER, NOW)) == {
        "verify", "reject", "reclassify", "mark_duplicate", "set_priority",
    }
    for user in (ROADS_WORKER, CITY_HEAD, MANAGER, REPORTER, COMPANY_WORKER, EXTERNAL_DISPATCHER):
        assert allowed_actions(T, ticket, user, NOW) == [], user.id


def test_buttons_in_progress_depend_on_task_unit() -> None:
    ticket = verified()
    assert names(allowed_actions(T, ticket, ROADS_WORKER, NOW)) == {"ask_resident"}
    assert names(allowed_actions(T, ticket, GREEN_WORKER, NOW)) == set()
    assert names(allowed_actions(T, ticket, DISPATCHER, NOW)) == {
        "ask_resident", "reject", "mark_duplicate", "set_priority",
    }  # no reclassify outside the entry state
    assert names(allowed_task_actions(T, ticket, "T1", ROADS_WORKER)) == {"take", "complete", "delegate", "withdraw"}
    assert names(allowed_task_actions(T, ticket, "T1", GREEN_WORKER)) == set()
    assert names(allowed_task_actions(T, ticket, "T1", DISPATCHER)) == {"delegate"}
    assert names(allowed_task_actions(T, ticket, "T1", MANAGER)) == set()


def test_reporter_resumes_waiting_ticket() -> None:
    ticket = ok(fire(T, verified(), "ask_resident", ROADS_WORKER, {"public_comment": "Proszę o zdjęcie"}, NOW)).ticket
    assert ticket.state == "waiting"
    assert names(allowed_actions(T, ticket, REPORTER, NOW)) == {"resume"}
    assert names(allowed_actions(T, ticket, resident("someone_else"), NOW)) == set()


def test_unit_head_of_parent_unit_may_reopen() -> None:
    ticket = ok(fire_task(T, verified(), "T1", "complete", ROADS_WORKER, {}, NOW)).ticket
    assert ticket.state == "resolved"
    later = NOW + timedelta(days=3)
    assert "reopen" in names(allowed_actions(T, ticket, CITY_HEAD, later))  # city is roads' parent
    assert "reopen" not in names(allowed_actions(T, ticket, GREEN_HEAD, later))


# -- refusals ------------------------------------------------------------------


def test_refusals_are_precise() -> None:
    ticket = new_ticket(T, "pothole")
    refusal = fire(T, ticket, "verify", ROADS_WORKER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "forbidden"
    assert "dispatcher" in refusal.message
    refusal = fire(T, ticket, "reject", DISPATCHER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.field) == ("missing_input", "public_comment")
    refusal = fire(T, ticket, "fly", DISPATCHER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "unknown_action"
    refusal = fire(T, ticket, "resolve", DISPATCHER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_available"
    refusal = fire(T, ticket, "resume", DISPATCHER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_available"


# -- parallel and sequential units ---------------------------------------------


def test_parallel_then_sequence_with_external_units() -> None:
    ticket = verified("wreck")
    assert ticket.state == "parallel"
    assert [(t.key, t.unit, t.step) for t in ticket.tasks] == [("T1", "roads", 1), ("T2", "guard", 1)]
    # the company does not see the ticket until a task is addressed to it
    assert not sees_ticket(T, COMPANY_WORKER, ticket)
    ticket = ok(fire_task(T, ticket, "T1", "complete", ROADS_WORKER, {}, NOW)).ticket
    assert ticket.state == "parallel"  # the guard's task is still open
    # the guard has no accounts: the dispatcher records its outcome
    assert names(allowed_task_actions(T, ticket, "T2", DISPATCHER)) == {"complete", "delegate", "withdraw"}
    outcome = ok(fire_task(T, ticket, "T2", "complete", DISPATCHER, {"comment": "SM potwierdza"}, NOW))
    ticket = outcome.ticket
    assert ticket.state == "repair"
    created = outcome.of_type(fx.CreateTask)
    assert [(c.key, c.unit, c.step) for c in created] == [("T3", "company", 2)]
    assert sees_ticket(T, COMPANY_WORKER, ticket)
    assert names(allowed_actions(T, ticket, EXTERNAL_DISPATCHER, NOW)) == set()
    ticket = ok(fire_task(T, ticket, "T3", "complete", COMPANY_WORKER, {}, NOW)).ticket
    assert ticket.state == "done"
    assert ticket.closed_at == NOW


def test_delegation_keeps_the_task_and_records_the_hop() -> None:
    ticket = verified()
    missing = fire_task(T, ticket, "T1", "delegate", ROADS_WORKER, {"to_unit": "green"}, NOW)
    assert isinstance(missing, Refusal)
    assert missing.field == "reason"
    outcome = ok(fire_task(T, ticket, "T1", "delegate", ROADS_WORKER, {"to_unit": "green", "reason": "to drzewo"}, NOW))
    (update,) = outcome.of_type(fx.UpdateTask)
    assert (update.key, update.unit, update.from_unit, update.reason) == ("T1", "green", "roads", "to drzewo")
    assert [n.event for n in outcome.of_type(fx.Notify)] == ["task_assigned"]
    ticket = outcome.ticket
    assert len(ticket.tasks) == 1
    assert names(allowed_task_actions(T, ticket, "T1", ROADS_WORKER)) == set()
    ticket = ok(fire_task(T, ticket, "T1", "complete", GREEN_WORKER, {}, NOW)).ticket
    assert ticket.state == "resolved"


def test_delegation_to_a_person_and_to_an_unknown_unit() -> None:
    ticket = verified()
    bad = fire_task(T, ticket, "T1", "delegate", ROADS_WORKER, {"to_unit": "zgierz_roads", "reason": "x"}, NOW)
    assert isinstance(bad, Refusal)
    assert bad.code == "invalid_input"
    colleague = staff("rw2", "roads:worker")
    outcome = ok(fire_task(T, ticket, "T1", "delegate", ROADS_WORKER, {"to_user": colleague, "reason": "urlop"}, NOW))
    assert outcome.ticket.task("T1").assignee == "rw2"  # type: ignore[union-attr]


def test_withdrawal_sends_the_ticket_back_and_cancels_the_step() -> None:
    ticket = verified("wreck")
    outcome = ok(fire_task(T, ticket, "T2", "withdraw", DISPATCHER, {"reason": "nie nasza sprawa"}, NOW))
    ticket = outcome.ticket
    assert ticket.state == "new"
    states = {t.key: t.state for t in ticket.tasks}
    assert states == {"T1": "cancelled", "T2": "withdrawn"}
    # verified again: a new step whose tasks alone count
    ticket = ok(fire(T, ticket, "verify", DISPATCHER, {}, NOW)).ticket
    assert [(t.key, t.step) for t in ticket.current_tasks()] == [("T3", 2), ("T4", 2)]
    ticket = ok(fire_task(T, ticket, "T3", "complete", ROADS_WORKER, {}, NOW)).ticket
    ticket = ok(fire_task(T, ticket, "T4", "complete", DISPATCHER, {}, NOW)).ticket
    assert ticket.state == "repair"


def test_withdraw_needs_a_reason() -> None:
    refusal = fire_task(T, verified(), "T1", "withdraw", ROADS_WORKER, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "missing_input"


# -- reclassification ------------------------------------------------------------


def test_reclassify_within_one_process() -> None:
    ticket = new_ticket(T, "pothole")
    outcome = ok(fire(T, ticket, "reclassify", DISPATCHER, {"category": "tree"}, NOW))
    assert (outcome.ticket.category, outcome.ticket.responsible_unit, outcome.ticket.state) == ("tree", "green", "new")
    ticket = ok(fire(T, outcome.ticket, "verify", DISPATCHER, {}, NOW)).ticket
    assert ticket.tasks[0].unit == "green"


def test_reclassify_across_processes_restarts_at_the_entry() -> None:
    ticket = new_ticket(T, "pothole")
    outcome = ok(fire(T, ticket, "reclassify", DISPATCHER, {"category": "wreck"}, NOW))
    assert (outcome.ticket.process, outcome.ticket.state) == ("relay", "new")
    assert outcome.of_type(fx.ClearTimers) == [fx.ClearTimers("new")]
    (audit,) = outcome.of_type(fx.Audit)
    assert audit.before["process"] == "quick"
    assert audit.after["process"] == "relay"


def test_reclassify_only_where_allowed() -> None:
    refusal = fire(T, verified(), "reclassify", DISPATCHER, {"category": "tree"}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_available"
    refusal = fire(T, new_ticket(T, "pothole"), "reclassify", DISPATCHER, {"category": "nope"}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "invalid_input"


# -- duplicates, reopen ------------------------------------------------------------


def test_mark_duplicate_closes_and_merges() -> None:
    outcome = ok(fire(T, verified(id="7"), "mark_duplicate", DISPATCHER, {"duplicate_of": "3"}, NOW))
    assert outcome.ticket.state == "duplicate"
    assert outcome.ticket.duplicate_of == "3"
    assert outcome.of_type(fx.MergeInto) == [fx.MergeInto("3")]
    assert [t.state for t in outcome.ticket.tasks] == ["cancelled"]
    again = fire(T, outcome.ticket, "mark_duplicate", DISPATCHER, {"duplicate_of": "4"}, NOW)
    assert isinstance(again, Refusal)
    itself = fire(T, new_ticket(T, "pothole", id="7"), "mark_duplicate", DISPATCHER, {"duplicate_of": "7"}, NOW)
    assert isinstance(itself, Refusal)
    assert itself.code == "invalid_input"


def test_reopen_within_30_days_only() -> None:
    resolved = ok(fire_task(T, verified(), "T1", "complete", ROADS_WORKER, {}, NOW)).ticket
    late = fire(T, resolved, "reopen", DISPATCHER, {"public_comment": "znowu"}, NOW + timedelta(days=31))
    assert isinstance(late, Refusal)
    assert late.code == "condition_failed"
    outcome = ok(fire(T, resolved, "reopen", DISPATCHER, {"public_comment": "znowu"}, NOW + timedelta(days=29)))
    assert outcome.ticket.state == "in_progress"
    assert outcome.ticket.closed_at is None
    assert [(t.key, t.step, t.state) for t in outcome.ticket.current_tasks()] == [("T2", 2, "open")]


# -- deadlines, holidays, SLA pauses, timers --------------------------------------------


def test_due_dates_across_christmas_and_new_year() -> None:
    at = local(2026, 12, 22, 10, 0)
    ticket = ok(fire(T, new_ticket(T, "pothole"), "verify", DISPATCHER, {}, at)).ticket
    # 10 working days: 23, 28, 29, 30, 31 Dec; 4, 5, 7, 8, 11 Jan (24–26 Dec, 1 and 6 Jan are holidays)
    assert ticket.due_at == local(2027, 1, 11, 10, 0)
    urgent = ok(fire(T, new_ticket(T, "pothole", priority="urgent"), "verify", DISPATCHER, {}, at)).ticket
    assert urgent.due_at == local(2026, 12, 28, 10, 0)


def test_tenant_replacement_day_off_for_saturday_holiday() -> None:
    # 15 Aug 2026 is a Saturday; Testowo takes Friday 14 Aug off instead.
    outcome = ok(start(T, new_ticket(T, "pothole"), DISPATCHER, local(2026, 8, 13, 12, 0)))
    (timer,) = outcome.of_type(fx.SetTimer)
    assert timer.at == local(2026, 8, 17, 12, 0)


def test_sla_pause_moves_deadlines() -> None:
    at = local(2026, 11, 2, 10, 0)  # Monday
    ticket = ok(fire(T, new_ticket(T, "tree"), "verify", DISPATCHER, {}, at)).ticket
    assert ticket.due_at == local(2026, 11, 9, 10, 0)  # 5 working days
    ticket = ok(fire(T, ticket, "ask_resident", DISPATCHER, {"public_comment": "?"}, local(2026, 11, 3, 10, 0))).ticket
    assert ticket.sla_paused_at is not None
    outcome = ok(fire(T, ticket, "resume", DISPATCHER, {}, local(2026, 11, 6, 10, 0)))  # paused Tue → Fri: 3 days
    assert outcome.ticket.due_at == local(2026, 11, 13, 10, 0)
    assert outcome.ticket.task("T1").due_at == local(2026, 11, 13, 10, 0)  # type: ignore[union-attr]
    assert outcome.of_type(fx.ResumeSla)[0].working_minutes == 3 * 8 * 60  # three whole office days


def test_timers_are_armed_cleared_and_fired() -> None:
    ticket = verified("wreck")
    ticket = ok(fire_task(T, ticket, "T1", "complete", ROADS_WORKER, {}, NOW)).ticket
    outcome = ok(fire_task(T, ticket, "T2", "complete", DISPATCHER, {}, NOW))
    (timer,) = outcome.of_type(fx.SetTimer)
    assert (timer.name, timer.state) == ("give_up", "repair")
    fired = ok(fire_timer(T, outcome.ticket, timer.name, timer.at))
    assert fired.ticket.state == "done"
    assert [a.actor for a in fired.of_type(fx.Audit)] == ["system"]
    stale = fire_timer(T, fired.ticket, timer.name, timer.at)
    assert isinstance(stale, Refusal)
    assert stale.code == "stale_timer"


def test_notification_rules_follow_public_status() -> None:
    ticket = verified()
    outcome = ok(fire_task(T, ticket, "T1", "complete", ROADS_WORKER, {}, NOW))
    notes = [(n.template, n.event, n.channels) for n in outcome.of_type(fx.Notify)]
    assert notes == [("status", "ticket_public_status_changed", ("email", "push"))]


@pytest.mark.parametrize("user", [MANAGER, DISPATCHER])
def test_all_seeing_roles_see_everything(user) -> None:
    assert sees_ticket(T, user, new_ticket(T, "pothole"))


def test_unit_roles_see_their_units_tickets() -> None:
    ticket = verified()
    assert sees_ticket(T, ROADS_WORKER, ticket)
    assert sees_ticket(T, CITY_HEAD, ticket)
    assert not sees_ticket(T, GREEN_WORKER, ticket)
    assert sees_ticket(T, REPORTER, ticket)
    assert not sees_ticket(T, resident("other"), ticket)
