"""`komunikator user …`: staff accounts, their roles, passwords and API tokens.

TENANT is a tenant's slug (its folder under the tenants folder); it must
compile, and its database row is created if missing. Every command runs in
one transaction. Every change is audited like the administration pages' (`user_create`,
`membership_grant`, `membership_revoke`, `user_password_reset`, `token_create`), naming the
system (`OPERATOR`, as `komunikator gdpr` does) as who did it. Exit codes: 0 done, 1 refused or failed (the message says
why), 2 the command line is wrong (unknown tenant, malformed option).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.settings import Settings
from komunikator.engine.store.errors import DatabaseError, DatabaseUnavailable
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.store.transactions import transaction

T = TypeVar("T")
#: Who the audit trail names for an account change made from the command line (as `gdpr_commands.OPERATOR`).
OPERATOR = UserView("operator", (), "system", "komunikator user")

user_app = typer.Typer(
    name="user", help="Staff accounts: create, list, roles, passwords, API tokens.", no_args_is_help=True
)

TenantArg = Annotated[str, typer.Argument(help="the tenant's slug (its folder under tenants/)", show_default=False)]
EmailArg = Annotated[str, typer.Argument(help="the user's e-mail", show_default=False)]
#: `grant`/`revoke` take the membership as `create --grant` does (UNIT:ROLE), or as two words (UNIT ROLE)
MembershipArg = Annotated[str, typer.Argument(help="UNIT:ROLE (as with create --grant), or UNIT followed by ROLE",
                                              show_default=False)]
OptionalRoleArg = Annotated[str | None, typer.Argument(help="the role, when UNIT is given alone", show_default=False)]
PasswordOption = Annotated[
    str | None, typer.Option("--password", help="the password (default: asked for, not echoed)", show_default=False)
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _tenant(slug: str) -> CompiledTenant:
    """The compiled tenant `slug`; exit 2 if there is no such folder, 1 if its YAML is broken."""
    settings = Settings.from_env()
    folders = {folder.name: folder for folder in settings.tenant_dirs()}
    if slug not in folders:
        known = ", ".join(folders) or f"none in {settings.tenants_dir}"
        raise _fail(f"unknown tenant {slug!r}; known tenants: {known}", 2)
    tenant, errors = check_tenant(folders[slug], settings.definitions_dir)
    if errors or tenant is None:
        typer.echo(errors.render(), err=True)
        raise _fail(f"tenant {slug!r} does not compile: fix its YAML first (komunikator check)")
    return tenant


def _run(url: str | None, tenant: CompiledTenant, work: Callable[[TenantScope], Coroutine[Any, Any, T]]) -> T:
    """Run `work` on the tenant's scope in one transaction; report refusals and database faults."""

    async def main() -> T:
        name = tenant.config.name
        row = await ensure_tenant(tenant.slug, name.get(tenant.config.locale) or next(iter(name.values()), ""))
        async with transaction():
            return await work(TenantScope(row.id))

    try:
        with StoreRunner(url) as runner:
            return runner.run(main())
    except ServiceError as error:
        raise _fail(f"error: {error.message}") from None
    except DatabaseUnavailable as error:
        raise _fail(f"database error: {error} (is the database migrated? run: komunikator db upgrade)") from None
    except (DatabaseError, OSError, ValueError) as error:
        raise _fail(f"database error: {type(error).__name__}: {error}") from None


def _grants(tenant: CompiledTenant, specs: list[str]) -> list[tuple[str, str]]:
    """`UNIT:ROLE` options, checked against the tenant before anything is written."""
    pairs = []
    for spec in specs:
        unit, sep, role = spec.partition(":")
        if not sep or not unit or not role:
            raise _fail(f"--grant {spec!r}: use UNIT:ROLE, e.g. --grant bom:dispatcher", 2)
        try:
            accounts.check_membership(tenant, unit, role)
        except ServiceError as error:
            raise _fail(f"--grant {spec!r}: {error.message}") from None
        pairs.append((unit, role))
    return pairs


def _password(given: str | None) -> str:
    password = given if given is not None else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.check_password(password)
    except ServiceError as error:
        raise _fail(f"error: {error.message}") from None
    return password


@user_app.command()
def create(
    tenant_slug: TenantArg,
    email: EmailArg,
    name: Annotated[str, typer.Option("--name", help="the name shown to colleagues", show_default=False)],
    password: PasswordOption = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="create the account without a password (cannot log in yet)")
    ] = False,
    grant: Annotated[
        list[str] | None, typer.Option("--grant", help="UNIT:ROLE to grant (repeatable)", show_default=False)
    ] = None,
    kind: Annotated[str, typer.Option("--kind", help="staff or resident")] = "staff",
    locale: Annotated[str | None, typer.Option("--locale", help="language of their e-mails, one of the "
                                               "city's (default: the city's own)", show_default=False)] = None,
    url: UrlOption = None,
) -> None:
    """Create an account, optionally with roles: --grant bom:dispatcher."""
    tenant = _tenant(tenant_slug)
    pairs = _grants(tenant, grant or [])
    if locale is not None and locale not in tenant.config.locales:
        raise _fail(f"--locale {locale!r} is not one of {tenant.slug}'s: {', '.join(tenant.config.locales)}", 2)
    if no_password and password is not None:
        raise _fail("give either --password or --no-password", 2)
    secret = None if no_password else _password(password)

    async def work(scope: TenantScope) -> list[str]:
        user = await accounts.create_user(scope, email, name, secret, kind, locale)
        lines = [f"created {user.email} ({user.kind}) in {tenant.slug}"]
        granted = []
        for unit, role in dict.fromkeys(pairs):
            await accounts.grant(scope, tenant, user, unit, role)
            granted.append(f"{unit}:{role}")
            lines.append(f"granted {role} in {unit}")
        await audit(scope, None, OPERATOR, "user_create", {"user": None},
                    {"user": user.id, "kind": user.kind, "memberships": granted}, datetime.now(UTC))
        return lines

    for line in _run(url, tenant, work):
        typer.echo(line)


