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
