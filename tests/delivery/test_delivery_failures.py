"""SMTP down, deferring (4xx) or refusing (5xx): rows wait, back off, give up or go out once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from delivery_helpers import NOW, SmtpSink, add_row, free_port, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import DeliverySettings, deliver_pending
from komunikator.engine.service import accounts
from komunikator.engine.store.scope import TenantScope

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]
SETTINGS = DeliverySettings(max_attempts=3, backoff_base=timedelta(minutes=1), backoff_cap=timedelta(minutes=10))


async def _email_row_only(scope: TenantScope, tenant: CompiledTenant) -> int:
    ticket = await submit_report(scope, tenant)
    await scope.outbox().filter(ticket_id=ticket.id, channel="inbox").delete()
    return (await scope.outbox().get(ticket_id=ticket.id)).id


async def test_smtp_down_keeps_rows_pending_then_they_go_out_once_when_it_returns(zgierz: Zgierz) -> None:
    scope, tenant = zgierz
    row_id = await _email_row_only(scope, tenant)
    sink = SmtpSink(free_port())  # not started: nothing listens there
    channels = sink.channels()
    now = NOW
    for attempt in range(1, 6):  # more failures than max_attempts: an outage never gives a row up
        report = await deliver_pending(registry(), now=now, channels=channels, settings=SETTINGS)
        assert (report.claimed, report.retried, report.failed) == (1, 1, 0)
        row = await scope.outbox().get(id=row_id)
        assert (row.status, row.attempts, row.claimed_until) == ("pending", attempt, None)
        assert "SMTP 127.0.0.1" in (row.last_error or "")
        assert row.next_attempt_at == now + SETTINGS.backoff(attempt)
        # backing off: not due a second before the next attempt
        wait = row.next_attempt_at - now
        assert (await deliver_pending(registry(), now=now + wait - timedelta(seconds=1), channels=channels,
                                      settings=SETTINGS)).claimed == 0
        now = row.next_attempt_at
    assert SETTINGS.backoff(5) == timedelta(minutes=10)  # capped

    sink.start()
    try:
        report = await deliver_pending(registry(), now=now, channels=channels, settings=SETTINGS)
        assert (report.sent, report.messages) == (1, 1)
        again = await deliver_pending(registry(), now=now + timedelta(days=1), channels=channels, settings=SETTINGS)
        assert again.claimed == 0
        await close_channels(channels)
        assert len(sink.wait_for(1)) == 1
        row = await scope.outbox().get(id=row_id)
        assert (row.status, row.sent_at) == ("sent", now)
    finally:
        sink.stop()


async def test_a_4xx_answer_is_temporary_and_gives_up_after_max_attempts(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    row_id = await _email_row_only(scope, tenant)
    sink.handler.reply = "451 4.3.0 Mailbox busy, try later"
    channels = sink.channels()
    now = NOW
    for attempt in (1, 2):
        report = await deliver_pending(registry(), now=now, channels=channels, settings=SETTINGS)
        assert (report.retried, report.failed) == (1, 0)
        row = await scope.outbox().get(id=row_id)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert "451" in (row.last_error or "")
        assert row.next_attempt_at is not None
        now = row.next_attempt_at
    report = await deliver_pending(registry(), now=now, channels=channels, settings=SETTINGS)
    await close_channels(channels)
    assert (report.retried, report.failed) == (0, 1)
    row = await scope.outbox().get(id=row_id)
    assert row.status == "failed"
    assert row.attempts == SETTINGS.max_attempts
    assert (row.last_error or "").startswith("gave up after 3 attempts: jan@example.pl: SMTP deferred: 451")
    assert sink.received == []


async def test_a_5xx_answer_fails_the_row_at_once(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    row_id = await _email_row_only(scope, tenant)
    sink.handler.rcpt_reply["jan@example.pl"] = "550 5.1.1 No such user"
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels, settings=SETTINGS)
    await close_channels(channels)
    assert (report.failed, report.retried, report.sent) == (1, 0, 0)
    row = await scope.outbox().get(id=row_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in (row.last_error or "") and "No such user" in (row.last_error or "")


async def test_a_partly_delivered_row_resends_only_to_those_not_reached(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    # two recipients: the unit's members, the second of whom defers once
    for email in ("a@zgierz.example.pl", "b@zgierz.example.pl"):
        user = await accounts.create_user(scope, email, email[0].upper(), password=None)
        await accounts.grant(scope, tenant, user, "drogi", "worker")
    await add_row(scope, ticket, "ticket_overdue", ["unit:drogi"], key="o1")
    sink.handler.rcpt_reply["b@zgierz.example.pl"] = "452 4.2.2 Mailbox full"
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels, settings=SETTINGS)
    assert (report.retried, report.messages) == (1, 1)
    row = await scope.outbox().get(dedupe_key="o1")
    assert len(row.payload["delivered"]) == 1

    del sink.handler.rcpt_reply["b@zgierz.example.pl"]
    assert row.next_attempt_at is not None
    report = await deliver_pending(registry(), now=row.next_attempt_at, channels=channels, settings=SETTINGS)
    await close_channels(channels)
    assert (report.sent, report.messages) == (1, 1)
    got = sink.wait_for(2)
    assert sorted(r.recipients[0] for r in got) == ["a@zgierz.example.pl", "b@zgierz.example.pl"]


async def test_one_refused_recipient_among_several_is_noted_on_the_sent_row(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    for email in ("a@zgierz.example.pl", "gone@zgierz.example.pl"):
        user = await accounts.create_user(scope, email, email.split("@")[0], password=None)
        await accounts.grant(scope, tenant, user, "drogi", "worker")
    await add_row(scope, ticket, "ticket_overdue", ["unit:drogi"], key="o2")
    sink.handler.rcpt_reply["gone@zgierz.example.pl"] = "550 5.1.1 No such user"
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels, settings=SETTINGS)
    await close_channels(channels)
    assert (report.sent, report.failed) == (1, 0)
    row = await scope.outbox().get(dedupe_key="o2")
    assert row.status == "sent"
    assert (row.last_error or "").startswith("gone@zgierz.example.pl: SMTP refused: 550")
    assert [r.recipients for r in sink.wait_for(1)] == [["a@zgierz.example.pl"]]


async def test_an_unreachable_server_is_logged_once_per_round_not_once_per_row(
    zgierz: Zgierz, caplog: pytest.LogCaptureFixture
) -> None:
    scope, tenant = zgierz
    for _ in range(4):
        await _email_row_only(scope, tenant)
    channels = SmtpSink(free_port()).channels()  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="komunikator.engine.delivery.jobs"):
        report = await deliver_pending(registry(), now=NOW, channels=channels, settings=SETTINGS, worker="w1")
    assert (report.claimed, report.retried) == (4, 4)
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("outbox: 4 email row(s) wait, the channel is unreachable: SMTP 127.0.0.1:")
    assert line.endswith("[worker w1]")
