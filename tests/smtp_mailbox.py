"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps every mail it receives.

    with running() as box:            # or as a pytest fixture: `yield from mailbox_running()`
        ...send mail to 127.0.0.1:box.port...
        path = box.link("jan@example.pl", "/konto/potwierdz/")   # the path and token of the last such link
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """The server's handler and what arrived: (recipients, parsed message) pairs."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Any]] = []
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
        """The path and token of the last link to `path…` mailed to `to` (the host left out: tests speak to the
        app under test, wherever it listens)."""
        with self.lock:
            found = [mail for rcpt, mail in self.mails if to in rcpt]
        assert found, f"no mail to {to}"
        text = found[-1].get_body(("plain",)).get_content()
        match = re.search(r"https://[^/\s]+(" + re.escape(path) + r"[A-Za-z0-9_-]+)", text)
        assert match, text
        return match.group(1)


@contextmanager
def running() -> Iterator[Mailbox]:
    """A started mailbox, stopped afterwards."""
    box = Mailbox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()
