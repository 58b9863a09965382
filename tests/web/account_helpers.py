"""Helpers for the resident account tests: a real SMTP server, forms sent as a browser sends them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from smtp_mailbox import Mailbox, running
from web_helpers import registry

from komunikator.engine.delivery.channels import InboxChannel, SmtpChannel, SmtpSettings, close_channels
from komunikator.engine.delivery.jobs import deliver_pending

PASSWORD = "długie-hasło-1"
ORIGIN = {"Origin": "http://zgierz.localhost"}


def mailbox_running() -> Iterator[Mailbox]:
    """A started mailbox for a fixture (`tests/smtp_mailbox.py`)."""
    with running() as box:
        yield box


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