@user_app.command("list")
def list_users(tenant_slug: TenantArg, url: UrlOption = None) -> None:
    """List accounts with their roles (unit:role)."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> list[tuple[str, str, str, str]]:
        rows = []
        for user in await accounts.list_users(scope):
            roles = ", ".join(f"{m.unit}:{m.role}" for m in await accounts.memberships_of(scope, user))
            kind = user.kind if user.active else f"{user.kind}, inactive"
            rows.append((user.email, user.display_name, kind, roles or "-"))
        return rows

    rows = _run(url, tenant, work)
    if not rows:
        typer.echo(f"no users in {tenant.slug}")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])


def _membership(unit: str, role: str | None) -> tuple[str, str]:
    """`UNIT:ROLE`, or `UNIT ROLE`: one syntax with `create --grant`, the old one still read."""
    if role is None:
        unit, sep, role = unit.partition(":")
        if not sep or not unit or not role:
            raise _fail(f"{unit!r}: use UNIT:ROLE, e.g. bom:dispatcher", 2)
    return unit, role


@user_app.command()
def grant(tenant_slug: TenantArg, email: EmailArg, unit: MembershipArg, role: OptionalRoleArg = None,
          url: UrlOption = None) -> None:
    """Give a user a role in a unit: `grant zgierz anna@zgierz.pl drogi:unit_head`."""
    tenant = _tenant(tenant_slug)
    unit, role = _membership(unit, role)

    async def work(scope: TenantScope) -> str:
        user = await accounts.get_user(scope, email)
        held = await scope.memberships().filter(user_id=user.id, unit=unit, role=role).exists()
        await accounts.grant(scope, tenant, user, unit, role)
        if not held:
            await audit(scope, None, OPERATOR, "membership_grant", {"user": user.id, "membership": None},
                        {"user": user.id, "membership": f"{unit}:{role}"}, datetime.now(UTC))
        return f"{user.email}: {role} in {unit}"

    typer.echo(_run(url, tenant, work))


@user_app.command()
def revoke(tenant_slug: TenantArg, email: EmailArg, unit: MembershipArg, role: OptionalRoleArg = None,
           url: UrlOption = None) -> None:
    """Take a role in a unit away from a user: `revoke zgierz anna@zgierz.pl drogi:unit_head`."""
    tenant = _tenant(tenant_slug)
    unit, role = _membership(unit, role)

    async def work(scope: TenantScope) -> str:
        user = await accounts.get_user(scope, email)
        await accounts.revoke(scope, user, unit, role)
        await audit(scope, None, OPERATOR, "membership_revoke", {"user": user.id, "membership": f"{unit}:{role}"},
                    {"user": user.id, "membership": None}, datetime.now(UTC))
        return f"{user.email}: no longer {role} in {unit}"

    typer.echo(_run(url, tenant, work))


@user_app.command("reset-password")
def reset_password(
    tenant_slug: TenantArg, email: EmailArg, password: PasswordOption = None,
    permanent: Annotated[bool, typer.Option("--permanent", help="they keep it (default: a temporary password, "
                                            "the staff pages ask them to choose their own first)")] = False,
    url: UrlOption = None,
) -> None:
    """Set a new temporary password (they choose their own at the next sign-in); the user's sessions end."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> str:
        return (await accounts.get_user(scope, email)).email

    found = _run(url, tenant, work)  # refuse an unknown e-mail before asking for a password
    secret = _password(password)

    async def change(scope: TenantScope) -> str:
        user = await accounts.get_user(scope, found)
        await accounts.set_password(scope, user, secret, temporary=not permanent)
        await audit(scope, None, OPERATOR, "user_password_reset", {"user": user.id}, {"user": user.id},
                    datetime.now(UTC))
        then = "" if permanent else "; they must choose their own at the next sign-in"
        return f"password set for {user.email}; their sessions were ended{then}"

    typer.echo(_run(url, tenant, change))


@user_app.command()
def token(
    tenant_slug: TenantArg,
    email: EmailArg,
    name: Annotated[str, typer.Option("--name", help="where the token is used", show_default=False)],
    url: UrlOption = None,
) -> None:
    """Create an API token and print it (once: only its hash is stored)."""
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> tuple[str, int]:
        user = await accounts.get_user(scope, email)
        if not user.active:
            raise ServiceError(409, "conflict", f"{user.email} is deactivated")
        raw, row = await accounts.create_token(scope, user, name, datetime.now(UTC), actor=OPERATOR)
        return raw, row.id

    raw, token_id = _run(url, tenant, work)
    typer.echo(raw)
    typer.echo(f"token {token_id} for {email.strip().lower()} created {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
               "store it now, it is not shown again", err=True)
