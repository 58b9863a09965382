"""A submission whose database session dies half-way: 503, nothing saved, and the retry works.

The fault is armed at `intake.after_ticket`, between the ticket insert and
the attribute inserts, so the ticket row, its number and the reporter's
contact are already written inside the transaction when the session dies.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

import pytest
from fault_injection import armed
from web_helpers import Api, registry, report

from komunikator.engine.store import db
from komunikator.engine.store.models import (
    AuditEvent,
    IdempotencyKey,
    OutboxMessage,
    ReporterContact,
    Ticket,
    TicketAttribute,
)
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"
TABLES = (Ticket, TicketAttribute, ReporterContact, AuditEvent, OutboxMessage, IdempotencyKey)


async def _counts(scope: TenantScope) -> dict[str, int]:
    return {model.__name__: await scope.query(model).count() for model in TABLES}


#: Server process ids of the PostgreSQL sessions the fault killed.
KILLED: list[int] = []


def _killer(backend: str) -> Callable[[], Awaitable[None]]:
    """The fault: the database session dies in the middle of the submission's transaction."""
    if backend == "postgres":

        async def terminate() -> None:
            # What an operator's pg_terminate_backend, a failover or a network cut does: the
            # server ends this session; the open transaction is rolled back by the server.
            connection = db.connection()
            KILLED.append((await connection.execute_query_dict("SELECT pg_backend_pid() AS pid"))[0]["pid"])
            await connection.execute_query("SELECT pg_terminate_backend(pg_backend_pid())")

        return terminate

    async def io_error() -> None:
        # SQLite runs in-process: its "session" dies when the driver reports an I/O fault
        # (full disk, a lost network mount, a corrupted page): sqlite3 raises OperationalError
        # mid-statement and the transaction must be rolled back. Closing the aiosqlite
        # connection from under the ORM is not such a fault: the next insert and Tortoise's
        # own rollback then fail with `ValueError: no active connection`, a programming error.
        raise sqlite3.OperationalError("disk I/O error")

    return io_error


async def test_a_killed_session_saves_nothing_and_the_retry_creates_one_ticket(api: Api, db_backend: str) -> None:
    client = api.client(ZG)
    scope = TenantScope((await ensure_tenant(ZG)).id)
    body = report(attributes={"size": "large", "lane_blocked": "partly"})
    key = {"Idempotency-Key": "crash-1"}
    before = await _counts(scope)
    assert before == dict.fromkeys(before, 0)

    with armed("intake.after_ticket", _killer(db_backend)):
        crashed = await client.post("/api/v1/tickets", json=body, headers=key)

    assert crashed.status_code == 503, crashed.text
    assert crashed.json() == {"error": "database_unavailable",
                              "message": "the database is unavailable; nothing was saved, retry"}
    assert await _counts(scope) == before
    if db_backend == "postgres":  # the session really died (and the pool did not hand it out again)
        gone = await db.connection().execute_query_dict(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1", [KILLED[-1]])
        assert gone[0]["n"] == 0

    retried = await client.post("/api/v1/tickets", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    assert retried.json()["number"] == "ZG-2026-000001"  # the counter rolled back with the ticket
    after = await _counts(scope)
    assert after["Ticket"] == 1
    assert after["TicketAttribute"] == 2
    assert after["ReporterContact"] == 1
    assert after["IdempotencyKey"] == 1
    assert after["AuditEvent"] >= 1

    # the same key again: the first response, no second ticket
    again = await client.post("/api/v1/tickets", json=body, headers=key)
    assert again.status_code == 201
    assert again.json() == retried.json()
    assert await scope.tickets().count() == 1


async def test_the_app_keeps_serving_after_a_killed_session(api: Api, db_backend: str) -> None:
    """More crashes in a row than the pool holds connections (asyncpg's default: 5): reads and writes still work.

    A pool that handed out a killed connection again would fail every later request.
    """
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    scope = TenantScope((await ensure_tenant(ZG)).id)
    for attempt in range(6):
        with armed("intake.after_ticket", _killer(db_backend)):
            r = await client.post("/api/v1/tickets", json=report(), headers={"Idempotency-Key": f"k{attempt}"})
        assert r.status_code == 503, r.text

    r = await client.get("/api/v1/tickets", headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
    r = await client.post("/api/v1/tickets", json=report(), headers={"Idempotency-Key": "k0"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert number == "ZG-2026-000001"
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_progress"
    assert await scope.tickets().count() == 1


@pytest.mark.parametrize("checkpoint", ["intake.before_ticket", "intake.after_ticket"])
async def test_a_crash_at_either_checkpoint_leaves_the_other_tenant_untouched(
    api: Api, db_backend: str, checkpoint: str
) -> None:
    """A dying session rolls back only its own transaction: nieporet's ticket survives."""
    nieporet = api.client("nieporet")
    tenant = registry().tenants["nieporet"]
    category = next(c for c in tenant.categories.values() if "public" in c.spec.intake
                    and not any(a.required for a in c.spec.attributes.values()))
    box = tenant.config.map.bounds
    ok = await nieporet.post("/api/v1/tickets", json={
        "category": category.name, "description": "ok", "lat": (box.south + box.north) / 2,
        "lon": (box.west + box.east) / 2, "reporter": {"email": "a@example.pl"}})
    assert ok.status_code == 201, ok.text

    with armed(checkpoint, _killer(db_backend)):
        r = await api.client(ZG).post("/api/v1/tickets", json=report())
    assert r.status_code == 503, r.text
    np_scope = TenantScope((await ensure_tenant("nieporet")).id)
    zg_scope = TenantScope((await ensure_tenant(ZG)).id)
    assert await np_scope.tickets().count() == 1
    assert await zg_scope.tickets().count() == 0
    assert await zg_scope.reporter_contacts().count() == 0
