"""Public ticket numbers: `ZG-2026-000123`, one gap-free sequence per tenant and year.

The counter row for (tenant, year in the tenant's time zone) is incremented
with `UPDATE … SET value = value + 1 … RETURNING value` inside the caller's
transaction: concurrent submissions queue on the row lock, and a rollback
takes its number back with it, so numbers have no gaps and no duplicates.
Take the number late in the transaction (just before inserting the ticket)
to hold the lock briefly.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope

_SQL = {
    "sqlite": (
        (
            "INSERT INTO ticket_counters (tenant_id, year, value) VALUES (?, ?, 0) "
            "ON CONFLICT (tenant_id, year) DO NOTHING"
        ),
        "UPDATE ticket_counters SET value = value + 1 WHERE tenant_id = ? AND year = ? RETURNING value",
    ),
    "postgres": (
        (
            "INSERT INTO ticket_counters (tenant_id, year, value) VALUES ($1, $2, 0) "
            "ON CONFLICT (tenant_id, year) DO NOTHING"
        ),
        "UPDATE ticket_counters SET value = value + 1 WHERE tenant_id = $1 AND year = $2 RETURNING value",
    ),
}


def ticket_year(now: datetime, time_zone: str) -> int:
    """The year `now` (timezone-aware) falls in, in the tenant's time zone."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(ZoneInfo(time_zone)).year


def format_ticket_number(prefix: str, year: int, value: int) -> str:
    """`ZG`, 2026, 123 → `ZG-2026-000123`."""
    return f"{prefix}-{year:04d}-{value:06d}"


async def next_value(scope: TenantScope, year: int) -> int:
    """Take the next number of (tenant, year): 1, 2, 3 … in the current transaction."""
    connection = db.connection()
    dialect = "postgres" if connection.capabilities.dialect == "postgres" else "sqlite"
    insert, update = _SQL[dialect]
    await connection.execute_query(insert, [scope.tenant_id, year])
    # execute_query_dict fetches rows whatever the statement (execute_query drops them for UPDATE on asyncpg)
    rows = await connection.execute_query_dict(update, [scope.tenant_id, year])
    return int(rows[0]["value"])


async def next_ticket_number(scope: TenantScope, prefix: str, time_zone: str, now: datetime) -> str:
    """Take the next public ticket number for a ticket submitted at `now`.

    Call it inside the transaction that inserts the ticket.
    """
    year = ticket_year(now, time_zone)
    return format_ticket_number(prefix, year, await next_value(scope, year))
