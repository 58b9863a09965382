"""Scenario tests of the SLAs over the shipped processes: the verify SLA, pauses in working time."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from runtime_helpers import local, new_ticket, ok, resident, staff

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.runtime import Outcome, fire, fire_task, fire_timer, start
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.overdue import own_deadline_passed, ticket_overdue
from komunikator.engine.settings import Settings

NOW = local(2026, 12, 1, 9, 0)  # a Tuesday
DISPATCHER = staff("bom1", "bom:dispatcher")
REPORTER = resident("mieszkaniec")


@cache
def city(slug: str) -> CompiledTenant:
    settings = Settings.from_env()
    return compile_tenant(settings.tenants_dir / slug, settings.definitions_dir)


def reported(tenant: CompiledTenant, category: str, at: datetime = NOW, **extra: object) -> Outcome:
    ticket = new_ticket(tenant, category, reporter_id=REPORTER.id, reporter_has_contact=True, **extra)
    return ok(start(tenant, ticket, DISPATCHER, at))


# -- item 1: the verify SLA ---------------------------------------------------------------


def test_a_new_report_is_due_by_its_categorys_verify_sla() -> None:
    z = city("zgierz")
    assert str(z.categories["manhole_cover"].sla("verify")) == "2 hours"
    outcome = reported(z, "manhole_cover")
    ticket = outcome.ticket
    assert ticket.due_at == NOW + timedelta(hours=2)
    assert outcome.of_type(fx.SetTicketDue) == [fx.SetTicketDue(NOW + timedelta(hours=2))]
    # the dispatcher's reminder waits exactly as long
    (timer,) = outcome.of_type(fx.SetTimer)
    assert (timer.name, timer.at) == ("remind_dispatcher", NOW + timedelta(hours=2))
    # overdue at the very moment, not a minute before
    assert not own_deadline_passed(ticket, NOW + timedelta(hours=2) - timedelta(minutes=1))
    assert own_deadline_passed(ticket, NOW + timedelta(hours=2))
    assert ticket_overdue(ticket, NOW + timedelta(hours=3))
    # a pothole's verify SLA is a working day: Tuesday 9:00 → Wednesday 9:00
    assert reported(z, "pothole").ticket.due_at == local(2026, 12, 2, 9, 0)


def test_verification_replaces_the_verify_deadline_with_the_resolve_sla() -> None:
    z = city("zgierz")
    ticket = reported(z, "pothole").ticket
    later = NOW + timedelta(hours=1)
    outcome = ok(fire(z, ticket, "verify", DISPATCHER, {}, later))
    assert outcome.ticket.due_at == local(2026, 12, 21, 10, 0)  # 14 working days from Tue 1 Dec 10:00
    assert outcome.of_type(fx.ClearTimers) == [fx.ClearTimers("new")]


def test_a_process_that_sets_no_deadline_on_verifying_leaves_none_behind() -> None:
    # Zgierz's dumping_cleanup verifies without `set_due`: the verify deadline ends with `new`
    z = city("zgierz")
    ticket = reported(z, "illegal_dumping").ticket
    assert ticket.due_at is not None
    verified = ok(fire(z, ticket, "verify", DISPATCHER, {}, NOW)).ticket
    assert verified.due_at is None
    assert not own_deadline_passed(verified, NOW + timedelta(days=60))


def test_a_withdrawn_task_restarts_the_verify_clock() -> None:
    z = city("zgierz")
    ticket = ok(fire(z, reported(z, "fallen_tree").ticket, "verify", DISPATCHER, {}, NOW)).ticket
    later = NOW + timedelta(days=1)
    pgk = staff("pgk1", "pgk:external")
    back = ok(fire_task(z, ticket, "T2", "withdraw", pgk, {"reason": "Teren prywatny"}, later)).ticket
    assert back.state == "new"
    assert back.due_at == later + timedelta(hours=2)  # fallen_tree: verify within 2 hours


def test_the_reminder_fires_after_the_verify_sla() -> None:
    z = city("zgierz")
    outcome = reported(z, "night_noise")  # verify: 1 hour
    (timer,) = outcome.of_type(fx.SetTimer)
    assert timer.at == NOW + timedelta(hours=1)
    fired = ok(fire_timer(z, outcome.ticket, timer.name, timer.at))
    notes = fired.of_type(fx.Notify)
    sent = [(n.template, tuple(str(r) for r in n.recipients)) for n in notes]
    assert sent == [("ticket_waiting", ("role:dispatcher",))]
