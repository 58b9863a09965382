"""`komunikator serve` and `komunikator demo`: run the web application."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from komunikator.cli.demo.staff import DEMO_PASSWORD, DEMO_STAFF
from komunikator.cli.registry import load_registry, refuse_definition_drift
from komunikator.engine.store import db
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.tenants import TenantRegistry

if TYPE_CHECKING:
    from komunikator.cli.demo.seed import SeedReport

serve_app = typer.Typer()

HostOpt = Annotated[str, typer.Option("--host", help="address to listen on")]
PortOpt = Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="port to listen on")]


def _run(registry: TenantRegistry, database_url: str, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from komunikator.web.app import create_app

    if workers > 1:
        # Several processes need an import string; each builds its own app from the environment.
        os.environ[db.DATABASE_URL_ENV] = database_url
        uvicorn.run("komunikator.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=True, log_level="info")
        return
    app = create_app(registry, database_url=database_url)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")


@serve_app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="web processes (PostgreSQL only)")] = 1,
) -> None:
    """Serve the API for every tenant (run `komunikator db upgrade` first)."""
    url = db.database_url()
    if workers > 1 and db.dialect(url) == "sqlite":
        typer.echo("SQLite serves one process only: use --workers 1, or PostgreSQL for more", err=True)
        raise typer.Exit(2)
    registry = load_registry()
    refuse_definition_drift(registry, url)  # rather than serve 500s for tickets in states that are gone
    _run(registry, url, host, port, workers)




async def _seed_staff(registry: TenantRegistry) -> list[str]:
    from komunikator.engine.service import accounts
    from komunikator.engine.store.scope import TenantScope, ensure_tenant

    created = []
    for slug, people in DEMO_STAFF.items():
        tenant = registry.tenants.get(slug)
        if tenant is None:
            continue
        scope = TenantScope((await ensure_tenant(slug, tenant.config.name.get("pl", slug))).id)
        for local, name, memberships in people:
            email = f"{local}@{slug}.localhost"
            user = await accounts.find_user(scope, email)
            if user is None:
                user = await accounts.create_user(scope, email, name, password=DEMO_PASSWORD)
                created.append(email)
            have = {(m.unit, m.role) for m in await accounts.memberships_of(scope, user)}
            for membership in memberships:
                unit, role = membership.split(":")
                if (unit, role) not in have:
                    await accounts.grant(scope, tenant, user, unit, role)
    return created


async def _seed_tickets(registry: TenantRegistry, count: int | None, end: datetime) -> tuple[
        dict[str, SeedReport], list[str]]:
    """Seed each city's demo tickets (`komunikator seed`); nothing is added on a restart.

    A city whose seeding fails keeps the tickets seeded before the failure and
    the demo goes on: the reports of the cities that worked, and warning lines.
    """
    from komunikator.cli.demo.play import SeedError
    from komunikator.cli.seed_commands import failure_lines, problem_lines, seed_cities
    from komunikator.engine.media.storage import LocalStorage

    reports: dict[str, SeedReport] = {}
    warnings: list[str] = []
    for slug in [slug for slug in sorted(DEMO_STAFF) if slug in registry.tenants]:
        try:
            for report in await seed_cities(registry, [slug], count=count, storage=LocalStorage.from_env(), end=end):
                reports[report.slug] = report
                warnings += problem_lines(report)
        except SeedError as error:
            warnings += [*failure_lines(error),
                         f"{slug}: {error.created} ticket(s) were seeded before the failure; the demo serves them"]
        except Exception as error:  # noqa: BLE001 - the demo serves whatever happened; the cause is printed
            warnings.append(f"seeding failed: {slug}: {type(error).__name__}: {error}")
    return reports, warnings


@serve_app.command()
def demo(
    port: PortOpt = 8000,
    host: HostOpt = "127.0.0.1",
    database: Annotated[Path, typer.Option("--database", help="the demo's SQLite file")] = Path(
        "var/demo.sqlite3"
    ),
    tickets: Annotated[int | None, typer.Option("--tickets", min=0, help="demo tickets per city on the first "
                                                "start (default: 200 Zgierz, 60 Nieporęt)")] = None,
    now: Annotated[str | None, typer.Option("--now", help="seed as if it were this moment (ISO 8601, e.g. "
                                            "2026-12-04T21:28:00Z; default: now)", show_default=False)] = None,
) -> None:
    """Run the demo: migrate a SQLite file, create both cities' staff and tickets, serve the API."""
    from komunikator.cli.demo.play import moment_text
    from komunikator.cli.seed_commands import parse_moment

    registry = load_registry()
    end = parse_moment(now) or datetime.now(UTC)
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite://{database}"
    # the demo's photos live beside its database, apart from a real installation's (var/media):
    # files no row of *this* database names are deleted by the clean-up job
    os.environ.setdefault("KOMUNIKATOR_MEDIA_DIR", str(database.parent / f"{database.stem}-media"))
    with StoreRunner(url, init=False) as runner:
        runner.run(db.upgrade(url))
        runner.run(db.close())  # the migrator's Tortoise state is not the app's
    refuse_definition_drift(registry, url)  # a demo file from older YAML: say what no longer fits
    with StoreRunner(url) as runner:
        runner.run(_seed_staff(registry))
        typer.echo("seeding the demo cities' tickets (first start only) …")
        seeded, warnings = runner.run(_seed_tickets(registry, tickets, end))
    base = f"http://{{slug}}.localhost:{port}"
    typer.echo("")
    typer.echo(f"Komunikator demo (SQLite: {database})")
    for slug, tenant in sorted(registry.tenants.items()):
        site = base.format(slug=slug)
        typer.echo(f"\n  {tenant.config.name.get('pl') or slug}: {site}/api/v1/tenant   API docs: {site}/docs")
        if slug in seeded:
            report = seeded[slug]
            typer.echo(f"    {report.total} tickets ({report.created} seeded now in {report.seconds:.1f} s)")
        for local, _name, memberships in DEMO_STAFF.get(slug, []):
            typer.echo(f"    {local}@{slug}.localhost  ({', '.join(memberships)})")
    if warnings:
        typer.echo("\nWARNING: the demo's seeding did not go as planned; the demo serves what was seeded", err=True)
        for line in warnings:
            typer.echo(f"WARNING: {line}", err=True)
        typer.echo(f"WARNING: to try the same moment on a fresh file: komunikator demo --now {moment_text(end)} "
                   "--database var/retry.sqlite3", err=True)
    typer.echo(f"\n  password for every demo account: {DEMO_PASSWORD}")
    typer.echo("  log in: POST /api/v1/auth/login {\"email\": …, \"password\": …}; *.localhost opens in any browser")
    typer.echo("  (outside a browser send the Host header, e.g. curl -H 'Host: zgierz.localhost' "
               f"http://127.0.0.1:{port}/api/v1/tenant)\n")
    _run(registry, url, host, port)
