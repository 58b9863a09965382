"""Web Push through the outbox to a local push service that decrypts every push (RFC 8291) and checks VAPID."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from delivery_helpers import ANONYMOUS, NOW, SmtpSink, add_row, dispatcher, pothole, registry
from push_endpoint import PushService

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import OutgoingMessage, close_channels
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.delivery.push import (
    MAX_PLAINTEXT,
    PushTarget,
    VapidKeys,
    WebPushChannel,
    payload,
    retry_after_seconds,
)
from komunikator.engine.schema.base import text_for
from komunikator.engine.service import accounts, push_subscriptions, resident_settings, tickets
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.intake import submit
from komunikator.engine.store.models import Follower, PushSubscription, Ticket, User
from komunikator.engine.store.scope import TenantScope

Zgierz = tuple[TenantScope, CompiledTenant]
KEYS = VapidKeys.generate("mailto:push@zgierz.example.pl")


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    """A push service on 127.0.0.1 (subscriptions to it allowed for the test)."""
    monkeypatch.setenv("KOMUNIKATOR_PUSH_ALLOW_LOCAL", "1")
    running = PushService().start()
    try:
        yield running
    finally:
        running.stop()


async def resident(scope: TenantScope, email: str, name: str = "Ewa Mieszkanka") -> User:
    return await accounts.create_user(scope, email, name, "hasło-mieszkanki", kind="resident")


async def device(scope: TenantScope, service: PushService, user: User, name: str) -> PushSubscription:
    return await push_subscriptions.subscribe(scope, user, service.subscribe(name), name, NOW)


async def signed_in_report(scope: TenantScope, tenant: CompiledTenant, user: User) -> Ticket:
    ticket, _ = await submit(scope, tenant, pothole(), channel="public", actor=ANONYMOUS, reporter_user_id=user.id,
                             now=NOW)
    assert ticket is not None
    await scope.reporter_contacts().filter(id=ticket.reporter_contact_id).update(  # type: ignore[attr-defined]
        email_confirmed_at=NOW, confirm_token=None)
    return ticket


def channels(sink: SmtpSink, push: WebPushChannel | None = None) -> dict[str, Any]:
    return {**sink.channels(), "push": push or WebPushChannel(KEYS)}


async def test_a_public_status_change_reaches_the_reporter_and_a_follower_decrypted(
    zgierz: Zgierz, sink: SmtpSink, service: PushService
) -> None:
    scope, tenant = zgierz
    reporter = await resident(scope, "ewa@example.pl")
    follower = await resident(scope, "piotr@example.pl", "Piotr")
    ticket = await signed_in_report(scope, tenant, reporter)
    await scope.create(Follower, ticket_id=ticket.id, user_id=follower.id)
    await device(scope, service, reporter, "ewa-phone")
    await device(scope, service, follower, "piotr-laptop")
    await scope.outbox().all().delete()
    staff = await dispatcher(scope, tenant)
    await tickets.act(scope, tenant, ticket.number, "reject", staff, {"public_comment": "Poza miastem."}, NOW)
    push_rows = await scope.outbox().filter(channel="push").order_by("id")
    assert {tuple(r.payload["recipients"]) for r in push_rows} == {("followers",), ("reporter",)}

    live = channels(sink)
    report = await deliver_pending(registry(), now=NOW, channels=live)
    await close_channels(live)
    assert report.failed == 0
    got = {p.name: p for p in service.wait_for(2)}
    assert set(got) == {"ewa-phone", "piotr-laptop"}
    for push in got.values():
        assert push.vapid_ok, push.vapid_error
        assert push.payload is not None
        assert push.payload["title"] == text_for(dict(tenant.config.name), "pl")  # the city's own name
        assert push.payload["body"].startswith(f"{ticket.number}: ")
        assert push.payload["url"].endswith(f"/t/{ticket.number}")
        assert push.payload["lang"] == "pl"
        headers = push.headers
        assert headers["content-encoding"] == "aes128gcm"
        assert headers["ttl"] == "86400"
        assert headers["urgency"] == "normal"
        assert len(headers["topic"]) == 32 and headers["topic"] == push.payload["tag"]
    # the same report, the same topic: a newer status replaces an undelivered older one
    assert got["ewa-phone"].headers["topic"] == got["piotr-laptop"].headers["topic"]
    assert all(r.status == "sent" for r in await scope.outbox().filter(channel="push"))
    stamped = await scope.query(PushSubscription).filter(last_sent_at__isnull=False).count()
    assert stamped == 2


async def test_a_gone_subscription_is_deleted_and_the_other_device_still_hears(
    zgierz: Zgierz, sink: SmtpSink, service: PushService
) -> None:
    scope, tenant = zgierz
    user = await resident(scope, "ewa@example.pl")
    ticket = await signed_in_report(scope, tenant, user)
    old = await device(scope, service, user, "old-phone")
    await device(scope, service, user, "new-phone")
    service.answer("old-phone", 410)
    await scope.outbox().all().delete()
    row = await add_row(scope, ticket, "ticket_status_changed", ["reporter"], key="gone", channel="push")
    live = channels(sink)
    report = await deliver_pending(registry(), now=NOW, channels=live)
    await close_channels(live)
    assert report.sent == 1 and report.messages == 1
    assert [p.name for p in service.wait_for(1)] == ["new-phone"]
    assert service.answered == {410: 1}
    assert await scope.query(PushSubscription).filter(id=old.id).count() == 0
    assert [s.label for s in await push_subscriptions.of_user(scope, user.id)] == ["new-phone"]
    stored = await scope.outbox().get(id=row.id)
    assert stored.status == "sent" and "gone" in (stored.last_error or "")


async def test_429_waits_at_least_retry_after_then_delivers_once(
    zgierz: Zgierz, sink: SmtpSink, service: PushService
) -> None:
    scope, tenant = zgierz
    user = await resident(scope, "ewa@example.pl")
    ticket = await signed_in_report(scope, tenant, user)
    await device(scope, service, user, "phone")
    service.answer("phone", 429, retry_after="900")
    await scope.outbox().all().delete()
    row = await add_row(scope, ticket, "ticket_status_changed", ["reporter"], key="slow", channel="push")
    live = channels(sink)
    report = await deliver_pending(registry(), now=NOW, channels=live)
    assert report.retried == 1
    stored = await scope.outbox().get(id=row.id)
    assert stored.status == "pending" and "429" in (stored.last_error or "")
    assert stored.next_attempt_at is not None and stored.next_attempt_at >= NOW + timedelta(seconds=900)
    # the back-off alone (60 s) would have tried again long before
    assert (await deliver_pending(registry(), now=NOW + timedelta(seconds=120), channels=live)).claimed == 0
    service.answer("phone", 201)
    report = await deliver_pending(registry(), now=NOW + timedelta(seconds=901), channels=live)
    await close_channels(live)
    assert report.sent == 1
    assert len(service.wait_for(1)) == 1
    assert (await scope.outbox().get(id=row.id)).status == "sent"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567620.0) == 60
    assert retry_after_seconds(None) == 60
    assert retry_after_seconds("soon") == 60


async def test_a_long_message_is_cut_to_fit_4_kb_encrypted_and_keeps_its_link(
    zgierz: Zgierz, sink: SmtpSink, service: PushService
) -> None:
    scope, tenant = zgierz
    user = await resident(scope, "ewa@example.pl")
    ticket = await signed_in_report(scope, tenant, user)
    await device(scope, service, user, "phone")
    await scope.outbox().all().delete()
    # a template whose push text carries whatever staff wrote: ą/ę are two bytes each in UTF-8
    long_text = "Zażółć gęślą jaźń. " * 400
    message = OutgoingMessage(channel="push", to="x", subject="s", text="t", message_id="<m@x>", short=long_text,
                              sender_name="Zgierz", url=f"https://zgierz.localhost/t/{ticket.number}", tenant="zgierz",
                              kind="message_to_reporter")
    plain = payload(message)
    assert len(plain) <= MAX_PLAINTEXT
    body = json.loads(plain)["body"]
    assert body.endswith("…") and long_text.startswith(body[:-1])
    assert json.loads(plain)["url"] == f"https://zgierz.localhost/t/{ticket.number}"

    [target] = await push_subscriptions.of_user(scope, user.id)
    channel = WebPushChannel(KEYS)
    sent = OutgoingMessage(**{**message.__dict__, "push": PushTarget(target.id, target.endpoint, target.p256dh,
                                                                       target.auth)})
    await channel.send(sent)
    await channel.aclose()
    [got] = service.wait_for(1)
    assert got.body_length <= 4096
    assert got.headers["urgency"] == "high"  # a person wrote to the resident
    assert got.payload is not None and got.payload["body"] == body


async def test_a_resident_who_switched_push_off_gets_none_but_email_still_goes(
    zgierz: Zgierz, sink: SmtpSink, service: PushService
) -> None:
    scope, tenant = zgierz
    user = await resident(scope, "ewa@example.pl")
    ticket = await signed_in_report(scope, tenant, user)
    await device(scope, service, user, "phone")
    await resident_settings.set_channels(scope, user.id, {"push": False})
    await scope.outbox().all().delete()
    await add_row(scope, ticket, "ticket_status_changed", ["reporter"], key="p", channel="push")
    await add_row(scope, ticket, "ticket_status_changed", ["reporter"], key="e", channel="email")
    live = channels(sink)
    report = await deliver_pending(registry(), now=NOW, channels=live)
    await close_channels(live)
    assert report.messages == 1
    assert len(sink.wait_for(1)) == 1
    assert service.received == []


async def test_push_endpoints_must_be_public_https_services(zgierz: Zgierz, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, _ = zgierz
    monkeypatch.delenv("KOMUNIKATOR_PUSH_ALLOW_LOCAL", raising=False)
    user = await resident(scope, "ewa@example.pl")
    good_keys = {"p256dh": KEYS.public_key, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}
    for endpoint in ("http://fcm.googleapis.com/fcm/send/x", "https://127.0.0.1/push", "https://localhost/x",
                     "https://10.0.0.5/x", "https://intranet/x"):
        with pytest.raises(ServiceError) as refused:
            await push_subscriptions.subscribe(scope, user, {"endpoint": endpoint, "keys": good_keys}, "", NOW)
        assert refused.value.status == 422
    with pytest.raises(ServiceError):
        await push_subscriptions.subscribe(scope, user, {"endpoint": "https://push.example.com/a",
                                                         "keys": {"p256dh": "AAAA", "auth": "x"}}, "", NOW)
    row = await push_subscriptions.subscribe(
        scope, user, {"endpoint": "https://updates.push.services.mozilla.com/wpush/v2/abc", "keys": good_keys},
        "Firefox", NOW)
    assert row.label == "Firefox"
