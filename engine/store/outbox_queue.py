"""The outbox table as a queue: claiming rows with a lease, and marking them sent.

These two statements run once per batch and once per message, across
tenants, so they are written in SQL for both databases rather than through
the ORM (whose query building costs more than the statement itself). Every
other outbox access goes through `TenantScope`.

- **Claim** (`claim_sql`): `UPDATE … SET claimed_until = now + lease,
  attempts = attempts + 1 WHERE id IN (SELECT … ORDER BY id LIMIT n
  [FOR UPDATE SKIP LOCKED]) RETURNING …`, in its own transaction. On
  PostgreSQL `SKIP LOCKED` lets concurrent workers take disjoint rows; SQLite
  has one writer at a time, so the statement is atomic as it is.
- **Mark sent** (`mark_sent`): one statement per message, committed before
  the next message is sent (a crash resends at most the row in flight). On
  PostgreSQL it commits without waiting for the WAL flush
  (`synchronous_commit = off`, for that transaction only): a worker that dies
  cannot lose a committed mark; a database crash could lose the last few,
  and those rows go out again with the same Message-ID. On SQLite (WAL, the
  default journal) the same trade: that one commit runs under `synchronous =
  NORMAL` — written to the WAL, so a crashed process loses nothing, but not
  flushed to the disk; the connection's own level (FULL by default) is
  restored at once, so tickets and every other write keep their flush. A
  power cut may lose the last marks, and those rows are resent with the same
  Message-ID: a recognisable duplicate, never a lost message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from komunikator.engine.store import db

#: The columns a claim returns, in order.
CLAIMED_COLUMNS = ("id", "tenant_id", "ticket_id", "kind", "channel", "dedupe_key", "payload", "attempts")


@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row this worker holds a lease on."""

    id: int
    tenant_id: int
    ticket_id: int | None
    kind: str
    channel: str
    dedupe_key: str
    payload: dict[str, Any]
    #: attempts after this claim: identifies the claim when marking
    attempts: int


def dialect() -> str:
    """`postgres` or `sqlite`: the database the store is connected to."""
    return "postgres" if db.connection().capabilities.dialect == "postgres" else "sqlite"


def claim_sql(dialect: str) -> str:
    """The claiming statement for `sqlite` or `postgres`.

    Parameters, in order: lease end, now, now, limit.
    """
    if dialect == "postgres":
        lease_end, now1, now2, limit, lock = "$1", "$2", "$3", "$4", " FOR UPDATE SKIP LOCKED"
    elif dialect == "sqlite":
        # SQLite has one writer at a time: the UPDATE is atomic without row locks
        lease_end, now1, now2, limit, lock = "?", "?", "?", "?", ""
    else:
        raise ValueError(f"unsupported dialect {dialect!r}")
    columns = ", ".join(CLAIMED_COLUMNS)
    return (
        f"UPDATE outbox SET claimed_until = {lease_end}, attempts = attempts + 1 "  # noqa: S608 - placeholders only
        f"WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' "
        f"AND (claimed_until IS NULL OR claimed_until < {now1}) "
        f"AND (next_attempt_at IS NULL OR next_attempt_at <= {now2}) "
        f"ORDER BY id LIMIT {limit}{lock}) "
        f"RETURNING {columns}"
    )


async def claim(now: datetime, limit: int, lease: timedelta) -> list[ClaimedRow]:
    """Take up to `limit` due rows (any tenant) for `lease`, oldest first; committed before returning."""
    async with in_transaction(db.CONNECTION) as connection:
        # execute_query_dict: Tortoise's asyncpg `execute_query` drops the rows of an UPDATE … RETURNING
        rows = await connection.execute_query_dict(claim_sql(dialect()), [now + lease, now, now, limit])
    return sorted((_claimed(dict(r)) for r in rows), key=lambda r: r.id)


def _claimed(raw: dict[str, Any]) -> ClaimedRow:
    payload = raw["payload"]
    if isinstance(payload, str | bytes):
        payload = json.loads(payload)
    return ClaimedRow(
        id=int(raw["id"]), tenant_id=int(raw["tenant_id"]),
        ticket_id=int(raw["ticket_id"]) if raw["ticket_id"] is not None else None,
        kind=raw["kind"], channel=raw["channel"], dedupe_key=raw["dedupe_key"],
        payload=dict(payload or {}), attempts=int(raw["attempts"]),
    )


async def mark_sent(row: ClaimedRow, now: datetime) -> None:
    """Record that `row` went out at `now` (whoever holds its lease: sent is always right to record)."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    if dialect() == "postgres":
        # one round trip (simple query protocol: no parameters; every value is ours and typed)
        sent_at = now.astimezone(UTC).isoformat()
        # a timestamp we formatted and two integers
        update = (
            f"UPDATE outbox SET status = 'sent', sent_at = '{sent_at}'::timestamptz, claimed_until = NULL, "  # noqa: S608
            f"last_error = NULL WHERE id = {int(row.id)} AND tenant_id = {int(row.tenant_id)}"
        )
        await db.connection().execute_script(f"BEGIN; SET LOCAL synchronous_commit TO OFF; {update}; COMMIT")
        return
    await _sqlite_unflushed(
        db.connection(),
        "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = NULL "
        "WHERE id = ? AND tenant_id = ?",
        [now.astimezone(UTC), row.id, row.tenant_id],
    )


async def _sqlite_unflushed(client: BaseDBAsyncClient, statement: str, values: list[Any]) -> None:
    """Run one autocommitted statement whose commit does not wait for the disk (SQLite's counterpart
    of `synchronous_commit = off`).

    In WAL mode `PRAGMA synchronous = NORMAL` makes a commit durable against a
    process crash (the WAL is written) but not flushed to the disk; the
    connection's own setting is restored right after. The client's lock is held
    throughout, so no other statement or transaction on the connection commits
    under the lowered setting.
    """
    async with client.acquire_connection() as connection:
        raw = cast(Any, connection)  # aiosqlite.Connection
        settings = _sqlite_settings.get(raw)
        if settings is None:
            mode = (await raw.execute_fetchall("PRAGMA journal_mode"))[0][0]
            level = (await raw.execute_fetchall("PRAGMA synchronous"))[0][0]
            settings = _sqlite_settings[raw] = (str(mode).lower() == "wal", int(level))
        wal, level = settings
        if not wal or level <= 1:  # a rollback journal needs its flush; OFF/NORMAL: nothing to lower
            await raw.execute_fetchall(statement, values)
            return
        await raw.execute("PRAGMA synchronous = NORMAL")
        try:
            await raw.execute_fetchall(statement, values)
        finally:
            await raw.execute(f"PRAGMA synchronous = {level}")


#: per aiosqlite connection: (in WAL mode, its own `synchronous` level), read once
_sqlite_settings: WeakKeyDictionary[Any, tuple[bool, int]] = WeakKeyDictionary()


@asynccontextmanager
async def unflushed_commit() -> AsyncIterator[None]:
    """A PostgreSQL transaction committed without waiting for the disk flush (`synchronous_commit = off`).

    For the outbox's marks (see `mark_sent`): a crash loses at most the last
    marks, and those messages go out again with the same Message-ID.
    """
    async with in_transaction(db.CONNECTION) as connection:
        await connection.execute_script("SET LOCAL synchronous_commit TO OFF")
        yield
