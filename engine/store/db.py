"""Connecting to the database and migrating it.

The database URL comes from `KOMUNIKATOR_DATABASE_URL` (default: a SQLite
file `var/komunikator.sqlite3` under the working directory). Schema changes
are Tortoise ORM's built-in migrations in `engine/store/migrations/`;
`upgrade` applies them and then recreates what the ORM does not model
(`extras.py`: the triggers that make `audit_events` append-only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate
from tortoise.migrations.executor import MigrationExecutor

from komunikator.engine.store import extras
from komunikator.engine.store.models import APP

DATABASE_URL_ENV = "KOMUNIKATOR_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite://var/komunikator.sqlite3"
MODELS_MODULE = "komunikator.engine.store.models"
MIGRATIONS_MODULE = "komunikator.engine.store.migrations"
CONNECTION = "default"


def database_url() -> str:
    """The configured database URL (`KOMUNIKATOR_DATABASE_URL` or the SQLite default)."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection returned to the pool without a reset query.

    asyncpg's pool resets every connection on release (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): one more
    round trip after every statement run outside a transaction, a tenth of a
    short list query's time. Komunikator leaves nothing in a session to reset:
    settings change only with `SET LOCAL` inside a transaction, locks are
    row locks or transaction-scoped, nothing LISTENs, cursors and temporary
    tables are not used (`tests/store/test_pool_sessions.py` keeps it so). An
    open transaction is still rolled back on release, by asyncpg itself.
    """

    def get_reset_query(self) -> str:
        """Nothing to reset (see the class docstring)."""
        return ""


def connection_config(db_url: str) -> str | dict[str, Any]:
    """Tortoise's connection entry for `db_url`: the URL, or for asyncpg its expansion with `PooledConnection`."""
    config = expand_db_url(db_url)
    if not config["engine"].endswith("asyncpg"):
        return db_url
    config["credentials"]["connection_class"] = PooledConnection
    return config


def tortoise_config(db_url: str | None = None) -> dict[str, Any]:
    """The Tortoise configuration for `db_url` (default: `database_url()`): the core app, then each plugin's."""
    apps: dict[str, Any] = {
        APP: {"models": [MODELS_MODULE], "default_connection": CONNECTION, "migrations": MIGRATIONS_MODULE},
    }
    for name, models, migrations in plugin_apps():
        apps[name] = {"models": [models], "default_connection": CONNECTION, "migrations": migrations}
    return {
        "connections": {CONNECTION: connection_config(db_url or database_url())},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


def plugin_apps() -> list[tuple[str, str, str | None]]:
    """(app name, models module, migrations module) of every installed plugin that brings tables.

    Each plugin is a Tortoise app of its own, named after it; its migrations
    depend on the core's (its tables point at `tenants`), so `upgrade`
    applies the core first. Installed means registered (entry point
    `komunikator.plugins`): a plugin's tables exist in every database, and a
    city that has not enabled it simply has no rows there.
    """
    from komunikator.engine.config.builtins import default_registry  # the installed plugins, built once

    return [(p.name, p.models, p.migrations) for p in default_registry().plugins.values() if p.models]


def __getattr__(name: str) -> Any:
    # `tortoise -c komunikator.engine.store.db.TORTOISE_ORM makemigrations` reads this.
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(name)


def dialect(db_url: str) -> str:
    """`sqlite` or `postgres` (the two databases Komunikator supports)."""
    engine = expand_db_url(db_url)["engine"]
    if engine.endswith("sqlite"):
        return "sqlite"
    if engine.endswith(("asyncpg", "psycopg")):
        return "postgres"
    raise ValueError(f"unsupported database {db_url!r}: use sqlite://PATH or postgres://…")


def _prepare(db_url: str) -> str:
    """Check the URL and create a SQLite file's folder."""
    if dialect(db_url) == "sqlite":
        path = expand_db_url(db_url)["credentials"]["file_path"]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return db_url


async def init(db_url: str | None = None, *, serving: bool = False) -> None:
    """Initialise Tortoise for `db_url` in the current context (connections open lazily).

    `serving=True` (the web app, once per process) also makes this context the
    process-wide fallback: ASGI servers run each request in a copy of the
    context the lifespan started in, where Tortoise's context variable is unset.
    """
    await Tortoise.init(config=tortoise_config(_prepare(db_url or database_url())), _enable_global_fallback=serving)


async def close() -> None:
    """Close every connection of the current context (an open SQLite connection hangs exit)."""
    await Tortoise.close_connections()


def connection() -> BaseDBAsyncClient:
    """The connection queries run on now: inside `in_transaction()`, the transaction's."""
    return Tortoise.get_connection(CONNECTION)


@dataclass(frozen=True)
class MigrationState:
    """One migration on disk and whether the database has it."""

    name: str
    applied: bool


async def upgrade(db_url: str | None = None) -> list[str]:
    """Apply every pending migration, then recreate the extras; return the names applied.

    Idempotent: a second run applies nothing and leaves the extras as they are.
    Leaves Tortoise initialised on `db_url` in the current context; call `close()`.
    """
    url = _prepare(db_url or database_url())
    applied: list[str] = []

    def progress(event: str, app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name if app == APP else f"{app}.{name}")

    await migrate(config=tortoise_config(url), direction="forward", progress=progress)
    await extras.install(connection(), dialect(url))
    return applied


async def status(db_url: str | None = None) -> list[MigrationState]:
    """Every migration on disk, in order, and whether it has been applied."""
    url = _prepare(db_url or database_url())
    config = tortoise_config(url)
    await Tortoise.init(config=config, init_connections=False)
    executor = MigrationExecutor(connection(), config["apps"])
    await executor.loader.build_graph()
    graph = executor.loader.graph
    done = executor.loader.applied_migrations
    ordered = [key for app in config["apps"] for leaf in graph.leaf_nodes(app) for key in graph.forwards_plan(leaf)]
    return [MigrationState(key.name if key.app_label == APP else f"{key.app_label}.{key.name}", key in done)
            for key in dict.fromkeys(ordered)]
