"""`komunikator db …`: create and migrate the database."""

from __future__ import annotations

from typing import Annotated

import typer
from tortoise.exceptions import BaseORMException

from komunikator.engine.store import db
from komunikator.engine.store.runner import StoreRunner

db_app = typer.Typer(name="db", help="Create and migrate the database.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help=f"database URL (default: ${db.DATABASE_URL_ENV} or {db.DEFAULT_DATABASE_URL})",
        show_default=False,
    ),
]


def _fail(url: str, error: Exception) -> typer.Exit:
    typer.echo(f"{_safe(url)}: {type(error).__name__}: {error}", err=True)
    return typer.Exit(1)


def _safe(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':', 1)[0]}@{tail}"


@db_app.command()
def upgrade(url: UrlOption = None) -> None:
    """Apply pending migrations, then recreate triggers; safe to run again."""
    url = url or db.database_url()
    try:
        with StoreRunner(url, init=False) as runner:
            applied = runner.run(db.upgrade(url))
    except (BaseORMException, OSError, ValueError) as error:
        raise _fail(url, error) from None
    for name in applied:
        typer.echo(f"applied {name}")
    typer.echo(f"{_safe(url)}: up to date" + ("" if applied else " (nothing to apply)"))


@db_app.command()
def status(url: UrlOption = None) -> None:
    """List migrations and whether each has been applied."""
    url = url or db.database_url()
    try:
        with StoreRunner(url, init=False) as runner:
            states = runner.run(db.status(url))
    except (BaseORMException, OSError, ValueError) as error:
        raise _fail(url, error) from None
    for state in states:
        typer.echo(f"[{'x' if state.applied else ' '}] {state.name}")
    pending = sum(not s.applied for s in states)
    typer.echo(f"{_safe(url)}: " + (f"{pending} pending migration(s)" if pending else "up to date"))
