"""From a submitted report to an e-mail in the reporter's mailbox, through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from delivery_helpers import NOW, SmtpSink, add_row, dispatcher, pothole, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import InboxChannel, OutgoingMessage, close_channels
from komunikator.engine.delivery.jobs import deliver_pending, message_id
from komunikator.engine.service import tickets
from komunikator.engine.store.scope import TenantScope

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]


async def test_a_submitted_report_reaches_the_reporter_as_a_polish_multipart_email(
    zgierz: Zgierz, sink: SmtpSink
) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    rows = await scope.outbox().filter(ticket_id=ticket.id).order_by("id")
    assert {(r.kind, r.channel, r.status) for r in rows} == {
        ("ticket_received", "email", "pending"), ("ticket_received", "inbox", "pending")
    }
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)

    assert (report.claimed, report.sent, report.failed, report.retried) == (2, 2, 0, 0)
    assert all(r.status == "sent" and r.sent_at == NOW for r in await scope.outbox().all())
    [got] = sink.wait_for(1)
    mail = got.mail
    assert got.recipients == ["jan@example.pl"]
    assert mail["To"] == "Jan Kowalski <jan@example.pl>"
    assert mail["From"].addresses[0].display_name == "Urząd Miasta Zgierza"
    assert mail["Subject"] == f"Otrzymaliśmy Twoje zgłoszenie {ticket.number}"
    assert mail["Content-Language"] == "pl"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "dziękujemy za zgłoszenie „Dziura w jezdni” (ul. Długa 5)" in text
    assert f"https://zgierz.example.pl/t/{ticket.number}" in text
    assert f'href="https://zgierz.example.pl/t/{ticket.number}"' in html
    assert "#b01c2e" in html  # Zgierz's branding colour
    email_row = next(r for r in rows if r.channel == "email")
    expected = message_id("zgierz", email_row.dedupe_key, "jan@example.pl", "zgierz.example.pl")
    assert got.message_id == expected
    assert expected.endswith("@zgierz.example.pl>")


async def test_html_escapes_what_residents_typed(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    await submit_report(scope, tenant, pothole(address='<script>alert("x")</script> & co'))
    channels = sink.channels()
    await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    [got] = sink.wait_for(1)
    html = got.mail.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert '<script>alert("x")</script> & co' in got.mail.get_body(("plain",)).get_content()


class Crash(BaseException):
    """The worker dies (SIGKILL) right after the server accepted the message."""


class SendThenCrash:
    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def send(self, message: OutgoingMessage) -> None:
        await self.inner.send(message)  # type: ignore[attr-defined]
        raise Crash


async def test_a_resend_after_an_expired_lease_carries_the_same_message_id(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    await submit_report(scope, tenant)
    channels = sink.channels()
    lease = timedelta(minutes=5)
    with pytest.raises(Crash):
        await deliver_pending(registry(), now=NOW, lease=lease, channels={"email": SendThenCrash(channels["email"]),
                                                                          "inbox": InboxChannel()})
    row = await scope.outbox().get(channel="email")
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, NOW + lease)

    # within the lease nobody takes the batch (the email row and the inbox row) again
    report = await deliver_pending(registry(), now=NOW + lease - timedelta(seconds=1), channels=channels)
    assert report.claimed == 0
    assert (await scope.outbox().get(id=row.id)).status == "pending"

    report = await deliver_pending(registry(), now=NOW + lease + timedelta(seconds=1), channels=channels)
    await close_channels(channels)
    assert (report.claimed, report.sent) == (2, 2)
    row = await scope.outbox().get(id=row.id)
    assert (row.status, row.attempts) == ("sent", 2)
    first, second = sink.wait_for(2)
    assert first.message_id == second.message_id
    assert first.mail["Subject"] == second.mail["Subject"]


async def test_a_template_that_does_not_render_fails_at_once_with_the_reason(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    # message_to_reporter needs `message`, which this row does not carry
    row = await add_row(scope, ticket, "message_to_reporter", ["reporter"], key="m1")
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert (report.failed, report.sent) == (1, 0)
    row = await scope.outbox().get(id=row.id)
    assert row.status == "failed"
    assert "'message' is undefined" in (row.last_error or "")
    assert sink.received == []


async def test_staff_messages_carry_their_text_and_sender(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    await add_row(scope, ticket, "message_to_reporter", ["reporter"], key="m2",
                  message={"text": "Prosimy o zdjęcie <b>z bliska</b>.", "sender_name": "Anna Nowak"})
    channels = sink.channels()
    await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    [got] = sink.wait_for(1)
    text = got.mail.get_body(("plain",)).get_content()
    assert "Prosimy o zdjęcie <b>z bliska</b>." in text
    assert "Anna Nowak" in text
    assert "&lt;b&gt;z bliska&lt;/b&gt;" in got.mail.get_body(("html",)).get_content()


async def test_nobody_to_reach_is_sent_with_a_note(zgierz: Zgierz, sink: SmtpSink) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.reporter_contacts().filter(id=ticket.reporter_contact_id).update(  # type: ignore[attr-defined]
        email=None, name=None, erased_at=NOW
    )
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert (report.sent, report.failed, report.retried, report.messages) == (2, 0, 0, 0)
    for row in await scope.outbox().all():
        assert row.status == "sent"
        assert row.last_error == "no recipients: reporter"
    assert sink.received == []


async def test_push_rows_wait_for_a_push_channel(zgierz: Zgierz, sink: SmtpSink) -> None:
    """Without VAPID keys no push channel: the row waits (attempts not counted) and goes once there is one."""
    from komunikator.engine.service import accounts
    from komunikator.engine.store.models import PushSubscription

    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    resident = await accounts.create_user(scope, "ewa@example.pl", "Ewa", kind="resident")
    await scope.tickets().filter(id=ticket.id).update(reporter_user_id=resident.id)
    await scope.create(PushSubscription, user_id=resident.id, endpoint="https://push.example.com/1",
                       endpoint_hash="1" * 64, p256dh="k", auth="a", label="telefon")
    await scope.outbox().all().delete()
    row = await add_row(scope, ticket, "ticket_received", ["reporter"], key="p1", channel="push")
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    assert (report.claimed, report.deferred, report.sent, report.failed) == (1, 1, 0, 0)
    row = await scope.outbox().get(id=row.id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "push channel not configured")
    assert row.next_attempt_at is not None and row.next_attempt_at > NOW
    assert (await deliver_pending(registry(), now=NOW + timedelta(minutes=5), channels=channels)).claimed == 0

    pushed: list[OutgoingMessage] = []

    class RecordingPush:  # the channel's interface; the real one is tested in test_delivery_push.py
        async def send(self, message: OutgoingMessage) -> None:
            pushed.append(message)

    report = await deliver_pending(registry(), now=NOW + timedelta(hours=2),
                                   channels={**channels, "push": RecordingPush()})
    await close_channels(channels)
    assert report.sent == 1
    [message] = pushed
    assert message.short == f"Zgłoszenie {ticket.number} zostało zarejestrowane."
    assert message.push is not None and message.push.endpoint == "https://push.example.com/1"
    assert (await scope.outbox().get(id=row.id)).status == "sent"


async def test_messages_written_by_staff_through_the_service_are_delivered(zgierz: Zgierz, sink: SmtpSink) -> None:
    """Comments to the reporter and to an external unit (with and without a task) render and go out."""
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    staff = await dispatcher(scope, tenant)
    await tickets.add_comment(scope, tenant, ticket.number, staff, "Prosimy o zdjęcie.", "to_reporter", NOW)
    await tickets.add_comment(scope, tenant, ticket.number, staff, "Prosimy o pomoc.", "to_unit", NOW,
                              target_unit="straz_miejska")
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert (report.sent, report.failed) == (2, 0)
    texts = {tuple(got.recipients): got.mail.get_body(("plain",)).get_content() for got in sink.wait_for(2)}
    to_reporter = texts[("jan@example.pl",)]
    assert "Prosimy o zdjęcie." in to_reporter
    assert "Anna Nowak" in to_reporter
    to_guard = texts[("dyzurny@straz.zgierz.example.pl",)]
    assert f"w sprawie zgłoszenia {ticket.number}" in to_guard  # no task of the guard on this ticket
    assert "Prosimy o pomoc." in to_guard


async def test_a_rejection_tells_the_reporter_its_public_reason_and_nothing_internal(
    zgierz: Zgierz, sink: SmtpSink
) -> None:
    """The public comment of a transition reaches its notifications; the internal one stays inside."""
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    staff = await dispatcher(scope, tenant)
    await tickets.act(scope, tenant, ticket.number, "reject", staff,
                      {"public_comment": "Droga należy do powiatu: przekazaliśmy zgłoszenie zarządcy.",
                       "internal_comment": "Zarządca: ZDP, tel. wewn. 123"}, NOW)
    comments = await scope.comments().filter(ticket_id=ticket.id).order_by("id").values_list("visibility", "body")
    assert comments == [("public", "Droga należy do powiatu: przekazaliśmy zgłoszenie zarządcy."),
                        ("internal", "Zarządca: ZDP, tel. wewn. 123")]
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert report.failed == 0
    [got] = sink.wait_for(1)
    assert got.mail["Subject"] == f"Zgłoszenie {ticket.number} nie zostało przyjęte"
    text = got.mail.get_body(("plain",)).get_content()
    assert "Powód: Droga należy do powiatu: przekazaliśmy zgłoszenie zarządcy." in text
    payloads = [row.payload for row in await scope.outbox().all()]
    assert "ZDP" not in text and not any("ZDP" in str(p) for p in payloads)


async def test_each_recipient_reads_their_own_language(zgierz: Zgierz, sink: SmtpSink) -> None:
    """A report made in English is answered in English; a staff member who chose English gets English."""
    from komunikator.engine.service import accounts

    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant, pothole(locale="en"))
    staff = await dispatcher(scope, tenant)  # Polish: the city's own
    english = await accounts.create_user(scope, "john@zgierz.pl", "John Smith", locale="en")
    await accounts.grant(scope, tenant, english, "drogi", "worker")
    polish = await accounts.create_user(scope, "piotr@zgierz.pl", "Piotr Wiśniewski")
    await accounts.grant(scope, tenant, polish, "drogi", "worker")
    await scope.outbox().filter(kind="ticket_received", channel="inbox").delete()
    await tickets.act(scope, tenant, ticket.number, "verify", staff, {}, NOW)
    channels = sink.channels()
    report = await deliver_pending(registry(), now=NOW, channels=channels)
    await close_channels(channels)
    assert report.failed == 0
    mails: dict[str, list[tuple[str, str]]] = {}
    for got in sink.wait_for(report.messages):
        mails.setdefault(got.recipients[0], []).append((got.mail["Subject"], got.mail["Content-Language"]))
    assert sorted(mails["jan@example.pl"]) == [(f"Report {ticket.number} has been passed on for action", "en"),
                                               (f"We have received your report {ticket.number}", "en")]
    [(subject, language)] = mails["john@zgierz.pl"]
    assert language == "en" and subject.startswith("New task for")
    [(subject, language)] = mails["piotr@zgierz.pl"]
    assert language == "pl" and subject.startswith("Nowe zadanie dla")


async def test_a_locale_the_city_does_not_speak_is_refused(zgierz: Zgierz) -> None:
    from komunikator.engine.service.errors import ServiceError

    scope, tenant = zgierz
    with pytest.raises(ServiceError) as refused:
        await submit_report(scope, tenant, pothole(locale="de"))
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "unsupported_locale", "locale")
    assert await scope.tickets().count() == 0
