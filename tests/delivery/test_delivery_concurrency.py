"""Two workers draining one outbox at once never send a row twice (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from delivery_helpers import NOW, SmtpSink, add_row, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import DeliveryReport, claim_sql, deliver_pending
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope

pytestmark = pytest.mark.anyio
Zgierz = tuple[TenantScope, CompiledTenant]
ROWS = 100


async def test_two_concurrent_workers_send_each_row_once(zgierz: Zgierz, sink: SmtpSink, db_backend: str) -> None:
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    for n in range(ROWS):
        await add_row(scope, ticket, "ticket_received", ["reporter"], key=f"c{n:03d}")
    sink.handler.delay = 0.002  # the server takes a moment, so the workers overlap

    async def worker(name: str) -> DeliveryReport:
        channels = sink.channels()
        total = DeliveryReport()
        try:
            while True:
                report = await deliver_pending(registry(), now=NOW, limit=7, worker=name, channels=channels)
                total += report
                if report.claimed == 0:
                    return total
                await asyncio.sleep(0)
        finally:
            await close_channels(channels)

    first, second = await asyncio.gather(worker("w1"), worker("w2"))
    assert first.sent + second.sent == ROWS
    assert first.claimed + second.claimed == ROWS
    assert first.sent > 0 and second.sent > 0, "both workers took part"
    ids = Counter(r.message_id for r in sink.wait_for(ROWS))
    assert len(ids) == ROWS
    assert max(ids.values()) == 1
    assert await scope.outbox().filter(status="sent").count() == ROWS
    assert await scope.outbox().filter(attempts__gt=1).count() == 0


def test_the_claim_locks_rows_on_postgres_only() -> None:
    assert "FOR UPDATE SKIP LOCKED" in claim_sql("postgres")
    assert "$4" in claim_sql("postgres")
    assert "SKIP LOCKED" not in claim_sql("sqlite")
    assert claim_sql("sqlite").count("?") == 4
    with pytest.raises(ValueError, match="unsupported"):
        claim_sql("mysql")


async def test_on_sqlite_only_the_sent_mark_skips_the_disk_flush(zgierz: Zgierz, sink: SmtpSink,
                                                                  db_backend: str) -> None:
    """The mark commits under `synchronous = NORMAL` (WAL); the connection's FULL comes back at once."""
    if db_backend != "sqlite":
        pytest.skip("a SQLite pragma (PostgreSQL: `synchronous_commit = off`, per transaction)")
    scope, tenant = zgierz
    ticket = await submit_report(scope, tenant)
    await scope.outbox().all().delete()
    for n in range(3):
        await add_row(scope, ticket, "ticket_received", ["reporter"], key=f"m{n}")
    raw = db.connection()._connection  # the aiosqlite connection
    assert (await raw.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    statements: list[str] = []
    await raw.set_trace_callback(statements.append)
    channels = sink.channels()
    try:
        report = await deliver_pending(registry(), now=NOW, channels=channels)
    finally:
        await close_channels(channels)
        await raw.set_trace_callback(None)
    assert report.sent == 3
    trail = [s for s in statements if s.startswith(("PRAGMA synchronous", "UPDATE outbox SET status = 'sent'"))]
    updates = trail[2::3]
    assert len(updates) == 3 and all(u.startswith("UPDATE outbox") for u in updates)
    assert trail == ["PRAGMA synchronous",
                     *(s for u in updates for s in ("PRAGMA synchronous = NORMAL", u, "PRAGMA synchronous = 2"))]
    assert (await raw.execute_fetchall("PRAGMA synchronous"))[0][0] == 2  # FULL again
    await submit_report(scope, tenant)  # and later writes are flushed as before
    assert (await raw.execute_fetchall("PRAGMA synchronous"))[0][0] == 2
