"""`komunikator addresses import|count`: the city's address points from its register (engine/service/addresses.py).

    komunikator addresses import zgierz adresy.csv     # a PRG point-address CSV; replaces the city's addresses
    komunikator addresses count zgierz

The import reads the whole file first, showing progress; any bad row (each is
listed with its line) means nothing is written (exit 1). A good file replaces
the city's address points in one transaction. The accepted columns are in
docs/operators.md ("The city's addresses") and engine/geo/address_csv.py.
Exit codes as `komunikator user`: 0 done, 1 refused or a database fault, 2
the command line is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.user_commands import TenantArg, _fail, _run, _tenant
from komunikator.engine.service import addresses
from komunikator.engine.store.scope import TenantScope

addresses_app = typer.Typer(name="addresses", help="The city's address points: import them, count them.",
                            no_args_is_help=True)
#: how many bad rows are printed (the rest are counted)
SHOWN = 50


@addresses_app.command("import")
def import_(
    tenant_slug: TenantArg,
    file: Annotated[Path, typer.Argument(help="a CSV in the layout of a PRG point-address export",
                                         exists=True, dir_okay=False, readable=True, show_default=False)],
    url: UrlOption = None,
) -> None:
    """Replace the city's address points with the file's; nothing is written if a row is bad."""
    tenant = _tenant(tenant_slug)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(f"{file}: not UTF-8 text (PRG exports are UTF-8; convert it, e.g. iconv -f cp1250 -t utf-8)",
                    1) from None
    lines = max(text.count("\n"), 1)

    with typer.progressbar(length=lines, label=f"{file.name}", file=sys.stderr) as bar:
        done = [0]

        def progress(line: int) -> None:
            if line - done[0] >= 500 or line >= lines:
                bar.update(line - done[0])
                done[0] = line

        async def work(scope: TenantScope) -> addresses.ImportResult:
            return await addresses.import_addresses(scope, tenant, text, progress=progress)

        try:
            result = _run(url, tenant, work)
        except addresses.AddressImportRefused as refused:
            bar.update(lines - done[0])
            bad = refused.bad
            for row in bad[:SHOWN]:
                typer.echo(f"{file}:{row.line}: {row.message}", err=True)
            more = f" ({len(bad) - SHOWN} more not shown)" if len(bad) > SHOWN else ""
            raise _fail(f"{len(bad)} bad row(s){more}: nothing was imported", 1) from None
    districts = f", {result.in_districts} in districts" if tenant.geography and tenant.geography.districts else ""
    typer.echo(f"{tenant.slug}: {result.imported} addresses imported{districts} "
               f"({result.replaced} replaced)")


@addresses_app.command()
def count(tenant_slug: TenantArg, url: UrlOption = None) -> None:
    """How many address points the city holds."""
    tenant = _tenant(tenant_slug)
    typer.echo(str(_run(url, tenant, addresses.count)))
