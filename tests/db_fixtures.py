"""pytest plugin: a migrated, empty database per test, on SQLite or PostgreSQL.

Loaded by `tests/conftest.py` (`pytest_plugins`). The database is chosen once
per run by `KOMUNIKATOR_TEST_DB=sqlite|postgres` (default sqlite); the suite
runs once per database rather than switching inside a process.

Fixtures:
  db_backend          "sqlite" or "postgres"
  database_url        a migrated database with no rows, for this test
  db                  the same, with Tortoise initialised on the test's event
                      loop (async tests; anyio runs them); yields the URL
  empty_database_url  a database with no tables at all (migration tests)

Tests using any of these are marked `db` automatically, so a second run can
pick them with `-m db`.

SQLite: one template file is migrated per session and copied for each test.
PostgreSQL (`KOMUNIKATOR_TEST_POSTGRES_URL`, default
postgres://postgres@127.0.0.1:5432/postgres): one fresh database per session,
migrated once, emptied before each test (ids keep counting), dropped at the end. If
PostgreSQL is unreachable the tests are skipped, or fail when `CI` (or
`KOMUNIKATOR_CI`) is set.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from komunikator.engine.store import db as store_db
from komunikator.engine.store.introspect import MIGRATIONS_TABLE
from komunikator.engine.store.runner import StoreRunner

TEST_DB_ENV = "KOMUNIKATOR_TEST_DB"
POSTGRES_URL_ENV = "KOMUNIKATOR_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
#: Fixtures that touch a database: tests using them get the `db` marker.
DB_FIXTURES = frozenset({"db", "database_url", "empty_database_url", "migrated_database"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses a database (runs on SQLite and on PostgreSQL)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _in_ci() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("KOMUNIKATOR_CI"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Postgres:
    """The test server, reached through its maintenance database."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def _run(self, url: str, *statements: str) -> None:
        import asyncpg  # type: ignore[import-untyped]  # only the PostgreSQL run needs it

        async def run() -> None:
            connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
            try:
                for sql in statements:
                    await connection.execute(sql)
            finally:
                await connection.close()

        asyncio.run(run())

    def _admin(self, *statements: str) -> None:
        self._run(self.admin_url, *statements)

    def clean(self, url: str) -> None:
        """Delete every row but the migration records, in one transaction.

        DELETE with triggers off (`session_replication_role`: foreign keys and
        the append-only triggers) is several times faster than TRUNCATE here.
        """
        self._run(
            url,
            f"""
            DO $$
            DECLARE t text;
            BEGIN
                SET LOCAL session_replication_role = replica;
                FOR t IN SELECT tablename FROM pg_tables
                         WHERE schemaname = current_schema() AND tablename <> '{MIGRATIONS_TABLE}'
                LOOP
                    EXECUTE format('DELETE FROM %I', t);
                END LOOP;
            END
            $$
            """,
        )

    def check(self) -> None:
        """Skip (or, in CI, fail) when the server cannot be reached."""
        try:
            self._admin("SELECT 1")
        except Exception as error:  # noqa: BLE001 - any failure means "no server"
            message = (
                f"{TEST_DB_ENV}=postgres but PostgreSQL at {self.admin_url} is unreachable "
                f"({type(error).__name__}: {error})"
            )
            if _in_ci():
                pytest.fail(message, pytrace=False)
            pytest.skip(message + "; start it (pg_ctlcluster … main start) or run with KOMUNIKATOR_TEST_DB=sqlite")

    def create(self, prefix: str) -> str:
        """A new empty database; its URL."""
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return _with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        """Drop the database at `url`, closing whoever is still connected."""
        name = urlsplit(url).path.lstrip("/")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def db_backend() -> str:
    """The database this run tests against."""
    backend = os.environ.get(TEST_DB_ENV, "sqlite")
    if backend not in ("sqlite", "postgres"):
        pytest.fail(f"{TEST_DB_ENV} must be sqlite or postgres, not {backend!r}", pytrace=False)
    return backend


@pytest.fixture(scope="session")
def postgres(db_backend: str) -> Postgres | None:
    """The PostgreSQL server (None on a SQLite run)."""
    if db_backend != "postgres":
        return None
    server = Postgres(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    server.check()
    return server


def _upgrade(url: str) -> None:
    with StoreRunner(url, init=False) as runner:
        runner.run(store_db.upgrade(url))


@pytest.fixture(scope="session")
def migrated_database(
    db_backend: str, postgres: Postgres | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The session's migrated database (SQLite: the template file tests copy)."""
    if postgres is None:
        url = f"sqlite://{tmp_path_factory.mktemp('db-template') / 'template.sqlite3'}"
        _upgrade(url)
        yield url
        return
    url = postgres.create("komunikator_test")
    try:
        _upgrade(url)
        yield url
    finally:
        postgres.drop(url)


@pytest.fixture
def database_url(
    migrated_database: str, postgres: Postgres | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A migrated database with no rows, for this test only, and a media folder of its own.

    The photo store goes with its database: a job that deletes the files no
    attachment row names (`blob_gc`) must never look at a real media folder
    while talking to a test database.
    """
    monkeypatch.setenv("KOMUNIKATOR_MEDIA_DIR", str(tmp_path / "media"))
    if postgres is None:
        source = Path(migrated_database.removeprefix("sqlite://"))
        target = tmp_path / "komunikator.sqlite3"
        for suffix in ("", "-wal", "-shm"):  # WAL sidecars, should a checkpoint be pending
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        return f"sqlite://{target}"
    postgres.clean(migrated_database)
    return migrated_database


@pytest.fixture
async def db(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    """Tortoise initialised on a clean migrated database for an async test; yields the URL."""
    await store_db.init(database_url)
    try:
        yield database_url
    finally:
        await store_db.close()


@pytest.fixture
def empty_database_url(db_backend: str, postgres: Postgres | None, tmp_path: Path) -> Iterator[str]:
    """A database with no tables, for testing migrations themselves."""
    if postgres is None:
        yield f"sqlite://{tmp_path / 'empty' / 'komunikator.sqlite3'}"
        return
    url = postgres.create("komunikator_empty")
    try:
        yield url
    finally:
        postgres.drop(url)
