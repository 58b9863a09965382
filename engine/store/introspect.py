"""What the database really holds: indexes and triggers, read from its catalog.

Used by the tests that check the full migration chain, and handy when a
deployment's schema is in doubt.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

#: Tortoise's own bookkeeping table.
MIGRATIONS_TABLE = "tortoise_migrations"


@dataclass(frozen=True, order=True)
class IndexInfo:
    """One index (unique constraints included, primary keys left out)."""

    table: str
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True, order=True)
class TriggerInfo:
    """One user-defined trigger."""

    table: str
    name: str


def _dialect(connection: BaseDBAsyncClient) -> str:
    return "postgres" if connection.capabilities.dialect == "postgres" else "sqlite"


async def tables(connection: BaseDBAsyncClient) -> list[str]:
    """Every user table, sorted."""
    if _dialect(connection) == "postgres":
        sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    _, rows = await connection.execute_query(sql)
    return sorted(row["name"] for row in rows)


async def indexes(connection: BaseDBAsyncClient) -> list[IndexInfo]:
    """Every index but primary keys, with its columns in order."""
    if _dialect(connection) == "postgres":
        _, rows = await connection.execute_query(
            """
            SELECT tbl.relname AS table_name, idx.relname AS index_name, ix.indisunique AS is_unique,
                   array_to_string(ARRAY(
                       SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, pos)
                       JOIN pg_attribute a ON a.attrelid = tbl.oid AND a.attnum = k.attnum
                       ORDER BY k.pos), ',') AS columns
            FROM pg_index ix
            JOIN pg_class idx ON idx.oid = ix.indexrelid
            JOIN pg_class tbl ON tbl.oid = ix.indrelid
            JOIN pg_namespace ns ON ns.oid = tbl.relnamespace
            WHERE ns.nspname = current_schema() AND NOT ix.indisprimary
            """
        )
        return sorted(
            IndexInfo(r["table_name"], r["index_name"], tuple(r["columns"].split(",")), bool(r["is_unique"]))
            for r in rows
        )
    out = []
    for table in await tables(connection):
        _, listed = await connection.execute_query(f"PRAGMA index_list('{table}')")
        for index in listed:
            if index["origin"] == "pk":
                continue
            _, cols = await connection.execute_query(f"PRAGMA index_info('{index['name']}')")
            columns = tuple(c["name"] for c in sorted(cols, key=lambda c: c["seqno"]))
            out.append(IndexInfo(table, index["name"], columns, bool(index["unique"])))
    return sorted(out)


async def triggers(connection: BaseDBAsyncClient) -> list[TriggerInfo]:
    """Every user-defined trigger."""
    if _dialect(connection) == "postgres":
        sql = (
            "SELECT c.relname AS table_name, t.tgname AS name FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        )
    else:
        sql = "SELECT tbl_name AS table_name, name FROM sqlite_master WHERE type = 'trigger'"
    _, rows = await connection.execute_query(sql)
    return sorted(TriggerInfo(r["table_name"], r["name"]) for r in rows)
