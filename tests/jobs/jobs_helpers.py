"""Helpers for the job tests: a real SMTP server, real Celery workers, staff and tickets."""

from __future__ import annotations

import asyncio
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, intake, tickets
from komunikator.engine.service import row_views as views
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import ReporterContact, Ticket, User
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

REDIS_URL = os.environ.get("KOMUNIKATOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KOMUNIKATOR = Path(sys.executable).with_name("komunikator")


@cache
def registry() -> TenantRegistry:
    """The shipped tenants, compiled once per test session."""
    return TenantRegistry.load(Settings.from_env())


def zgierz() -> CompiledTenant:
    return registry().tenants["zgierz"]


# -- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    """One message the server accepted."""

    message_id: str
    to: tuple[str, ...]
    subject: str
    body: str


@dataclass
class SmtpSink:
    """An aiosmtpd server on a free local port that records every message (after `delay` seconds)."""

    delay: float = 0.0
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = mail.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        text = body.get_content() if body is not None else ""
        with self._lock:
            self.messages.append(Received(mail["Message-ID"], tuple(envelope.rcpt_tos), str(mail["Subject"]), text))
        return "250 OK"

    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=_free_port())
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    @property
    def port(self) -> int:
        assert self._controller is not None
        return int(self._controller.port)

    def env(self) -> dict[str, str]:
        """The `KOMUNIKATOR_SMTP_*` settings that reach this server."""
        return {"KOMUNIKATOR_SMTP_HOST": "127.0.0.1", "KOMUNIKATOR_SMTP_PORT": str(self.port),
                "KOMUNIKATOR_SMTP_TIMEOUT": "10"}

    def ids(self) -> Counter[str]:
        """How often each Message-ID arrived."""
        with self._lock:
            return Counter(m.message_id for m in self.messages)

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.to]

    async def wait_for(self, condition: Callable[[SmtpSink], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}; got {len(self.messages)} message(s)")
            await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- Redis and Celery -------------------------------------------------------------------------


def require_redis() -> str:
    """The test broker's URL; skip (or fail in CI) when Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} is unreachable ({error})"
        if os.environ.get("CI") or os.environ.get("KOMUNIKATOR_CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message + "; start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379")
    return REDIS_URL


def unique_queue() -> str:
    """A queue of this test's own on the shared Redis."""
    return f"komunikator-test-{uuid.uuid4().hex[:12]}"


def purge_queue(broker: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(broker)
    client.delete(queue, f"_kombu.binding.{queue}")


class Workers:
    """Real `komunikator worker` processes (each in its own process group), their logs in files."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = {**os.environ, **env}
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, *args: str, ready_timeout: float = 60.0) -> int:
        """Start a worker and wait until Celery says it is ready; its index."""
        index = len(self.processes)
        log = self.tmp_path / f"worker-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(KOMUNIKATOR), "worker", *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.tmp_path, start_new_session=True,
            )
        self.processes.append((process, log))
        deadline = time.monotonic() + ready_timeout
        while "ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop_all()
                pytest.fail(f"worker {index} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        return index

    def kill(self, index: int) -> None:
        """SIGKILL a worker and every process it started."""
        process, _ = self.processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def log(self, index: int) -> str:
        return self.processes[index][1].read_text(errors="replace")

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


# -- staff, tickets, actions -------------------------------------------------------------------


async def scope_of(slug: str = "zgierz") -> TenantScope:
    return TenantScope((await ensure_tenant(slug)).id)


async def staff(scope: TenantScope, email: str, *memberships: str, tenant: CompiledTenant | None = None) -> User:
    """A staff member with memberships `unit:role`."""
    tenant = tenant or zgierz()
    user = await accounts.create_user(scope, email, email.split("@")[0].title(), password=None)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, tenant, user, unit, role)
    return user


async def as_view(scope: TenantScope, user: User) -> UserView:
    return await views.user_view(scope, user)


async def submit(scope: TenantScope, now: datetime, *, email: str = "jan@example.pl", category: str = "pothole",
                 tenant: CompiledTenant | None = None) -> Ticket:
    """A resident's report in Zgierz (with a contact e-mail)."""
    body = intake.Submission(
        category=category, description="Duża dziura przy przystanku", lat=51.855, lon=19.406,
        attributes={"size": "medium"} if category == "pothole" else {},
        reporter=intake.ReporterIn(name="Jan Kowalski", email=email),
    )
    actor = UserView("anonymous", (), "resident", "anonymous")
    ticket, _ = await intake.submit(scope, tenant or zgierz(), body, channel="public", actor=actor,
                                    reporter_user_id=None, now=now)
    assert ticket is not None
    return ticket


async def act(scope: TenantScope, number: str, action: str, user: User, now: datetime, **inputs: Any) -> Ticket:
    return await tickets.act(scope, zgierz(), number, action, await as_view(scope, user), inputs, now)


async def bare_ticket(scope: TenantScope, number: str, now: datetime, email: str) -> Ticket:
    """A ticket row with a reporter contact and nothing else (no outbox rows, no timers).

    The contact's address counts as confirmed (as one typed in by staff, or clicked): the delivery tests
    are about delivering, not about the confirmation that `tests/web/test_submission_limits.py` covers.
    """
    tenant = zgierz()
    version = await scope.ensure_definition_version(tenant.version, {"processes": sorted(tenant.processes)})
    contact = await scope.create(ReporterContact, name="Jan Kowalski", email=email, email_confirmed_at=now)
    return await scope.create(
        Ticket, number=number, category="pothole", process="simple_fix", state="new", responsible_unit="drogi",
        channel="public", definition_version=version, state_entered_at=now, reporter_contact_id=contact.id,
        description="Dziura",
    )
