"""Scenario tests of issue #11's engine items over a small city (fixtures/engine3/wrzesnia) and the shipped library."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from runtime_helpers import local, new_ticket, ok, resident, staff

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime import fire, fire_task, start
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
