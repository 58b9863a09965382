"""Timers and SLA escalations with a controllable clock (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from jobs_helpers import SmtpSink, act, bare_ticket, registry, scope_of, staff, submit, zgierz

from komunikator.engine.delivery.channels import SmtpChannel, SmtpSettings
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.store.models import Timer
from komunikator.engine.timers import escalate_overdue, fire_due_timers, overdue

pytestmark = pytest.mark.anyio

# Friday 6 November 2026, 14:00 in Zgierz (CET, UTC+1). Wednesday 11 November is a public holiday.
FRIDAY_2PM = datetime(2026, 11, 6, 13, 0, tzinfo=UTC)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


async def test_task_due_over_a_weekend_and_a_holiday_escalates_on_the_right_working_day(
    db: str, sink: SmtpSink
) -> None:
    scope = await scope_of()
    dispatcher = await staff(scope, "anna@zgierz.example.pl", "bom:dispatcher")
    await staff(scope, "piotr@zgierz.example.pl", "drogi:worker")
    await staff(scope, "marek@zgierz.example.pl", "drogi:unit_head")
    ticket = await submit(scope, FRIDAY_2PM - timedelta(hours=1))
    await act(scope, ticket.number, "set_priority", dispatcher, FRIDAY_2PM, priority="high")
    await act(scope, ticket.number, "verify", dispatcher, FRIDAY_2PM)

    # high priority: 5 business days from Friday 14:00 — Mon 9, Tue 10, (Wed 11 holiday), Thu 12, Fri 13,
    # (weekend), Mon 16 at 14:00 local time
    due = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)
    task = await scope.tasks().get(ticket_id=ticket.id, key="T1")
    assert task.due_at == due
    assert (await scope.get_ticket(ticket.number)).due_at == due

    for before in (
        datetime(2026, 11, 13, 13, 0, tzinfo=UTC),  # where a calendar ignoring the holiday would put it
        datetime(2026, 11, 15, 23, 0, tzinfo=UTC),  # already Monday in Zgierz, but only 00:00
        due - timedelta(minutes=1),
    ):
        assert await fire_due_timers(registry(), now=before) == 0, before
        assert await overdue(scope, before) == []
    assert not await scope.outbox().filter(kind__in=("task_overdue", "ticket_overdue")).exists()

    assert await fire_due_timers(registry(), now=due) == 2
    items = await overdue(scope, due)
    assert [(i.kind, i.task, i.due_at) for i in items] == [("ticket", None, due), ("task", "T1", due)]
    rows = await scope.outbox().filter(kind__in=("task_overdue", "ticket_overdue")).order_by("kind")
    assert [(r.kind, r.payload["recipients"], r.payload["task"]) for r in rows] == [
        ("task_overdue", ["task_unit", "role:unit_head@responsible_unit"], "T1"),
        ("ticket_overdue", ["role:unit_head@responsible_unit"], None),
    ]
    assert rows[0].dedupe_key.startswith(f"{ticket.number}:task:T1:overdue:2026-11-16T13:00:00+00:00")
    history = await scope.audit_events().filter(ticket_id=ticket.id, action__in=("task_overdue", "ticket_overdue"))
    assert len(history) == 2

    # re-runs (and another worker) send nothing again
    assert await fire_due_timers(registry(), now=due + timedelta(minutes=5)) == 0
    assert await fire_due_timers(registry(), now=due + timedelta(days=3)) == 0
    assert await scope.outbox().filter(kind__in=("task_overdue", "ticket_overdue")).count() == 2

    # and the escalations render and go out: the unit's people, and its head
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=sink.port))
    try:
        report = await deliver_pending(registry(), now=due, channels={"email": channel})
    finally:
        await channel.aclose()
    assert report.failed == 0
    task_mail = [m for m in sink.messages if m.subject.startswith("Zadanie po terminie")]
    ticket_mail = [m for m in sink.messages if m.subject.startswith("Przekroczony termin")]
    assert sorted(a for m in task_mail for a in m.to) == ["marek@zgierz.example.pl", "piotr@zgierz.example.pl"]
    assert [m.to for m in ticket_mail] == [("marek@zgierz.example.pl",)]
    assert ticket.number in task_mail[0].subject
    assert "16 listopada 2026, 14:00" in task_mail[0].body


async def test_paused_sla_does_not_escalate_and_the_fire_timer_resumes_the_ticket(db: str) -> None:
    scope = await scope_of()
    dispatcher = await staff(scope, "anna@zgierz.example.pl", "bom:dispatcher")
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ticket = await submit(scope, monday)
    await act(scope, ticket.number, "verify", dispatcher, monday)
    asked = monday + timedelta(hours=1)
    await act(scope, ticket.number, "ask_resident", dispatcher, asked, public_comment="Which side of the street?")
    ticket = await scope.get_ticket(ticket.number)
    assert ticket.state == "waiting_for_resident" and ticket.sla_paused_at == asked
    due = ticket.due_at
    assert due is not None

    # long past the deadline, but the clock is stopped: nothing is overdue, nothing escalates
    late = due + timedelta(days=2)
    assert await overdue(scope, late) == []
    assert await escalate_overdue(scope, zgierz(), now=late) == 0

    # the reporter never answers: 14 days later the `fire: resume` timer moves the ticket on
    timer = await scope.timers().get(ticket_id=ticket.id, state="waiting_for_resident")
    assert timer.fire_at == asked + timedelta(days=14)
    assert await fire_due_timers(registry(), now=timer.fire_at - timedelta(seconds=1)) == 0
    assert await fire_due_timers(registry(), now=timer.fire_at) == 1
    ticket = await scope.get_ticket(ticket.number)
    assert ticket.state == "in_progress" and ticket.sla_paused_at is None
    assert (await scope.timers().get(id=timer.id)).status == "fired"
    assert await scope.audit_events().filter(ticket_id=ticket.id, action="resume", actor_kind="system").exists()
    # 2–16 November: 9 working days paused (the 11th is a holiday) move the deadline by as many
    new_due = ticket.due_at
    assert new_due is not None and new_due > due
    assert (new_due - due).days >= 9
    assert await fire_due_timers(registry(), now=timer.fire_at + timedelta(hours=1)) == 0  # fired once

    assert await fire_due_timers(registry(), now=new_due - timedelta(minutes=1)) == 0
    assert await fire_due_timers(registry(), now=new_due) == 2  # the ticket and its task


async def test_a_due_timer_fires_once_on_the_next_working_day_even_with_two_runs_at_once(db: str) -> None:
    scope = await scope_of()
    ticket = await submit(scope, FRIDAY_2PM)
    timer = await scope.timers().get(ticket_id=ticket.id, state="new")
    monday_2pm = datetime(2026, 11, 9, 13, 0, tzinfo=UTC)  # 1 business day after Friday 14:00
    assert timer.fire_at == monday_2pm

    assert await fire_due_timers(registry(), now=monday_2pm - timedelta(seconds=1)) == 0
    fired = await asyncio.gather(fire_due_timers(registry(), now=monday_2pm),
                                 fire_due_timers(registry(), now=monday_2pm))
    # the reminder, and the escalation of the report nobody verified within its verify SLA (the same moment):
    # each fires once, whichever run claims it (one run may take both, or each run one)
    assert sum(fired) == 2
    assert (await scope.timers().get(id=timer.id)).status == "fired"
    waiting = await scope.outbox().filter(kind="ticket_waiting")
    assert [r.payload["recipients"] for r in waiting] == [["role:dispatcher"]]
    assert await scope.outbox().filter(kind="ticket_overdue").count() == 1
    assert (await scope.get_ticket(ticket.number)).state == "new"  # a notify-only timer moves nothing


async def test_a_timer_whose_ticket_left_the_state_is_cancelled(db: str) -> None:
    scope = await scope_of()
    ticket = await bare_ticket(scope, "ZG-2026-000001", FRIDAY_2PM, "jan@example.pl")
    # `resume_unanswered` watches `waiting_for_resident`; the ticket is in `new`
    timer = await scope.create(Timer, ticket_id=ticket.id, timer_name="resume_unanswered", state="waiting_for_resident",
                               fire_at=FRIDAY_2PM)
    assert await fire_due_timers(registry(), now=FRIDAY_2PM) == 0
    timer = await scope.timers().get(id=timer.id)
    assert timer.status == "cancelled" and timer.cancelled_at == FRIDAY_2PM
    assert (await scope.get_ticket(ticket.number)).version == ticket.version
