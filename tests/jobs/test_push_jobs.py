"""Web Push delivered by the job runners as e-mail is: a real Celery worker (Redis) and the embedded runner,
to a local push service that decrypts every push (RFC 8291) and checks its VAPID signature."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jobs_helpers import Workers, as_view, purge_queue, registry, require_redis, scope_of, staff, submit, unique_queue

from komunikator.engine.delivery import embedded, jobs
from komunikator.engine.delivery.push import VapidKeys
from komunikator.engine.delivery.worker import DELIVER, make_app
from komunikator.engine.service import accounts, push_subscriptions, tickets
from komunikator.engine.store import db
from komunikator.engine.store.models import Follower
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope
from komunikator.web.app import create_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
NOW = datetime(2026, 11, 6, 13, 0, tzinfo=UTC)


def _push_endpoint() -> ModuleType:
    """tests/delivery/push_endpoint.py (the delivery tests' local push service)."""
    path = Path(__file__).resolve().parents[1] / "delivery" / "push_endpoint.py"
    spec = importlib.util.spec_from_file_location("push_endpoint", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.get("push_endpoint") or importlib.util.module_from_spec(spec)
    if "push_endpoint" not in sys.modules:
        sys.modules["push_endpoint"] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> VapidKeys:
    made = VapidKeys.generate("mailto:it@zgierz.example.pl")
    monkeypatch.setenv("KOMUNIKATOR_VAPID_PRIVATE_KEY", made.private_raw())
    monkeypatch.setenv("KOMUNIKATOR_PUSH_ALLOW_LOCAL", "1")
    monkeypatch.setattr(jobs, "_default_channels", None)  # made again from the environment above
    return made


@pytest.fixture
def service() -> Iterator[Any]:
    running = _push_endpoint().PushService().start()
    try:
        yield running
    finally:
        running.stop()


async def _follower_with_a_device(scope: TenantScope, service: Any) -> str:
    """A report with a resident following it on one device; the report's number."""
    ticket = await submit(scope, NOW)
    resident = await accounts.create_user(scope, "ewa@example.pl", "Ewa", kind="resident")
    await scope.create(Follower, ticket_id=ticket.id, user_id=resident.id)
    await push_subscriptions.subscribe(scope, resident, service.subscribe("ewa-phone"), "telefon", NOW)
    return ticket.number


async def _reject(scope: TenantScope, number: str) -> None:
    dispatcher = await staff(scope, "anna@zgierz.pl", "bom:dispatcher")
    await tickets.act(scope, registry().tenants["zgierz"], number, "reject", await as_view(scope, dispatcher),
                      {"public_comment": "Poza granicami miasta."}, NOW)


async def _wait(service: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not service.received:
        if time.monotonic() > deadline:
            pytest.fail(f"no push within {timeout} s")
        await asyncio.sleep(0.1)
    return service.received[0]


async def test_a_celery_worker_delivers_the_push_decrypted(
    db: str, keys: VapidKeys, service: Any, tmp_path: Path
) -> None:
    broker = require_redis()
    queue = unique_queue()
    scope = await scope_of()
    number = await _follower_with_a_device(scope, service)
    await _reject(scope, number)
    workers = Workers(tmp_path, {
        "KOMUNIKATOR_DATABASE_URL": db, "KOMUNIKATOR_BROKER_URL": broker, "KOMUNIKATOR_QUEUE": queue,
        "KOMUNIKATOR_JOBS": "celery", "KOMUNIKATOR_VAPID_PRIVATE_KEY": keys.private_raw(),
        "KOMUNIKATOR_SMTP_PORT": "1",  # no mail server: the e-mail rows wait, the push goes on
    })
    try:
        workers.start("--pool", "solo")
        make_app(broker, queue).send_task(DELIVER)
        got = await _wait(service, 60)
    finally:
        workers.stop_all()
        purge_queue(broker, queue)
    assert got.vapid_ok, got.vapid_error
    assert got.payload["body"].startswith(f"{number}: ")
    assert got.headers["ttl"] == "86400" and got.headers["content-encoding"] == "aes128gcm"
    pushed = [r for r in await scope.outbox().filter(channel="push") if r.payload["recipients"] == ["followers"]]
    assert [r.status for r in pushed] == ["sent"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own (embedded mode is SQLite, whatever the run's database)."""
    url = f"sqlite://{tmp_path / 'embedded.sqlite3'}"
    with StoreRunner(url, init=False) as runner:
        runner.run(db.upgrade(url))
    return url


async def test_the_embedded_runner_delivers_the_push(
    sqlite_url: str, keys: VapidKeys, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url
    monkeypatch.delenv(embedded.JOBS_ENV, raising=False)
    monkeypatch.setenv("KOMUNIKATOR_SMTP_PORT", "1")
    app = create_app(registry(), database_url=url)
    async with app.router.lifespan_context(app):
        scope = await scope_of()
        number = await _follower_with_a_device(scope, service)
        await _reject(scope, number)
        assert embedded.wake() is True
        got = await _wait(service, 20)
    assert got.vapid_ok and got.payload["body"].startswith(f"{number}: ")
