"""Helpers for the resident account tests: a real SMTP server, forms sent as a browser sends them."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from web_helpers import registry

from komunikator.engine.delivery.channels import InboxChannel, SmtpChannel, SmtpSettings, close_channels
from komunikator.engine.delivery.jobs import deliver_pending

PASSWORD = "długie-hasło-1"
ORIGIN = {"Origin": "http://zgierz.localhost"}


class Mailbox:
    """A real SMTP server (aiosmtpd) keeping what arrives."""

    def __init__(self) -> None:
        self.mails: list[Any] = []
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def link(self, to: str, path: str) -> str:
        """The last link to `path…` mailed to `to` (the path and token only: the test client speaks to the app)."""
        with self.lock:
            found = [m for rcpt, m in self.mails if to in rcpt]
        assert found, f"no mail to {to}"
        text = found[-1].get_body(("plain",)).get_content()
        match = re.search(r"https://[^/\s]+(" + re.escape(path) + r"[A-Za-z0-9_-]+)", text)
        assert match, text
        return match.group(1)


def mailbox_running() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


async def deliver(mailbox: Mailbox) -> None:
    channels: dict[str, Any] = {"email": SmtpChannel(SmtpSettings(port=mailbox.port, timeout=5)),
                                "inbox": InboxChannel()}
    await deliver_pending(registry(), now=None, channels=channels)
    await close_channels(channels)


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def post(client: httpx.AsyncClient, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Open `page`, then send its form to `action` with the page's CSRF token, as a browser would."""
    opened = await client.get(page)
    return await client.post(action, data={"csrf_token": token_of(opened.text), **data},
                             headers={"Origin": f"http://{client.headers['host']}"})


async def sign_up_and_verify(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> None:
    made = await post(client, "/konto/rejestracja", "/konto/rejestracja",
                      {"email": email, "display_name": "Ewa", "password": PASSWORD, "password_again": PASSWORD})
    assert made.status_code == 200 and email in made.text
    await deliver(mailbox)
    link = mailbox.link(email, "/konto/potwierdz/")
    confirmed = await post(client, link, link, {})
    assert confirmed.status_code == 200, confirmed.text


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await post(client, "/konto/logowanie", "/konto/logowanie",
                      {"email": email, "password": password, "next": "/konto"})
