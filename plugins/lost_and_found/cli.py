"""`komunikator lost_and_found import|list CITY`: the register from the command line."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from komunikator.engine.runtime.views import SYSTEM


def app() -> typer.Typer:
    """The commands (a factory: `komunikator` adds them as `komunikator lost_and_found …`)."""
    commands = typer.Typer(no_args_is_help=True)

    @commands.command("import")
    def import_csv(
        city: Annotated[str, typer.Argument(help="the city's slug")],
        file: Annotated[Path, typer.Argument(help="CSV: description,kind,found_on (YYYY-MM-DD),found_at[,value]",
                                             exists=True, dir_okay=False)],
        url: Annotated[str | None, typer.Option("--url", help="database URL")] = None,
    ) -> None:
        """Register every row of a CSV file at once (all or nothing)."""
        from komunikator.cli.registry import load_registry
        from komunikator.engine.service.errors import ServiceError
        from komunikator.engine.store.runner import StoreRunner
        from komunikator.engine.store.scope import TenantScope, ensure_tenant
        from komunikator.plugins.lost_and_found import register

        tenant = load_registry().tenants.get(city)
        if tenant is None or register.NAME not in tenant.config.plugins:
            typer.echo(f"{city!r} is no city with the lost_and_found plugin enabled", err=True)
            raise typer.Exit(2)
        try:
            items = _read(file)
        except ValueError as error:
            typer.echo(f"{file}: {error}", err=True)
            raise typer.Exit(2) from None

        async def run() -> int:
            scope = TenantScope((await ensure_tenant(city)).id)
            return await register.import_items(scope, tenant, items, SYSTEM, datetime.now(UTC))

        try:
            with StoreRunner(url) as runner:
                count = runner.run(run())
        except ServiceError as error:
            typer.echo(f"{file}: {error.message}; nothing was imported", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{city}: {count} item(s) registered")

    @commands.command("list")
    def list_items(
        city: Annotated[str, typer.Argument(help="the city's slug")],
        status: Annotated[str, typer.Option(help="kept, returned or unclaimed")] = "kept",
        url: Annotated[str | None, typer.Option("--url", help="database URL")] = None,
    ) -> None:
        """The newest items in a status."""
        from komunikator.engine.store.runner import StoreRunner
        from komunikator.engine.store.scope import TenantScope, ensure_tenant
        from komunikator.plugins.lost_and_found import register

        async def run() -> list[str]:
            scope = TenantScope((await ensure_tenant(city)).id)
            return [f"{r.id:>6}  {r.found_on}  {r.kind:<10} {r.description}  (until {r.kept_until})"
                    for r in await register.list_items(scope, status)]

        with StoreRunner(url) as runner:
            for line in runner.run(run()):
                typer.echo(line)

    return commands


def _read(path: Path) -> list[object]:
    from komunikator.plugins.lost_and_found.register import NewItem

    items: list[object] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and row[0].strip().lower() == "description"):
                continue
            if len(row) not in (4, 5):
                raise ValueError(f"row {number}: expected 4 or 5 columns, got {len(row)}")
            try:
                found_on = date.fromisoformat(row[2].strip())
                value = int(row[4]) if len(row) == 5 and row[4].strip() else None
            except ValueError as error:
                raise ValueError(f"row {number}: {error}") from None
            items.append(NewItem(row[0], row[1].strip(), found_on, row[3], value))
    return items
