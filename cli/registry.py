"""The tenants a command works on: compiled once, or the configuration's errors and exit 1."""

from __future__ import annotations

import typer

from komunikator.engine.errors import ConfigInvalid
from komunikator.engine.settings import Settings
from komunikator.engine.tenants import TenantRegistry


def load_registry() -> TenantRegistry:
    """Every tenant, compiled; on configuration errors print them all (file:line:col) and exit 1."""
    try:
        return TenantRegistry.load(Settings.from_env())
    except ConfigInvalid as exc:
        typer.echo(exc.errors.render(), err=True)
        typer.echo("the configuration has errors; fix them (komunikator check) and start again", err=True)
        raise typer.Exit(1) from None


def refuse_definition_drift(registry: TenantRegistry, url: str) -> None:
    """Exit 1 listing every open ticket the configuration no longer fits (`file:line`, counts), if any."""
    from komunikator.engine.service.definition_changes import DefinitionDrift, verify
    from komunikator.engine.store.runner import StoreRunner

    try:
        with StoreRunner(url) as runner:
            runner.run(verify(registry, Settings.from_env().definitions_dir))
    except DefinitionDrift as drift:
        for line in drift.lines():
            typer.echo(line, err=True)
        typer.echo("the configuration does not fit the open tickets: change the YAML as said above, or run "
                   "`komunikator db migrate-definitions` where it says so; nothing was started", err=True)
        raise typer.Exit(1) from None
