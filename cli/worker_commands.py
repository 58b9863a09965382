"""`komunikator worker` and `komunikator beat`: production's job runner (Celery).

Run any number of workers (on any machines) and exactly one beat. Both read
the broker from `KOMUNIKATOR_BROKER_URL` (default the local Redis) and the
database from `KOMUNIKATOR_DATABASE_URL`; see engine/delivery/worker.py.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

worker_app = typer.Typer()


class Pool(str, Enum):
    """How a worker runs its tasks."""

    prefork = "prefork"  # child processes, each with its own event loop and connections
    solo = "solo"  # in the worker's own process, one task at a time


LogLevel = Annotated[str, typer.Option("--loglevel", "-l", help="debug, info, warning or error")]


@worker_app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="child processes (prefork; default: CPUs)")
    ] = None,
    pool: Annotated[Pool, typer.Option("--pool", "-P", help="prefork or solo")] = Pool.prefork,
    loglevel: LogLevel = "info",
) -> None:
    """Run a Celery worker: deliver the outbox, fire timers, write staff digests."""
    from komunikator.engine.delivery.worker import app, queue_name

    argv = ["worker", f"--pool={pool.value}", f"--loglevel={loglevel}", f"--queues={queue_name()}",
            "--without-gossip", "--without-mingle"]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


@worker_app.command()
def beat(
    schedule: Annotated[
        Path, typer.Option("--schedule", help="where the beat remembers when it last rang each task")
    ] = Path("var/celerybeat-schedule"),
    loglevel: LogLevel = "info",
) -> None:
    """Run the beat (exactly one per deployment): rings deliver every 10 s, timers every 30 s, digests every 5 min."""
    from komunikator.engine.delivery.worker import app

    schedule.parent.mkdir(parents=True, exist_ok=True)
    app.start(["beat", f"--schedule={schedule}", f"--loglevel={loglevel}"])
