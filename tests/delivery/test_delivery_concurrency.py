"""Two workers draining one outbox at once never send a row twice (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from delivery_helpers import NOW, SmtpSink, add_row, registry, submit_report

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import DeliveryReport, claim_sql, deliver_pending
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
