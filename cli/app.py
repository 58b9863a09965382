"""The `komunikator` command line (typer)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from komunikator.cli.db_commands import db_app
from komunikator.cli.docs_commands import docs_app
from komunikator.cli.inspect_commands import inspect_app
from komunikator.cli.serve_commands import serve_app
from komunikator.cli.user_commands import user_app
from komunikator.engine.compiler import check_library, check_tenant
from komunikator.engine.errors import ErrorList
from komunikator.engine.settings import Settings

app = typer.Typer(
    name="komunikator",
    help="Komunikator: a city talks with its residents. Configure, check and run it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Komunikator: a city talks with its residents."""


@app.command()
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="tenant folders to check (default: every tenant in the tenants folder)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print errors only")] = False,
) -> None:
    """Check tenants' YAML: print every mistake as FILE:LINE:COL: PATH: MESSAGE."""
    started = time.perf_counter()
    settings = Settings.from_env()
    errors = ErrorList()
    if not settings.definitions_dir.is_dir():
        typer.echo(f"definitions folder not found: {settings.definitions_dir}", err=True)
        raise typer.Exit(2)
    errors.extend(check_library(settings.definitions_dir))
    targets = paths or settings.tenant_dirs()
    if not targets:
        typer.echo(f"no tenant folders found in {settings.tenants_dir}", err=True)
        raise typer.Exit(2)
    compiled = []
    for folder in targets:
        if not folder.is_dir():
            typer.echo(f"{folder}: not a folder", err=True)
            raise typer.Exit(2)
        tenant, found = check_tenant(folder, settings.definitions_dir)
        errors.extend(found)
        if tenant is not None:
            compiled.append(tenant)
    if errors:
        typer.echo(errors.render())
        typer.echo(f"{len(errors)} error(s) found", err=True)
        raise typer.Exit(1)
    if not quiet:
        took = time.perf_counter() - started
        for tenant in compiled:
            typer.echo(
                f"ok  {tenant.slug}: {len(tenant.units)} units, {len(tenant.roles)} roles, "
                f"{len(tenant.categories)} categories, {len(tenant.processes)} processes "
                f"(version {tenant.version})"
            )
        typer.echo(f"{len(compiled)} tenant(s) compiled in {took:.2f} s")


app.add_typer(docs_app)
app.add_typer(inspect_app)  # explain, graph
app.add_typer(db_app)  # upgrade, status
app.add_typer(serve_app)  # serve, demo
app.add_typer(user_app)  # create, list, grant, revoke, reset-password, token


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
