"""`komunikator outbox …`: what is waiting to be delivered, what failed, and clearing up.

Exit codes: 0 done, 1 the database failed, 2 the command line is wrong
(unknown tenant, no rows named).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.engine.delivery import admin
from komunikator.engine.store.errors import DatabaseError, NotFound
from komunikator.engine.store.runner import StoreRunner

T = TypeVar("T")

outbox_app = typer.Typer(
    name="outbox", help="The notification outbox: status, retry failed messages, purge old ones.",
    no_args_is_help=True,
)

TenantOption = Annotated[
    str | None, typer.Argument(help="a tenant's slug (default: every tenant)", show_default=False)
]


def _run(url: str | None, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        with StoreRunner(url) as runner:
            return runner.run(work())
    except NotFound as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except (DatabaseError, OSError) as error:
        typer.echo(f"database error: {type(error).__name__}: {error} (is it migrated? komunikator db upgrade)",
                   err=True)
        raise typer.Exit(1) from None


def _age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


@outbox_app.command()
def status(tenant: TenantOption = None, url: UrlOption = None) -> None:
    """Rows by status and channel, the oldest pending one's age, failed rows with their last error."""
    report = _run(url, lambda: admin.outbox_status(tenant))
    if not report.counts:
        typer.echo("the outbox is empty")
        return
    typer.echo(f"{'tenant':<16} {'status':<8} {'channel':<8} {'rows':>8}")
    for c in report.counts:
        typer.echo(f"{c.tenant:<16} {c.status:<8} {c.channel:<8} {c.count:>8}")
    now = datetime.now(UTC)
    if report.oldest_pending is not None:
        typer.echo(f"oldest pending: {report.oldest_pending:%Y-%m-%d %H:%M:%S} UTC "
                   f"({_age(report.oldest_pending, now)} ago)")
    else:
        typer.echo("nothing pending")
    if report.failed_total:
        shown = f", latest {len(report.failed)}" if len(report.failed) < report.failed_total else ""
        typer.echo(f"failed: {report.failed_total}{shown} (komunikator outbox retry --id N | --all-failed)")
        for row in report.failed:
            typer.echo(f"  #{row.id} {row.tenant} {row.channel} {row.kind}, {row.attempts} attempt(s): "
                       f"{row.last_error}")


@outbox_app.command()
def retry(
    ids: Annotated[list[int] | None, typer.Option("--id", help="a row to retry (repeatable)", show_default=False)]
    = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="retry every failed row")] = False,
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant's rows", show_default=False)]
    = None,
    url: UrlOption = None,
) -> None:
    """Put failed rows back to pending (attempts reset), to be delivered at the next run."""
    if not ids and not all_failed:
        typer.echo("name rows with --id N (repeatable) or use --all-failed", err=True)
        raise typer.Exit(2)
    changed = _run(url, lambda: admin.retry_rows(ids=ids or (), all_failed=all_failed, slug=tenant))
    typer.echo(f"{changed} row(s) back to pending")


@outbox_app.command()
def purge(
    sent_before: Annotated[
        int, typer.Option("--sent-before", min=0, help="delete rows sent more than DAYS days ago", metavar="DAYS")
    ],
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant's rows", show_default=False)]
    = None,
    url: UrlOption = None,
) -> None:
    """Delete sent rows older than DAYS days (pending and failed rows are never deleted)."""
    before = datetime.now(UTC) - timedelta(days=sent_before)
    deleted = _run(url, lambda: admin.purge_sent(before, tenant))
    typer.echo(f"{deleted} sent row(s) deleted (sent before {before:%Y-%m-%d %H:%M} UTC)")
