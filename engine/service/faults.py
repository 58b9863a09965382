"""Named checkpoints where tests inject faults (a killed database session…).

Production code calls `await checkpoint("intake.after_ticket")`; with nothing
armed it does nothing. A test arms a checkpoint with an async callable, which
runs there (and may raise or kill the connection) — so crash tests exercise
the real transaction, not a mock of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

_armed: dict[str, Callable[[], Awaitable[None]]] = {}


async def checkpoint(name: str) -> None:
    """Run the fault armed at `name`, if any."""
    fault = _armed.get(name)
    if fault is not None:
        await fault()


@contextmanager
def armed(name: str, fault: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """Arm `fault` at checkpoint `name` for the duration of a `with` block (tests only)."""
    _armed[name] = fault
    try:
        yield
    finally:
        _armed.pop(name, None)
