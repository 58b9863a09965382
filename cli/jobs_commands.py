"""`komunikator jobs list|run NAME`: the scheduled jobs of the core and the plugins (engine/jobs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.registry import load_registry

jobs_app = typer.Typer(help="Scheduled jobs: list them, run one now.", no_args_is_help=True)


@jobs_app.command("list")
def list_jobs() -> None:
    """Every job the runners (embedded or Celery beat) run: name, period, what it does, whose it is."""
    from komunikator.engine.config.builtins import default_registry
    from komunikator.engine.jobs import all_jobs

    registry = default_registry()
    for job in all_jobs(registry).values():
        owner = registry.owner(job.name) or "core"
        typer.echo(f"{job.name:<28} every {_period(job.every):>7}  {owner:<16} {job.doc}")


@jobs_app.command("run")
def run_job(
    name: Annotated[str, typer.Argument(help="the job's name (see `komunikator jobs list`)", show_default=False)],
    url: UrlOption = None,
) -> None:
    """Run one job now, once, and print how much it did (it finds its work in the database)."""
    from komunikator.engine.jobs import JobContext, all_jobs
    from komunikator.engine.store.runner import StoreRunner

    jobs = all_jobs()
    job = jobs.get(name)
    if job is None:
        typer.echo(f"unknown job {name!r}; jobs: {', '.join(jobs)}", err=True)
        raise typer.Exit(2)
    from komunikator.engine.store.errors import DatabaseUnavailable

    tenants = load_registry()
    try:
        with StoreRunner(url) as runner:
            done = runner.run(job.run(JobContext(tenants, datetime.now(UTC), worker="cli")))
    except DatabaseUnavailable as error:
        typer.echo(f"{name} failed: {error} (is the database migrated? run `komunikator db upgrade`)", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{name}: {done}")


def _period(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
