"""Production delivery with real Celery workers, a real Redis and a real SMTP server.

Each test runs `komunikator worker` as subprocesses on a queue of its own on
the machine's Redis (the shared server is never stopped: "broker down" is a
URL where nothing listens), against the test's database, sending to an
aiosmtpd server in this process. The test plays the beat: it rings the
`deliver` bell itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from jobs_helpers import SmtpSink, Workers, bare_ticket, purge_queue, registry, require_redis, scope_of, unique_queue

from komunikator.engine.delivery import bell
from komunikator.engine.delivery.jobs import message_id
from komunikator.engine.delivery.render import tenant_host
from komunikator.engine.delivery.worker import DELIVER, make_app
from komunikator.engine.store.models import OutboxMessage
from komunikator.engine.store.scope import TenantScope
from komunikator.web.app import create_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
log = logging.getLogger(__name__)

NOW = datetime(2026, 11, 6, 13, 0, tzinfo=UTC)
READER = "jan@example.pl"


@pytest.fixture
def broker() -> str:
    return require_redis()


@pytest.fixture
def queue(broker: str) -> Iterator[str]:
    name = unique_queue()
    yield name
    purge_queue(broker, name)


@pytest.fixture
def postgres_only(db: str, db_backend: str) -> str:
    """The test's PostgreSQL database (these tests run several processes against one outbox)."""
    if db_backend != "postgres":
        pytest.skip("several worker processes on one outbox: runs on PostgreSQL (KOMUNIKATOR_TEST_DB=postgres)")
    return db


def _worker_env(database_url: str, broker: str, queue: str, sink: SmtpSink, **extra: str) -> dict[str, str]:
    return {
        "KOMUNIKATOR_DATABASE_URL": database_url, "KOMUNIKATOR_BROKER_URL": broker, "KOMUNIKATOR_QUEUE": queue,
        "KOMUNIKATOR_JOBS": "celery", **sink.env(), **extra,
    }


async def _intents(scope: TenantScope, count: int) -> set[str]:
    """`count` receipts to the same reporter, as outbox rows; the Message-IDs they must arrive with."""
    ticket = await bare_ticket(scope, "ZG-2026-000001", NOW, READER)
    host = tenant_host(registry().tenants["zgierz"], registry().base_domain)
    expected = set()
    for i in range(count):
        key = f"load:{i:04}"
        await scope.create(
            OutboxMessage, ticket_id=ticket.id, kind="ticket_received", channel="email", dedupe_key=key,
            payload={"template": "ticket_received", "event": "ticket_created", "recipients": ["reporter"],
                     "ticket": ticket.number, "task": None, "locale": "pl"},
        )
        expected.add(message_id("zgierz", key, READER, host))
    return expected


async def _ring_until(
    ring: Callable[[], object], sink: SmtpSink, done: Callable[[SmtpSink], bool], timeout: float, what: str,
    every: float = 1.0,
) -> None:
    """Ring the bell every `every` seconds (as the beat would) until `done`."""
    deadline = time.monotonic() + timeout
    while not done(sink):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}; {len(sink.messages)} message(s) arrived")
        ring()
        await asyncio.sleep(every)


async def test_a_worker_killed_mid_batch_loses_nothing_and_resends_with_the_same_message_id(
    postgres_only: str, broker: str, queue: str, tmp_path: Path
) -> None:
    sink = SmtpSink(delay=0.05).start()
    scope = await scope_of()
    expected = await _intents(scope, 200)
    # a 3 s lease: the dead worker's rows come back quickly; batches of 20 take ~1 s, well inside it
    workers = Workers(tmp_path, _worker_env(postgres_only, broker, queue, sink, KOMUNIKATOR_DELIVERY_LEASE="3",
                                            KOMUNIKATOR_DELIVERY_BATCH="20"))
    beat = make_app(broker, queue)
    started = time.monotonic()
    try:
        workers.start("--pool", "solo")
        beat.send_task(DELIVER)
        await sink.wait_for(lambda s: len(s.messages) >= 50, 60, "the first 50 e-mails")
        workers.kill(0)
        at_kill = len(sink.messages)
        assert at_kill < 200, "the worker finished before it could be killed"
        workers.start("--pool", "solo")
        await _ring_until(lambda: beat.send_task(DELIVER), sink, lambda s: len(s.ids()) >= 200, 90,
                          "every intent after the restart")
        await asyncio.sleep(1)  # let a straggler resend show up, if any would
    finally:
        workers.stop_all()
        sink.stop()

    ids = sink.ids()
    duplicates = {mid: n for mid, n in ids.items() if n > 1}
    log.info("killed after %d sends; %d received, %d distinct, duplicates %s; %.1f s", at_kill,
             len(sink.messages), len(ids), duplicates or "none", time.monotonic() - started)
    assert set(ids) == expected  # every intent arrived, each under its own stable Message-ID
    assert sum(n - 1 for n in duplicates.values()) <= 1  # one kill: at most the message in flight
    assert await scope.outbox().filter(status="sent").count() == 200


