"""Running the store's async code from sync entry points (the CLI, Celery workers).

One `StoreRunner` owns one event loop and one `contextvars.Context`: Tortoise
1.x keeps its state in context variables, so every coroutine the runner runs
shares the Tortoise context the first one initialised. Closing the runner
always closes the connections (an open SQLite connection hangs exit) and the
loop.

    with StoreRunner() as runner:          # KOMUNIKATOR_DATABASE_URL or the default
        tickets = runner.run(list_tickets())

A Celery worker makes one runner per process (`worker_process_init`) and
closes it at shutdown.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from komunikator.engine.store import db

T = TypeVar("T")


class StoreRunner:
    """An event loop with Tortoise initialised on it, for sync callers."""

    def __init__(self, db_url: str | None = None, *, init: bool = True) -> None:
        """`init=False` leaves initialisation to the first coroutine (e.g. `db.upgrade`)."""
        self.db_url = db_url or db.database_url()
        self._loop = asyncio.new_event_loop()
        self._context = contextvars.Context()
        self._closed = False
        if init:
            self.run(db.init(self.db_url))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to completion on the runner's loop and context; return its result."""
        if self._closed:
            coro.close()
            raise RuntimeError("the store runner is closed")
        task = self._loop.create_task(coro, context=self._context)
        return self._loop.run_until_complete(task)

    def close(self) -> None:
        """Close the database connections and the loop; safe to call twice."""
        if self._closed:
            return
        try:
            self.run(db.close())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._closed = True
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def run_sync(fn: Callable[[], Coroutine[Any, Any, T]], db_url: str | None = None, *, init: bool = True) -> T:
    """Run `fn()` once with the store initialised, then close everything."""
    with StoreRunner(db_url, init=init) as runner:
        return runner.run(fn())
