"""The pieces without a database: SMTP settings, the MIME writer, HTML from text, back-off, Message-IDs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from delivery_helpers import SmtpSink

from komunikator.engine.delivery.channels import (
    InboxChannel,
    OutgoingMessage,
    PermanentFailure,
    SmtpChannel,
    SmtpSettings,
    build_email,
    channels_from_env,
)
from komunikator.engine.delivery.jobs import DeliverySettings, message_id
from komunikator.engine.delivery.render import text_to_html


def test_smtp_settings_from_the_environment() -> None:
    assert SmtpSettings.from_env({}) == SmtpSettings("127.0.0.1", 1025, "none", None, None, "komunikator@localhost")
    settings = SmtpSettings.from_env({
        "KOMUNIKATOR_SMTP_HOST": "smtp.example.pl", "KOMUNIKATOR_SMTP_PORT": "465", "KOMUNIKATOR_SMTP_TLS": "TLS",
        "KOMUNIKATOR_SMTP_USER": "u", "KOMUNIKATOR_SMTP_PASSWORD": "p", "KOMUNIKATOR_SMTP_FROM": "noreply@city.pl",
    })
    assert (settings.host, settings.port, settings.tls, settings.user, settings.password, settings.sender) == (
        "smtp.example.pl", 465, "tls", "u", "p", "noreply@city.pl")
    with pytest.raises(ValueError, match="KOMUNIKATOR_SMTP_TLS must be one of none, starttls, tls"):
        SmtpSettings.from_env({"KOMUNIKATOR_SMTP_TLS": "ssl"})
    with pytest.raises(ValueError, match="KOMUNIKATOR_SMTP_PORT"):
        SmtpSettings.from_env({"KOMUNIKATOR_SMTP_PORT": "smtp"})


def test_the_process_channels_are_email_and_inbox_only() -> None:
    channels = channels_from_env({})
    assert set(channels) == {"email", "inbox"}
    assert isinstance(channels["email"], SmtpChannel)
    assert isinstance(channels["inbox"], InboxChannel)


def message(**changes: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "channel": "email", "to": "jan@example.pl", "subject": "Zgłoszenie ZG-2026-000001 zostało załatwione",
        "text": "Dzień dobry,\n.\nkropka wyżej\n", "html": "<p>Dzień dobry</p>", "message_id": "<abc@zgierz.pl>",
        "recipient_name": "Jan Kowalski", "sender_name": "Urząd Miasta Zgierza", "reply_to": "bom@zgierz.pl",
        "locale": "pl",
    }
    values.update(changes)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def test_the_mime_message_reads_back_as_written() -> None:
    raw = build_email(message(), "noreply@zgierz.pl", datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "Zgłoszenie ZG-2026-000001 zostało załatwione"
    assert mail["From"].addresses[0].display_name == "Urząd Miasta Zgierza"
    assert mail["From"].addresses[0].addr_spec == "noreply@zgierz.pl"
    assert str(mail["To"]) == "Jan Kowalski <jan@example.pl>"
    assert mail["Reply-To"] == "bom@zgierz.pl"
    assert mail["Message-ID"] == "<abc@zgierz.pl>"
    assert mail["Date"] == "Mon, 16 Mar 2026 08:00:00 +0000"
    assert mail["Content-Language"] == "pl"
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Dzień dobry,\n.\nkropka wyżej\n"
    assert b"\r\n.\r\n" not in raw  # a lone dot would end the SMTP DATA early: it is encoded
    assert mail.get_body(("html",)).get_content().strip() == "<p>Dzień dobry</p>"
    text_only = message_from_bytes(build_email(message(html=None), "n@z.pl"), policy=policy.default)
    assert text_only.get_content_type() == "text/plain"


def test_headers_cannot_be_injected() -> None:
    raw = build_email(message(subject="Hello\r\nBcc: victim@example.pl", recipient_name="Eve\nBcc: x@y.pl"), "n@z.pl")
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Hello Bcc: victim@example.pl"
    for bad in ("jan@example.pl\r\nBcc: x@y.pl", "jan", "<jan@example.pl>", "jan @example.pl"):
        with pytest.raises(PermanentFailure):
            build_email(message(to=bad), "n@z.pl")


def test_long_non_ascii_subjects_fold_into_encoded_words() -> None:
    subject = "Zażółć gęślą jaźń " * 12
    raw = build_email(message(subject=subject), "n@z.pl")
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.split("\r\n")), head
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject.strip()


def test_html_from_text_escapes_everything_and_links_urls() -> None:
    html = text_to_html('Zobacz: https://zgierz.pl/t/ZG-1?a=1&b=2.\n<script>x</script> & "q"\n\nDruga część')
    assert html == (
        '<p>Zobacz: <a href="https://zgierz.pl/t/ZG-1?a=1&amp;b=2">https://zgierz.pl/t/ZG-1?a=1&amp;b=2</a>.<br>\n'
        "&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;</p>\n<p>Druga część</p>"
    )
    assert 'href="javascript' not in text_to_html("javascript:alert(1) http://x\"onmouseover=\"a")


def test_backoff_doubles_and_is_capped() -> None:
    settings = DeliverySettings(max_attempts=8, backoff_base=timedelta(minutes=1), backoff_cap=timedelta(hours=1))
    assert [settings.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert settings.backoff(7) == timedelta(hours=1)
    assert settings.backoff(500) == timedelta(hours=1)
    assert DeliverySettings.from_env({}) == DeliverySettings()
    assert DeliverySettings.from_env({"KOMUNIKATOR_OUTBOX_MAX_ATTEMPTS": "3"}).max_attempts == 3
    with pytest.raises(ValueError, match="MAX_ATTEMPTS"):
        DeliverySettings.from_env({"KOMUNIKATOR_OUTBOX_MAX_ATTEMPTS": "0"})


def test_message_ids_are_stable_per_row_and_recipient() -> None:
    first = message_id("zgierz", "ZG-2026-000001:v1:1:email", "Jan@Example.pl", "zgierz.example.pl")
    assert first == message_id("zgierz", "ZG-2026-000001:v1:1:email", "jan@example.pl", "zgierz.example.pl")
    assert first.startswith("<") and first.endswith("@zgierz.example.pl>")
    assert first != message_id("zgierz", "ZG-2026-000001:v1:1:email", "ola@example.pl", "zgierz.example.pl")
    assert first != message_id("zgierz", "ZG-2026-000001:v2:1:email", "jan@example.pl", "zgierz.example.pl")
    assert first != message_id("nieporet", "ZG-2026-000001:v1:1:email", "jan@example.pl", "zgierz.example.pl")


@pytest.mark.anyio
async def test_the_smtp_channel_commits_a_message_only_after_its_gate(sink: SmtpSink) -> None:
    channel = SmtpChannel(SmtpSettings(port=sink.port, timeout=5))
    order: list[str] = []

    async def mark_previous(fail: bool) -> None:
        await asyncio.sleep(0.05)
        order.append(f"gate done, {len(sink.received)} received")
        if fail:
            raise RuntimeError("the database is gone")

    with pytest.raises(RuntimeError, match="database is gone"):
        await channel.send_after(message(message_id="<first@z.pl>"), asyncio.ensure_future(mark_previous(True)))
    assert sink.received == []  # abandoned (RSET), and the connection is still good:
    await channel.send_after(message(message_id="<second@z.pl>"), asyncio.ensure_future(mark_previous(False)))
    await channel.aclose()
    assert order == ["gate done, 0 received", "gate done, 0 received"]
    assert [r.message_id for r in sink.wait_for(1)] == ["<second@z.pl>"]