async def test_two_workers_on_one_outbox_never_send_the_same_intent(
    postgres_only: str, broker: str, queue: str, tmp_path: Path
) -> None:
    sink = SmtpSink(delay=0.02).start()
    scope = await scope_of()
    expected = await _intents(scope, 120)
    workers = Workers(tmp_path, _worker_env(postgres_only, broker, queue, sink, KOMUNIKATOR_DELIVERY_BATCH="10"))
    beat = make_app(broker, queue)
    try:
        workers.start("--pool", "solo")
        workers.start("--pool", "prefork", "--concurrency", "2")  # three processes claiming at once
        for _ in range(6):
            beat.send_task(DELIVER)
        await _ring_until(lambda: beat.send_task(DELIVER), sink, lambda s: len(s.ids()) >= 120, 60,
                          "every intent", every=2.0)
        await asyncio.sleep(1)
    finally:
        workers.stop_all()
        sink.stop()

    ids = sink.ids()
    assert set(ids) == expected
    assert [mid for mid, n in ids.items() if n > 1] == []
    sent_by = [sum(int(n) for n in re.findall(r"komunikator\.deliver\[[^\]]+\] succeeded in [^:]+: (\d+)",
                                              workers.log(i))) for i in (0, 1)]
    log.info("sent by the solo worker: %d, by the prefork worker: %d", *sent_by)
    assert sum(sent_by) == 120
    assert all(n > 0 for n in sent_by), f"one worker did all the work: {sent_by}"


async def test_a_submission_succeeds_with_the_broker_down_and_is_delivered_once_when_it_returns(
    db: str, broker: str, queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = SmtpSink().start()
    monkeypatch.setenv("KOMUNIKATOR_JOBS", "celery")
    monkeypatch.setenv("KOMUNIKATOR_QUEUE", queue)
    monkeypatch.setenv("KOMUNIKATOR_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    app = create_app(registry(), init_database=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Host": "zgierz.localhost"}) as client:
            started = time.monotonic()
            response = await client.post("/api/v1/tickets", json={
                "category": "pothole", "description": "Dziura przy przystanku", "lat": 51.855, "lon": 19.406,
                "attributes": {"size": "medium"}, "reporter": {"name": "Jan", "email": READER},
            })
            took = time.monotonic() - started
        assert response.status_code == 201, response.text
        assert took < 5
        with caplog.at_level(logging.WARNING, logger="komunikator.engine.delivery.bell"):
            assert await asyncio.to_thread(bell.flush) is False  # the bell could not be rung …
        assert "could not ring the delivery bell on redis://127.0.0.1:1/0" in caplog.text
        scope = await scope_of()
        assert await scope.outbox().filter(channel="email", status="pending").count() == 1  # … the row waits

        # the broker is back: a worker starts, the next bell reaches it
        monkeypatch.setenv("KOMUNIKATOR_BROKER_URL", broker)
        workers = Workers(tmp_path, _worker_env(db, broker, queue, sink))
        try:
            workers.start("--pool", "solo")
            bell.ring()
            assert await asyncio.to_thread(bell.flush) is True
            await sink.wait_for(lambda s: bool(s.to(READER)), 30, "the receipt")
            for _ in range(3):  # more bells (the beat) find nothing left to send
                bell.ring()
                await asyncio.to_thread(bell.flush)
            await asyncio.sleep(2)
        finally:
            workers.stop_all()
        [receipt] = sink.to(READER)
        assert response.json()["number"] in receipt.subject
        assert await scope.outbox().filter(channel="email", status="sent").count() == 1
    finally:
        sink.stop()
