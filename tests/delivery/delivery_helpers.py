"""Helpers for the delivery tests: a real SMTP server (aiosmtpd) and outbox rows."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from typing import Any

from aiosmtpd.controller import Controller

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import InboxChannel, SmtpChannel, SmtpSettings
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.intake import ReporterIn, Submission, submit
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import OutboxMessage, Task, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.tenants import TenantRegistry

NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # a Monday
ANONYMOUS = UserView("anonymous", (), "resident")


@cache
def registry() -> TenantRegistry:
    """The shipped tenants, compiled once per test session."""
    return TenantRegistry.load(Settings.from_env())


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipients: list[str]
    mail: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.mail["Message-ID"])


@dataclass
class SinkHandler:
    """aiosmtpd handler: records messages; `reply` and `rcpt_reply` make it refuse."""

    received: list[Received] = field(default_factory=list)
    #: the answer to DATA ("250 OK", "451 4.3.0 busy", "554 5.6.0 rejected")
    reply: str = "250 OK"
    #: per-address answer to RCPT TO (default: accept)
    rcpt_reply: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        answer = self.rcpt_reply.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        if not self.reply.startswith("2"):
            return self.reply
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), mail))  # type: ignore[arg-type]
        return self.reply


class SmtpSink:
    """A real SMTP server on 127.0.0.1 in a thread; start, stop and start again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = SinkHandler()
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received

    def channels(self) -> dict[str, Any]:
        """Channels delivering to this server (a new SMTP connection each time)."""
        return {"email": SmtpChannel(SmtpSettings(port=self.port, timeout=5)), "inbox": InboxChannel()}


def pothole(**extra: Any) -> Submission:
    """A valid report in Zgierz from Jan Kowalski."""
    values: dict[str, Any] = {
        "category": "pothole", "description": "Duża dziura przy przystanku", "lat": 51.855, "lon": 19.406,
        "attributes": {"size": "medium"}, "address": "ul. Długa 5",
        "reporter": ReporterIn(name="Jan Kowalski", email="jan@example.pl"),
    }
    values.update(extra)
    return Submission(**values)


async def submit_report(scope: TenantScope, tenant: CompiledTenant, sub: Submission | None = None, *,
                        confirmed: bool = True) -> Ticket:
    """A ticket submitted through the service, as a resident would.

    `confirmed`: the reporter has opened the confirmation link, so their
    address gets the full messages (tests/web/test_submission_limits.py covers
    the unconfirmed case).
    """
    ticket, _ = await submit(scope, tenant, sub or pothole(), channel="public", actor=ANONYMOUS,
                             reporter_user_id=None, now=NOW)
    assert ticket is not None
    if confirmed and ticket.reporter_contact_id is not None:  # type: ignore[attr-defined]
        await scope.reporter_contacts().filter(id=ticket.reporter_contact_id).update(  # type: ignore[attr-defined]
            email_confirmed_at=NOW, confirm_token=None)
    return ticket


async def add_row(
    scope: TenantScope, ticket: Ticket | None, template: str, recipients: list[str], *, key: str,
    channel: str = "email", task: Task | None = None, **extra: Any,
) -> OutboxMessage:
    """An outbox row as `engine/service/apply.py` writes them."""
    payload: dict[str, Any] = {
        "template": template, "event": "test", "recipients": recipients,
        "ticket": ticket.number if ticket else None, "task": task.key if task else None, "locale": "pl", **extra,
    }
    return await scope.create(OutboxMessage, ticket_id=ticket.id if ticket else None, kind=template,
                              channel=channel, dedupe_key=key, payload=payload)


async def dispatcher(scope: TenantScope, tenant: CompiledTenant) -> UserView:
    """Anna Nowak, Zgierz's dispatcher (BOM), as the engine sees her."""
    from komunikator.engine.service import accounts
    from komunikator.engine.service.row_views import user_view

    user = await accounts.create_user(scope, "anna@zgierz.pl", "Anna Nowak")
    await accounts.grant(scope, tenant, user, "bom", "dispatcher")
    return await user_view(scope, user)
