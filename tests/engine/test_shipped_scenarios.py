"""Scenario tests over the shipped processes, as the demo cities configure them."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from runtime_helpers import local, new_ticket, ok, resident, staff

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.runtime import Refusal, allowed_actions, allowed_task_actions, fire, fire_task, start
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.settings import Settings

NOW = local(2026, 12, 1, 9, 0)
DISPATCHER = staff("bom1", "bom:dispatcher")
ROADS = staff("zdm1", "drogi:worker")
ROADS_HEAD = staff("zdm0", "drogi:unit_head")
GREEN = staff("zie1", "zielen:worker")
DEPT_HEAD = staff("gk0", "gospodarka_komunalna:unit_head")
ENV = staff("os1", "srodowisko:worker")
PGK = staff("pgk1", "pgk:external")
MANAGER = staff("prez", "bom:management")
REPORTER = resident("mieszkaniec")


@cache
def city(slug: str) -> CompiledTenant:
    settings = Settings.from_env()
    return compile_tenant(settings.tenants_dir / slug, settings.definitions_dir)


def names(actions: list) -> set[str]:
    return {a.name for a in actions}


def submitted(tenant: CompiledTenant, category: str):
    ticket = new_ticket(tenant, category, reporter_id=REPORTER.id, reporter_has_contact=True)
    return ok(start(tenant, ticket, DISPATCHER, NOW)).ticket


def test_simple_fix_buttons_per_role_and_state() -> None:
    z = city("zgierz")
    ticket = submitted(z, "pothole")
    assert names(allowed_actions(z, ticket, DISPATCHER, NOW)) == {
        "verify", "reject", "reclassify", "mark_duplicate", "set_priority",
    }
    for user in (ROADS, ROADS_HEAD, MANAGER, PGK, REPORTER):
        assert names(allowed_actions(z, ticket, user, NOW)) == set(), user.id
    ticket = ok(fire(z, ticket, "verify", DISPATCHER, {}, NOW)).ticket
    assert names(allowed_actions(z, ticket, ROADS, NOW)) == {"ask_resident", "resume"} - {"resume"}
    assert names(allowed_actions(z, ticket, ROADS_HEAD, NOW)) == {"ask_resident"}
    assert names(allowed_actions(z, ticket, GREEN, NOW)) == set()
    assert names(allowed_task_actions(z, ticket, "T1", ROADS)) == {"take", "complete", "delegate", "withdraw"}
    assert names(allowed_task_actions(z, ticket, "T1", PGK)) == set()
    assert sees_ticket(z, ROADS, ticket)
    assert not sees_ticket(z, GREEN, ticket)
    assert not sees_ticket(z, PGK, ticket)


def test_simple_fix_full_story_with_pause_delegation_and_reopen() -> None:
    z = city("zgierz")
    ticket = ok(fire(z, submitted(z, "pothole"), "verify", DISPATCHER, {}, NOW)).ticket
    ticket = ok(fire(z, ticket, "ask_resident", ROADS, {"public_comment": "Prosimy o zdjęcie"}, NOW)).ticket
    assert ticket.state == "waiting_for_resident"
    assert names(allowed_actions(z, ticket, REPORTER, NOW)) == {"resident_answered"}
    later = NOW + timedelta(days=2)
    answer = {"public_comment": "Zdjęcie w załączniku"}
    ticket = ok(fire(z, ticket, "resident_answered", REPORTER, answer, later)).ticket
    assert ticket.state == "in_progress"
    ticket = ok(fire_task(z, ticket, "T1", "take", ROADS, {}, later)).ticket
    outcome = ok(fire_task(z, ticket, "T1", "delegate", ROADS, {"to_unit": "inwestycje", "reason": "remont"}, later))
    ticket = outcome.ticket
    assert ticket.task("T1").unit == "inwestycje"  # type: ignore[union-attr]
    investor = staff("inw1", "inwestycje:worker")
    ticket = ok(fire_task(z, ticket, "T1", "complete", investor, {}, later)).ticket
    assert ticket.state == "resolved"
    reopen = {"public_comment": "Dziura wróciła"}
    reopened = ok(fire(z, ticket, "reopen", DISPATCHER, reopen, later + timedelta(days=5)))
    assert reopened.ticket.state == "in_progress"
    assert [t.unit for t in reopened.ticket.current_tasks()] == ["drogi"]


def test_multi_unit_parallel_then_acceptance() -> None:
    z = city("zgierz")
    ticket = ok(fire(z, submitted(z, "fallen_tree"), "verify", DISPATCHER, {}, NOW)).ticket
    assert sorted(t.unit for t in ticket.current_tasks()) == ["pgk", "zielen"]
    assert sees_ticket(z, PGK, ticket)
    ticket = ok(fire_task(z, ticket, "T2", "complete", PGK, {}, NOW)).ticket
    assert ticket.state == "in_progress"
    outcome = ok(fire_task(z, ticket, "T1", "complete", GREEN, {}, NOW))
    ticket = outcome.ticket
    assert ticket.state == "acceptance"
    (acceptance,) = ticket.current_tasks()
    assert (acceptance.unit, acceptance.step) == ("zielen", 2)
    # the head of the parent department may accept the work of its section
    ticket = ok(fire_task(z, ticket, acceptance.key, "complete", DEPT_HEAD, {}, NOW)).ticket
    assert ticket.state == "resolved"


def test_dumping_three_units_city_guard_by_email() -> None:
    z = city("zgierz")
    outcome = ok(fire(z, submitted(z, "illegal_dumping"), "verify", DISPATCHER, {}, NOW))
    ticket = outcome.ticket
    units = {t.unit: t.key for t in ticket.current_tasks()}
    assert set(units) == {"srodowisko", "straz_miejska", "pgk"}
    # the guard has no accounts: the task goes to its e-mail, the dispatcher records the result
    guard = units["straz_miejska"]
    assert names(allowed_task_actions(z, ticket, guard, DISPATCHER)) == {"complete", "delegate", "withdraw"}
    for key, user in ((units["srodowisko"], ENV), (guard, DISPATCHER), (units["pgk"], PGK)):
        ticket = ok(fire_task(z, ticket, key, "complete", user, {}, NOW)).ticket
    assert ticket.state == "acceptance"


def test_withdrawal_in_multi_unit_returns_to_dispatcher() -> None:
    z = city("zgierz")
    ticket = ok(fire(z, submitted(z, "fallen_tree"), "verify", DISPATCHER, {}, NOW)).ticket
    outcome = ok(fire_task(z, ticket, "T2", "withdraw", PGK, {"reason": "Teren prywatny"}, NOW))
    assert outcome.ticket.state == "new"
    assert {t.key: t.state for t in outcome.ticket.tasks} == {"T1": "cancelled", "T2": "withdrawn"}
    assert "verify" in names(allowed_actions(z, outcome.ticket, DISPATCHER, NOW))


def test_reclassification_and_duplicates_in_shipped_processes() -> None:
    z = city("zgierz")
    ticket = submitted(z, "pothole")
    moved = ok(fire(z, ticket, "reclassify", DISPATCHER, {"category": "fallen_tree"}, NOW)).ticket
    assert (moved.process, moved.responsible_unit, moved.state) == ("multi_unit", "zielen", "new")
    dup = ok(fire(z, moved, "mark_duplicate", DISPATCHER, {"duplicate_of": "ZG-2026-000001"}, NOW))
    assert dup.ticket.state == "duplicate"
    assert dup.of_type(fx.MergeInto) == [fx.MergeInto("ZG-2026-000001")]


def test_nieporet_short_process_only() -> None:
    n = city("nieporet")
    assert set(n.processes) == {"simple_fix"}
    assert {c.process for c in n.categories.values()} == {"simple_fix"}
    office = next(iter(n.units))
    dispatcher = staff("ug1", f"{office}:dispatcher")
    ticket = ok(start(n, new_ticket(n, "pothole", reporter_id="r"), dispatcher, NOW)).ticket
    ticket = ok(fire(n, ticket, "verify", dispatcher, {}, NOW)).ticket
    assert ticket.state == "in_progress"
    refusal = fire(n, ticket, "reopen", dispatcher, {"public_comment": "x"}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_available"
