"""`komunikator seed TENANT…`: fill cities with realistic demo tickets (cli/demo/seed.py).

The tickets are played through the service layer by the demo's staff
accounts (`demo/staff.py`, created when missing, password
`DEMO_PASSWORD`). Deterministic in `--seed`; running it again adds nothing.
The plan depends on the seed and on the moment it is made for (`--now`,
default: the current time): `komunikator seed SLUG --seed S --now T`
reproduces exactly the tickets of any earlier run. Run `komunikator db
upgrade` first. Exit codes: 0 done, 1 seeding failed, 2 the command line is
wrong (unknown tenant, a tenant without demo staff, a malformed moment).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.demo.play import SeedError
from komunikator.cli.demo.seed import SeedReport, StaffMember, seed_tenant
from komunikator.cli.demo.staff import DEMO_PASSWORD, DEMO_STAFF
from komunikator.cli.registry import load_registry
from komunikator.engine.media.storage import LocalStorage, Storage
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


def parse_moment(text: str | None) -> datetime | None:
    """`--now`: an ISO 8601 moment (`2026-12-04T21:28:00Z`, `2026-12-04 22:28+01:00`); without an offset, UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        typer.echo(f"--now: {text!r} is not a moment; write it as 2026-12-04T21:28:00Z", err=True)
        raise typer.Exit(2) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


NowOption = Annotated[str | None, typer.Option(
    "--now", help="plan as if it were this moment (ISO 8601, e.g. 2026-12-04T21:28:00Z; default: now)",
    show_default=False)]


REPORT_IT = ("unless the database was seeded by another version, this is a bug of the demo's seeder: "
             "please report it with that command")


def failure_lines(error: SeedError, extra: str = "") -> list[str]:
    """What to tell the user when seeding stopped: the cause, and the command that plans the same tickets again."""
    lines = [f"seeding failed: {error}"]
    command = error.reproduce(extra)
    if command is not None:
        lines += [f"the same tickets are planned again by: {command}",
                  REPORT_IT]
    return lines


def problem_lines(report: SeedReport, extra: str = "") -> list[str]:
    """The plans a run left out because the rehearsal refused them, and how to plan them again."""
    if not report.problems:
        return []
    lines = [f"{report.slug}: {len(report.problems)} planned ticket(s) were left out, the plan was invalid:"]
    lines += [f"  {problem}" for problem in report.problems[:10]]
    if len(report.problems) > 10:
        lines.append(f"  … and {len(report.problems) - 10} more")
    lines += [f"the same tickets are planned again by: {report.reproduce(extra)}", REPORT_IT]
    return lines


def _extra(photos: bool, url: str | None) -> str:
    return ("" if photos else " --no-photos") + (f" --url {url}" if url else "")


@seed_app.command()
def seed(
    tenants: Annotated[list[str], typer.Argument(help="tenant slugs to seed", show_default=False)],
    tickets: Annotated[int | None, typer.Option("--tickets", "-n", min=0, help=TICKETS_HELP)] = None,
    seed_value: Annotated[int, typer.Option("--seed", "-s", help="the random seed: same seed, same tickets")] = 1,
    months: Annotated[float, typer.Option("--months", "-m", min=0.1, help="spread the tickets over this many "
                                                                          "past months")] = 6,
    photos: Annotated[bool, typer.Option("--photos/--no-photos", help="attach generated photos (stored under "
                                                                      "$KOMUNIKATOR_MEDIA_DIR)")] = True,
    now: NowOption = None,
    url: UrlOption = None,
) -> None:
    """Seed cities with realistic tickets in every state, through the service layer."""
    registry = load_registry()
    _check(registry, tenants)
    end = parse_moment(now)
    storage = LocalStorage.from_env() if photos else None
    try:
        with StoreRunner(url) as runner:
            reports = runner.run(seed_cities(registry, tenants, count=tickets, seed=seed_value, months=months,
                                             storage=storage, end=end))
    except SeedError as error:
        for line in failure_lines(error, _extra(photos, url)):
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    for report in reports:
        for line in describe(report):
            typer.echo(line)
    problems = [line for report in reports for line in problem_lines(report, _extra(photos, url))]
    for line in problems:
        typer.echo(line, err=True)
    if problems:
        raise typer.Exit(1)


def _check(registry: TenantRegistry, slugs: Sequence[str]) -> None:
    for slug in slugs:
        if slug not in registry.tenants:
            typer.echo(f"unknown tenant {slug!r}; known tenants: {', '.join(sorted(registry.tenants))}", err=True)
            raise typer.Exit(2)
        if slug not in DEMO_STAFF:
            typer.echo(f"tenant {slug!r} has no demo staff to act as (cli/demo/staff.py)", err=True)
            raise typer.Exit(2)
