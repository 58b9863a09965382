"""`komunikator media …`: the photo store.

Exit codes: 0 done, 1 the database or the media folder failed, 2 the command line is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.service.blob_gc import GRACE, collect_orphans
from komunikator.engine.store.errors import DatabaseError
from komunikator.engine.store.runner import StoreRunner

media_app = typer.Typer(name="media", help="The photo store (KOMUNIKATOR_MEDIA_DIR).", no_args_is_help=True)


@media_app.command()
def gc(
    older_than: Annotated[int, typer.Option(
        "--older-than", min=5, metavar="MINUTES",
        help="only blobs written more than MINUTES ago (uploads in flight are younger)")] = int(
        GRACE.total_seconds() // 60),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would go, delete nothing")] = False,
    url: UrlOption = None,
) -> None:
    """Delete photo files no attachment names (left by a crash between storing and saving)."""
    storage = LocalStorage.from_env()
    try:
        with StoreRunner(url) as runner:
            report = runner.run(collect_orphans(storage, datetime.now(UTC), grace=timedelta(minutes=older_than),
                                                dry_run=dry_run))
    except (DatabaseError, OSError) as error:
        typer.echo(f"error: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None
    if dry_run:
        for key in report.orphans:
            typer.echo(f"would delete {key}")
    typer.echo(f"{storage.root}: {report.examined} file(s) older than {older_than} min, "
               f"{len(report.orphans)} named by no attachment, "
               + (f"{len(report.orphans)} would be deleted" if dry_run else f"{report.deleted} deleted"))
