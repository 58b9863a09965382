"""Scenario tests of the SLAs over the shipped processes: the verify SLA, pauses in working time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from runtime_helpers import local, new_ticket, ok, resident, staff

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.runtime import Outcome, calendar_for, fire, fire_task, fire_timer, start
from komunikator.engine.runtime import effects as fx
from komunikator.engine.runtime.calendar import WorkCalendar
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


# -- item 2: SLA pauses in office time, to the minute ----------------------------------------

OFFICE = WorkCalendar.for_tenant("Europe/Warsaw")  # the default office hours, 7:30–15:30
EARLY_OFFICE = WorkCalendar.for_tenant("Europe/Warsaw", office_hours=(time(7, 0), time(15, 0)))


def test_office_time_is_counted_to_the_minute_in_the_tenants_zone() -> None:
    friday = local(2026, 11, 6, 15, 0)
    monday = local(2026, 11, 9, 9, 0)
    assert OFFICE.working_minutes_between(friday, monday) == 30 + 90
    assert EARLY_OFFICE.working_minutes_between(friday, monday) == 0 + 120
    # a pause inside one morning, a pause over a weekend alone, a pause over a holiday (11 November)
    assert OFFICE.working_minutes_between(local(2026, 11, 3, 10, 0), local(2026, 11, 3, 13, 17)) == 197
    assert OFFICE.working_minutes_between(local(2026, 11, 7, 8, 0), local(2026, 11, 8, 20, 0)) == 0
    assert OFFICE.working_minutes_between(local(2026, 11, 10, 15, 30), local(2026, 11, 12, 7, 30)) == 0
    # across the change to winter time (25 October 2026) an office day is still 8 hours
    assert OFFICE.working_minutes_between(local(2026, 10, 23, 7, 30), local(2026, 10, 26, 15, 30)) == 2 * 480
    # adding is the inverse, and office time outside the start's own hours is not counted
    assert OFFICE.add_working_minutes(local(2026, 11, 3, 10, 0), 197) == local(2026, 11, 3, 13, 17)
    assert OFFICE.add_working_minutes(local(2026, 11, 6, 17, 0), 90) == local(2026, 11, 9, 9, 0)
    assert OFFICE.add_working_minutes(local(2026, 11, 10, 15, 0), 30) == local(2026, 11, 10, 15, 30)
    assert OFFICE.add_working_minutes(local(2026, 11, 10, 15, 0), 31) == local(2026, 11, 12, 7, 31)
    assert OFFICE.add_working_minutes(friday, 0) == friday


def paused_and_resumed(paused: datetime, resumed: datetime, calendar: WorkCalendar = OFFICE) -> Outcome:
    z = city("zgierz")
    roads = staff("zdm1", "drogi:worker")
    ticket = ok(fire(z, reported(z, "pothole").ticket, "verify", DISPATCHER, {}, NOW, calendar)).ticket
    assert ticket.due_at == local(2026, 12, 21, 9, 0)  # 14 working days from Tuesday 1 December 9:00
    asked = {"public_comment": "Prosimy o zdjęcie"}
    ticket = ok(fire(z, ticket, "ask_resident", roads, asked, paused, calendar)).ticket
    return ok(fire(z, ticket, "resume", roads, {}, resumed, calendar))


def test_a_pause_of_a_few_hours_moves_the_deadlines_by_those_hours() -> None:
    outcome = paused_and_resumed(local(2026, 12, 2, 10, 0), local(2026, 12, 2, 13, 17))
    assert outcome.of_type(fx.ResumeSla)[0].working_minutes == 197
    assert outcome.ticket.due_at == local(2026, 12, 21, 12, 17)
    assert outcome.ticket.task("T1").due_at == local(2026, 12, 21, 12, 17)  # type: ignore[union-attr]


def test_a_pause_from_friday_afternoon_to_monday_morning_costs_only_office_time() -> None:
    outcome = paused_and_resumed(local(2026, 12, 4, 15, 0), local(2026, 12, 7, 9, 0))
    assert outcome.of_type(fx.ResumeSla)[0].working_minutes == 120
    assert outcome.ticket.due_at == local(2026, 12, 21, 11, 0)
    # an office that closes at 15:00 lost nothing on Friday, an hour and a half on Monday
    early = paused_and_resumed(local(2026, 12, 4, 15, 0), local(2026, 12, 7, 9, 0), EARLY_OFFICE)
    assert early.of_type(fx.ResumeSla)[0].working_minutes == 120
    after_hours = paused_and_resumed(local(2026, 12, 4, 15, 30), local(2026, 12, 7, 7, 30))
    assert after_hours.of_type(fx.ResumeSla)[0].working_minutes == 0
    assert after_hours.ticket.due_at == local(2026, 12, 21, 9, 0)
    assert after_hours.of_type(fx.SetTicketDue) == []


def test_a_deadline_near_closing_time_moves_into_the_next_working_day() -> None:
    # the deadline, Monday 21 Dec 9:00, has 6 h 30 min of office time left that day
    outcome = paused_and_resumed(local(2026, 12, 2, 8, 0), local(2026, 12, 2, 12, 30))  # 4 h 30 min
    assert outcome.ticket.due_at == local(2026, 12, 21, 13, 30)
    outcome = paused_and_resumed(local(2026, 12, 2, 7, 30), local(2026, 12, 2, 15, 0))  # 7 h 30 min
    assert outcome.ticket.due_at == local(2026, 12, 22, 8, 30)
    # three full office days: 6 h 30 min on Monday, Tuesday and Wednesday, then Christmas, then Monday 28th
    longer = paused_and_resumed(local(2026, 12, 2, 7, 30), local(2026, 12, 4, 15, 30))
    assert longer.of_type(fx.ResumeSla)[0].working_minutes == 3 * 480
    assert longer.ticket.due_at == local(2026, 12, 28, 9, 0)


def test_the_tenants_office_hours_reach_the_calendar() -> None:
    z = city("zgierz")
    calendar = calendar_for(z)
    assert (calendar.opens, calendar.closes) == (
        z.config.office_hours.opening, z.config.office_hours.closing,
    )
    assert (calendar.time_zone, calendar.opens, calendar.closes) == ("Europe/Warsaw", time(7, 30), time(15, 30))
