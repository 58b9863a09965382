"""`komunikator db …`: create and migrate the database."""

from __future__ import annotations

from typing import Annotated

import typer

from komunikator.engine.store import db
from komunikator.engine.store.errors import DatabaseError
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
    except (DatabaseError, OSError, ValueError) as error:
        raise _fail(url, error) from None
    for name in applied:
        typer.echo(f"applied {name}")
    if "0006_timer_names" in applied:
        _name_legacy_timers(url)
    typer.echo(f"{_safe(url)}: up to date" + ("" if applied else " (nothing to apply)"))


def _name_legacy_timers(url: str) -> None:
    """Migration 0006 keeps armed timers' list positions; the configuration of today names them."""
    from komunikator.engine.errors import ConfigInvalid
    from komunikator.engine.service.definition_changes import name_legacy_timers
    from komunikator.engine.settings import Settings
    from komunikator.engine.store.scope import TenantScope, tenant_by_slug
    from komunikator.engine.tenants import TenantRegistry

    try:
        registry = TenantRegistry.load(Settings.from_env())
    except ConfigInvalid:
        typer.echo("armed timers from before 0006 not named yet (the configuration has errors): run "
                   "`komunikator db migrate-definitions` once `komunikator check` passes", err=True)
        return

    async def name_all() -> int:
        named = 0
        for slug, tenant in registry.tenants.items():
            row = await tenant_by_slug(slug)
            if row is not None:
                named += await name_legacy_timers(TenantScope(row.id), tenant)
        return named

    with StoreRunner(url) as runner:
        typer.echo(f"named {runner.run(name_all())} armed timer(s) from their position in today's configuration")


@db_app.command("migrate-definitions")
def migrate_definitions(url: UrlOption = None) -> None:
    """Fit open tickets to a changed configuration: apply `state_map`s, cancel armed timers that are gone.

    One transaction per tenant, every ticket moved audited (`state_map`);
    then what still does not fit is listed and the command exits 1.
    """
    from datetime import UTC, datetime

    from komunikator.cli.registry import load_registry
    from komunikator.engine.service.definition_changes import DefinitionDrift, migrate, verify
    from komunikator.engine.settings import Settings
    from komunikator.engine.store.scope import TenantScope, tenant_by_slug

    url = url or db.database_url()
    registry = load_registry()

    lines: list[str] = []

    async def run() -> None:
        now = datetime.now(UTC)
        for slug, tenant in sorted(registry.tenants.items()):
            row = await tenant_by_slug(slug)
            if row is None:
                continue
            report = await migrate(TenantScope(row.id), tenant, now)
            for (process, old, new), n in sorted(report.moved.items()):
                lines.append(f"{slug}: moved {n} ticket(s) of process {process} from {old} to {new}")
            if report.cancelled_timers:
                lines.append(f"{slug}: cancelled {report.cancelled_timers} armed timer(s) the configuration lost")
            if report.named_timers:
                lines.append(f"{slug}: named {report.named_timers} armed timer(s) from before migration 0006")
        await verify(registry, Settings.from_env().definitions_dir)

    try:
        with StoreRunner(url) as runner:
            runner.run(run())
    except DefinitionDrift as drift:
        typer.echo("\n".join([*lines, *drift.lines()]), err=True)
        typer.echo("what is listed above needs a change in the YAML (a `state_map`, or the name back)", err=True)
        raise typer.Exit(1) from None
    except (DatabaseError, OSError, ValueError) as error:
        raise _fail(url, error) from None
    for line in lines:
        typer.echo(line)
    typer.echo(f"{_safe(url)}: the open tickets fit the configuration" + ("" if lines else " (nothing to do)"))


@db_app.command()
def status(url: UrlOption = None) -> None:
    """List migrations and whether each has been applied."""
    url = url or db.database_url()
    try:
        with StoreRunner(url, init=False) as runner:
            states = runner.run(db.status(url))
    except (DatabaseError, OSError, ValueError) as error:
        raise _fail(url, error) from None
    for state in states:
        typer.echo(f"[{'x' if state.applied else ' '}] {state.name}")
    pending = sum(not s.applied for s in states)
    typer.echo(f"{_safe(url)}: " + (f"{pending} pending migration(s)" if pending else "up to date"))
