"""`komunikator seed TENANT…`: fill cities with realistic demo tickets (engine/service/seed.py).

The tickets are played through the service layer by the demo's staff
accounts (`serve_commands.DEMO_STAFF`, created when missing, password
`DEMO_PASSWORD`). Deterministic in `--seed`; running it again adds nothing.
Run `komunikator db upgrade` first. Exit codes: 0 done, 1 seeding failed,
2 the command line is wrong (unknown tenant, a tenant without demo staff).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.serve_commands import DEMO_PASSWORD, DEMO_STAFF, _registry
from komunikator.engine.media.storage import LocalStorage, Storage
from komunikator.engine.service.seed import SeedError, SeedReport, StaffMember, seed_tenant
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

seed_app = typer.Typer()
TICKETS_HELP = "tickets per tenant (default: 200 Zgierz, 60 Nieporęt, 100 others)"


def demo_staff(slug: str) -> list[StaffMember]:
    """The demo's staff of a city, with their e-mails (`local@slug.localhost`)."""
    return [(f"{local}@{slug}.localhost", name, memberships) for local, name, memberships in DEMO_STAFF.get(slug, [])]


async def seed_cities(
    registry: TenantRegistry, slugs: Iterable[str], *, count: int | None = None, seed: int = 1, months: float = 6,
    storage: Storage | None = None, end: datetime | None = None,
) -> list[SeedReport]:
    """Seed each city in turn (tenant rows and staff created when missing)."""
    reports = []
    for slug in slugs:
        tenant = registry.tenants[slug]
        name = tenant.config.name
        row = await ensure_tenant(slug, name.get(tenant.config.locale) or next(iter(name.values()), slug))
        reports.append(await seed_tenant(TenantScope(row.id), tenant, demo_staff(slug), count=count, seed=seed,
                                         months=months, end=end, password=DEMO_PASSWORD, storage=storage))
    return reports


def describe(report: SeedReport) -> list[str]:
    """A report as lines for the terminal: totals, then tickets per process and state."""
    head = (f"{report.slug}: {report.created} ticket(s) seeded, {report.skipped} already there, "
            f"{report.photos} photo(s), {report.seconds:.1f} s; {report.total} ticket(s) in the city")
    lines = [head]
    for process, states in report.states.items():
        counts = ", ".join(f"{state} {n}" for state, n in sorted(states.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {process}: {counts}")
    return lines


@seed_app.command()
def seed(
    tenants: Annotated[list[str], typer.Argument(help="tenant slugs to seed", show_default=False)],
    tickets: Annotated[int | None, typer.Option("--tickets", "-n", min=0, help=TICKETS_HELP)] = None,
    seed_value: Annotated[int, typer.Option("--seed", "-s", help="the random seed: same seed, same tickets")] = 1,
    months: Annotated[float, typer.Option("--months", "-m", min=0.1, help="spread the tickets over this many "
                                                                          "past months")] = 6,
    photos: Annotated[bool, typer.Option("--photos/--no-photos", help="attach generated photos (stored under "
                                                                      "$KOMUNIKATOR_MEDIA_DIR)")] = True,
    url: UrlOption = None,
) -> None:
    """Seed cities with realistic tickets in every state, through the service layer."""
    registry = _registry()
    _check(registry, tenants)
    storage = LocalStorage.from_env() if photos else None
    try:
        with StoreRunner(url) as runner:
            reports = runner.run(seed_cities(registry, tenants, count=tickets, seed=seed_value, months=months,
                                             storage=storage))
    except SeedError as error:
        typer.echo(f"seeding failed: {error}", err=True)
        raise typer.Exit(1) from None
    for report in reports:
        for line in describe(report):
            typer.echo(line)


def _check(registry: TenantRegistry, slugs: Sequence[str]) -> None:
    for slug in slugs:
        if slug not in registry.tenants:
            typer.echo(f"unknown tenant {slug!r}; known tenants: {', '.join(sorted(registry.tenants))}", err=True)
            raise typer.Exit(2)
        if slug not in DEMO_STAFF:
            typer.echo(f"tenant {slug!r} has no demo staff to act as (serve_commands.DEMO_STAFF)", err=True)
            raise typer.Exit(2)
