"""Schema objects the ORM does not model, recreated after every upgrade.

- the triggers that make `audit_events` append-only;
- full-text search over `ticket_search.document`: on PostgreSQL the
  `unaccent` and `btree_gin` extensions, an IMMUTABLE wrapper around
  `unaccent`, the column `document_vector` generated from
  `to_tsvector('simple', komunikator_unaccent(document))` and a GIN index on
  (tenant_id, document_vector); on SQLite an FTS5 external-content table with
  the triggers that keep it in sync;
- on PostgreSQL, an index for prefix search over the address points
  (`text_pattern_ops`: `LIKE 'dluga%'` uses it whatever the database's
  collation; SQLite's own index on the same columns serves `LIKE` there).

SQLite table rebuilds (how Tortoise alters a SQLite column) drop triggers, so
`install` drops and recreates each object in one transaction: running it
twice changes nothing. On PostgreSQL nothing drops them, so the (costly) GIN
index is created only if missing.
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


# -- full-text search ---------------------------------------------------------------------------

#: The table holding each ticket's search document (`models.TicketSearch`).
SEARCH_TABLE = "ticket_search"
#: SQLite: the FTS5 table over `ticket_search` (FTS5 adds shadow tables `<name>_data` …).
FTS_TABLE = "ticket_search_fts"
_FTS_TRIGGERS = {"ai": "AFTER INSERT", "ad": "AFTER DELETE", "au": "AFTER UPDATE"}
#: PostgreSQL: the IMMUTABLE wrapper (unaccent itself is only STABLE, so cannot be indexed).
PG_UNACCENT = "komunikator_unaccent"
#: PostgreSQL: the document's tsvector, kept in a stored generated column (not modelled by the ORM).
#: Stored, because plans that check candidate rows one by one (walking the list's own
#: indexes, the usual plan behind a selective filter) would otherwise recompute
#: unaccent + to_tsvector per row: 40–100 µs each, most of a search's time.
PG_DOCUMENT_VECTOR = "document_vector"
PG_VECTOR_EXPRESSION = f"to_tsvector('simple', {PG_UNACCENT}(document))"
#: PostgreSQL: the GIN index (rename it, e.g. `_v2`, whenever the function or expression changes).
PG_FTS_INDEX = "ticket_search_vector_fts"
#: Earlier search indexes, dropped by `install`.
_PG_OLD_INDEXES = ("ticket_search_document_fts",)


_FTS_INSERT = "INSERT INTO ticket_search_fts(rowid, document) VALUES (new.id, new.document);"
_FTS_DELETE = (
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, document) VALUES ('delete', old.id, old.document);"
)
_FTS_BODIES = {"ai": _FTS_INSERT, "ad": _FTS_DELETE, "au": f"{_FTS_DELETE} {_FTS_INSERT}"}


def _sqlite_search() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}" for suffix in _FTS_TRIGGERS]
    statements += [
        f"DROP TABLE IF EXISTS {FTS_TABLE}",
        # remove_diacritics 2 folds ż, ó, ą … but not ł (no Unicode decomposition):
        # the search module writes ł as l into the document (search.document_text)
        (
            "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(document, content='ticket_search', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        ),
    ]
    statements += [
        f"CREATE TRIGGER {FTS_TABLE}_{suffix} {event} ON {SEARCH_TABLE} BEGIN {_FTS_BODIES[suffix]} END"
        for suffix, event in _FTS_TRIGGERS.items()
    ]
    # fill the new index from ticket_search (external content)
    statements.append("INSERT INTO ticket_search_fts(ticket_search_fts) VALUES ('rebuild')")
    return statements


# `unaccent(regdictionary, text)` with both schema-qualified: a SQL function the
# planner can inline, immune to the caller's search_path.
_PG_UNACCENT_FUNCTION = """
DO $do$
DECLARE
    home text;
BEGIN
    SELECT n.nspname INTO home FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'unaccent';
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION komunikator_unaccent(text) RETURNS text '
        'LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS %L',
        format('SELECT %I.unaccent(%L::regdictionary, $1)', home, quote_ident(home) || '.unaccent'));
END
$do$
"""


def _postgres_search() -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        # btree_gin lets the GIN index lead with tenant_id (every index here does)
        "CREATE EXTENSION IF NOT EXISTS btree_gin",
        _PG_UNACCENT_FUNCTION,
        (
            f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN IF NOT EXISTS {PG_DOCUMENT_VECTOR} tsvector "
            f"GENERATED ALWAYS AS ({PG_VECTOR_EXPRESSION}) STORED"
        ),
        *(f"DROP INDEX IF EXISTS {name}" for name in _PG_OLD_INDEXES),
        f"CREATE INDEX IF NOT EXISTS {PG_FTS_INDEX} ON {SEARCH_TABLE} USING gin (tenant_id, {PG_DOCUMENT_VECTOR})",
    ]


#: PostgreSQL's prefix-search index on address points (engine/service/addresses.py)
PG_ADDRESS_PREFIX_INDEX = "address_points_prefix"


def _postgres_addresses() -> list[str]:
    return [(f"CREATE INDEX IF NOT EXISTS {PG_ADDRESS_PREFIX_INDEX} ON address_points "
             "(tenant_id, street_key text_pattern_ops, number_key text_pattern_ops)")]


def expected_triggers(dialect: str) -> list[tuple[str, str]]:
    """Every (table, trigger) `install` leaves on `dialect`, sorted."""
    if dialect == "sqlite":
        found = [(t, f"{t}_no_{op}") for t in APPEND_ONLY_TABLES for op in ("update", "delete")]
        found += [(SEARCH_TABLE, f"{FTS_TABLE}_{suffix}") for suffix in _FTS_TRIGGERS]
    else:
        found = [(t, f"{t}_append_only") for t in APPEND_ONLY_TABLES]
    return sorted(found)


def is_extra_table(name: str) -> bool:
    """Whether table `name` belongs to the extras (SQLite's FTS5 table and its shadow tables)."""
    return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")


def statements(dialect: str) -> list[str]:
    """The SQL that (re)creates every extra object on `dialect` (`sqlite` or `postgres`)."""
    make = {"sqlite": _sqlite, "postgres": _postgres}[dialect]
    search = {"sqlite": _sqlite_search, "postgres": _postgres_search}[dialect]
    extra = _postgres_addresses() if dialect == "postgres" else []
    return [sql for table in APPEND_ONLY_TABLES for sql in make(table)] + search() + extra


async def install(connection: BaseDBAsyncClient, dialect: str) -> None:
    """(Re)create every extra object, atomically."""
    async with in_transaction(connection.connection_name) as txn:
        for sql in statements(dialect):
            await txn.execute_script(sql)


async def forget_deleted_search_text(connection: BaseDBAsyncClient, dialect: str) -> None:
    """Make the search index drop text already removed from `ticket_search` (after an erasure).

    SQLite's FTS5 keeps a replaced document's words in its segments, marked
    deleted, until segments merge; `optimize` merges them all now, so erased
    words are gone from the index's own tables. PostgreSQL's index is over
    the live rows (nothing to do: dead tuples are reclaimed by VACUUM).
    """
    if dialect == "sqlite":
        await connection.execute_script(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
