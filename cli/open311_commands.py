"""`komunikator open311 keys create|list|revoke`: api keys of the applications that post Open311 requests.

    komunikator open311 keys create zgierz "Aplikacja Naprawmy.to" --contact dev@example.pl
    komunikator open311 keys list zgierz
    komunikator open311 keys revoke zgierz 3

The raw key is printed once (`create`); only its SHA-256 is stored. Every
create and revoke is in the city's audit trail. Exit codes as `komunikator
user`: 0 done, 1 refused or a database fault, 2 the command line is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.user_commands import TenantArg, _fail, _run, _tenant
from komunikator.engine.open311 import keys
from komunikator.engine.open311.errors import Open311Error
from komunikator.engine.store.models import Open311Client
from komunikator.engine.store.scope import TenantScope

open311_app = typer.Typer(name="open311", help="Open311 GeoReport v2: the api keys of client applications.",
                          no_args_is_help=True)
keys_app = typer.Typer(name="keys", help="Api keys of Open311 client applications.", no_args_is_help=True)
open311_app.add_typer(keys_app)


@keys_app.command("create")
def create(
    tenant_slug: TenantArg,
    name: Annotated[str, typer.Argument(help="the application, as people know it", show_default=False)],
    contact: Annotated[str | None, typer.Option("--contact", help="its developers' e-mail",
                                                show_default=False)] = None,
    url: UrlOption = None,
) -> None:
    """Issue a key: printed once, stored as a hash."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> tuple[str, Open311Client]:
        return await keys.create_key(scope, name, datetime.now(UTC), contact)

    try:
        raw, client = _run(url, tenant, work)
    except Open311Error as error:
        raise _fail(f"error: {error.description}") from None
    typer.echo(f"key {client.id} for {client.name!r} in {tenant.slug} (shown once, keep it secret):")
    typer.echo(raw)


@keys_app.command("list")
def list_keys(tenant_slug: TenantArg, url: UrlOption = None) -> None:
    """Every application with a key: id, name, contact, created, last used, revoked."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> list[Open311Client]:
        return await keys.list_keys(scope)

    for client in _run(url, tenant, work):
        state = f"revoked {_when(client.revoked_at)}" if client.revoked_at else "active"
        typer.echo(f"{client.id}\t{client.name}\t{client.contact or '-'}\tcreated {_when(client.created_at)}\t"
                   f"last used {_when(client.last_used_at)}\t{state}")


@keys_app.command("revoke")
def revoke(
    tenant_slug: TenantArg,
    key_id: Annotated[int, typer.Argument(help="the key's id (see list)", show_default=False)],
    url: UrlOption = None,
) -> None:
    """Revoke a key at once: its application's next POST is refused (403)."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> Open311Client:
        return await keys.revoke_key(scope, key_id, datetime.now(UTC))

    try:
        client = _run(url, tenant, work)
    except Open311Error as error:
        raise _fail(f"error: {error.description}") from None
    typer.echo(f"key {client.id} ({client.name}) revoked")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "never"
