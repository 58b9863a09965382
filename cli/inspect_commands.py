"""`komunikator explain` and `komunikator graph`: look at what the engine understood."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.explain import explain as explain_tenant
from komunikator.engine.config.machines import mermaid
from komunikator.engine.config.reference_checks import unknown
from komunikator.engine.settings import Settings

#: Unnamed, so its commands join the top level of `komunikator`.
inspect_app = typer.Typer()


class Locale(str, Enum):
    """The locales labels can be shown in."""

    pl = "pl"
    en = "en"


TenantArg = Annotated[str, typer.Argument(help="a tenant slug (a folder in the tenants folder) or a tenant folder")]
LocaleOpt = Annotated[Locale, typer.Option("--locale", "-l", help="language of labels")]


@inspect_app.command()
def explain(tenant: TenantArg, locale: LocaleOpt = Locale.pl) -> None:
    """Show what the engine understood: routing, permissions, notifications, timers, units, roles."""
    compiled = _compile(tenant)
    typer.echo(explain_tenant(compiled, locale.value), nl=False)


@inspect_app.command()
def graph(
    tenant: TenantArg,
    process: Annotated[str, typer.Argument(help="the process to draw")],
    locale: LocaleOpt = Locale.pl,
) -> None:
    """Print a process as a Mermaid state diagram."""
    compiled = _compile(tenant)
    found = compiled.processes.get(process)
    if found is None:
        typer.echo(f"tenant {compiled.slug}: {unknown('process', process, compiled.processes)}", err=True)
        raise typer.Exit(2)
    typer.echo(mermaid(found, locale.value), nl=False)


def _tenant_dir(tenant: str, settings: Settings) -> Path:
    """A slug names a folder under the tenants folder; anything else is a path."""
    by_slug = settings.tenants_dir / tenant
    if "/" not in tenant and "\\" not in tenant and by_slug.is_dir():
        return by_slug
    folder = Path(tenant)
    if folder.is_dir():
        return folder
    known = [p.name for p in settings.tenant_dirs()]
    typer.echo(f"{unknown('tenant', tenant, known)} (tenants folder: {settings.tenants_dir})", err=True)
    raise typer.Exit(2)


def _compile(tenant: str) -> CompiledTenant:
    """Compile a tenant, or print its errors as `komunikator check` does and exit 1."""
    settings = Settings.from_env()
    folder = _tenant_dir(tenant, settings)
    definitions = settings.definitions_dir if settings.definitions_dir.is_dir() else None
    compiled, errors = check_tenant(folder, definitions)
    if errors or compiled is None:
        typer.echo(errors.render())
        typer.echo(f"{len(errors)} error(s) found", err=True)
        raise typer.Exit(1)
    return compiled
