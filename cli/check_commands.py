"""`komunikator check`: every mistake in the YAML, as FILE:LINE:COL: PATH: MESSAGE."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_library, check_tenant, load_library
from komunikator.engine.errors import ErrorList
from komunikator.engine.settings import Settings

#: Unnamed, so its command joins the top level of `komunikator`.
check_app = typer.Typer()


@check_app.command()
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="tenant folders to check (default: every tenant in the tenants folder)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print errors only")] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="also compare with this database's open tickets and armed timers "
                      "(states, timers, units, categories the YAML no longer has)", show_default=False),
    ] = None,
) -> None:
    """Check tenants' YAML: print every mistake as FILE:LINE:COL: PATH: MESSAGE."""
    started = time.perf_counter()
    settings = Settings.from_env()
    errors = ErrorList()
    if not settings.definitions_dir.is_dir():
        typer.echo(f"definitions folder not found: {settings.definitions_dir}", err=True)
        raise typer.Exit(2)
    library = load_library(settings.definitions_dir)
    errors.extend(check_library(settings.definitions_dir, library_data=library))
    targets = paths or settings.tenant_dirs()
    if not targets:
        typer.echo(f"no tenant folders found in {settings.tenants_dir}", err=True)
        raise typer.Exit(2)
    compiled = []
    for folder in targets:
        if not folder.is_dir():
            typer.echo(f"{folder}: not a folder", err=True)
            raise typer.Exit(2)
        tenant, found = check_tenant(folder, settings.definitions_dir, library=library)
        errors.extend(found)
        if tenant is not None:
            compiled.append(tenant)
    if errors:
        typer.echo(errors.render())
        typer.echo(f"{len(errors)} error(s) found", err=True)
        raise typer.Exit(1)
    if database is not None:
        _compare(compiled, settings, database)
    if not quiet:
        took = time.perf_counter() - started
        for tenant in compiled:
            typer.echo(
                f"ok  {tenant.slug}: {len(tenant.units)} units, {len(tenant.roles)} roles, "
                f"{len(tenant.categories)} categories, {len(tenant.processes)} processes "
                f"(version {tenant.version})"
            )
        typer.echo(f"{len(compiled)} tenant(s) compiled in {took:.2f} s")


def _compare(compiled: list[CompiledTenant], settings: Settings, url: str) -> None:
    """Exit 1 listing what open work in the database uses that the configuration no longer has."""
    from komunikator.engine.service.definition_changes import DefinitionDrift, verify
    from komunikator.engine.store.errors import DatabaseError
    from komunikator.engine.store.runner import StoreRunner
    from komunikator.engine.tenants import TenantRegistry

    registry = TenantRegistry.of(compiled, settings.base_domain)
    try:
        with StoreRunner(url) as runner:
            runner.run(verify(registry, settings.definitions_dir))
    except DefinitionDrift as drift:
        typer.echo("\n".join(drift.lines()))
        typer.echo("`komunikator db migrate-definitions` applies the `state_map`s and cancels lost timers", err=True)
        raise typer.Exit(1) from None
    except (DatabaseError, OSError, ValueError) as error:
        typer.echo(f"cannot compare with the database: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(2) from None
