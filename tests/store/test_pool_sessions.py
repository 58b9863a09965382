"""PostgreSQL connections go back to the pool without a reset query: nothing may leave session state behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from komunikator.engine.store import db as store_db

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for folder in ("engine", "web", "cli", "plugins") for p in sorted((ROOT / folder).rglob("*.py"))]
#: SQL that changes a session beyond its transaction (`store_db.PooledConnection` would hand it to the next user).
SESSION_STATE = {
    "a session-level SET (use SET LOCAL inside a transaction)":
        re.compile(r"""(?:^|["';]|BEGIN\s*;?)\s*SET\s+(?!LOCAL\b)(?:SESSION\s+)?\w+\s*(?:=|TO\b)""", re.IGNORECASE),
    "set_config(…, false) (session-wide)": re.compile(r"set_config\s*\([^)]*false", re.IGNORECASE),
    "a session advisory lock (use pg_advisory_xact_lock)": re.compile(r"pg_(?:try_)?advisory_lock", re.IGNORECASE),
    "LISTEN": re.compile(r"""["']\s*LISTEN\s""", re.IGNORECASE),
    "a temporary table": re.compile(r"CREATE\s+TEMP(?:ORARY)?\s+TABLE", re.IGNORECASE),
    "a cursor outside a transaction": re.compile(r"DECLARE\s+\w+\s+(?:\w+\s+)*CURSOR\s+WITH\s+HOLD", re.IGNORECASE),
}


def test_the_guard_recognises_session_state() -> None:
    caught = [name for name, pattern in SESSION_STATE.items() for sql in (
        '"SET statement_timeout = 5"', "'SET search_path TO x'", "BEGIN; SET work_mem = '1MB'",
        "select set_config('a.b', '1', false)", "pg_advisory_lock(1)", "' LISTEN events'",
        "CREATE TEMP TABLE t (x int)", "DECLARE c NO SCROLL CURSOR WITH HOLD FOR",
    ) if pattern.search(sql)]
    assert len(set(caught)) == len(SESSION_STATE)
    allowed = ['"BEGIN; SET LOCAL synchronous_commit TO OFF"', '"UPDATE outbox SET status = \'sent\'"',
               "SET LOCAL lock_timeout = '1s'", "pg_advisory_xact_lock(1)"]
    assert not [sql for sql in allowed for pattern in SESSION_STATE.values() if pattern.search(sql)]


def test_no_code_leaves_state_in_a_pooled_session() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {name}: {line.strip()}"
             for path in SOURCES for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for name, pattern in SESSION_STATE.items() if pattern.search(line)]
    assert not found, "\n".join(found)


def test_only_asyncpg_gets_the_pooled_connection_class() -> None:
    config = store_db.connection_config("postgres://u:p@db.example:5433/city?maxsize=9")
    assert isinstance(config, dict)
    assert config["credentials"]["connection_class"] is store_db.PooledConnection
    assert (config["credentials"]["host"], config["credentials"]["port"], config["credentials"]["maxsize"]) == (
        "db.example", 5433, "9")
    assert store_db.connection_config("sqlite://var/k.sqlite3") == "sqlite://var/k.sqlite3"


@pytest.mark.anyio
async def test_a_released_connection_keeps_no_transaction_and_no_local_setting(db: str, db_backend: str) -> None:
    if db_backend != "postgres":
        pytest.skip("PostgreSQL's connection pool")
    client = store_db.connection()
    async with in_transaction(store_db.CONNECTION) as tx:
        await tx.execute_script("SET LOCAL statement_timeout TO '1234ms'")
        assert (await tx.execute_query_dict("SHOW statement_timeout"))[0]["statement_timeout"] == "1234ms"
    for _ in range(3):  # whichever pooled connection answers
        rows = await client.execute_query_dict("SELECT current_setting('statement_timeout') AS t")
        assert rows[0]["t"] != "1234ms"
    raw = await client._pool.acquire()  # asyncpg's own: a transaction left open is rolled back on release
    try:
        assert type(raw._con) is store_db.PooledConnection
        await raw.execute("BEGIN")
    finally:
        await client._pool.release(raw)
    async with client._pool.acquire() as again:
        assert not again.is_in_transaction()
