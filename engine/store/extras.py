"""Schema objects the ORM does not model, recreated after every upgrade.

SQLite table rebuilds (how Tortoise alters a SQLite column) drop triggers, so
`install` drops and recreates each object in one transaction: running it
twice changes nothing.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

#: Tables whose rows may be inserted but never changed or removed.
APPEND_ONLY_TABLES = ("audit_events",)


def _sqlite(table: str) -> list[str]:
    statements = []
    for op in ("UPDATE", "DELETE"):
        name = f"{table}_no_{op.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            (
                f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} is not allowed'); END"
            ),
        ]
    return statements


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION komunikator_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def _postgres(table: str) -> list[str]:
    name = f"{table}_append_only"
    return [
        _PG_FUNCTION,
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        (
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION komunikator_append_only()"
        ),
    ]


def statements(dialect: str) -> list[str]:
    """The SQL that (re)creates every extra object on `dialect` (`sqlite` or `postgres`)."""
    make = {"sqlite": _sqlite, "postgres": _postgres}[dialect]
    return [sql for table in APPEND_ONLY_TABLES for sql in make(table)]


async def install(connection: BaseDBAsyncClient, dialect: str) -> None:
    """(Re)create every extra object, atomically."""
    async with in_transaction(connection.connection_name) as txn:
        for sql in statements(dialect):
            await txn.execute_script(sql)
