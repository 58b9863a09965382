"""Named checkpoints where a test can make the real code fail (a killed database session…).

Production code calls `await checkpoint("intake.after_ticket")`; with nothing
armed it does nothing. Tests arm a checkpoint with an async callable
(`tests/fault_injection.py`), which runs there and may raise or kill the
connection — so crash tests exercise the real transaction, not a mock of it.
Arming belongs to tests alone; the product only offers the checkpoints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Fault = Callable[[], Awaitable[None]]
_armed: dict[str, Fault] = {}


async def checkpoint(name: str) -> None:
    """Run the fault armed at `name`, if any."""
    fault = _armed.get(name)
    if fault is not None:
        await fault()


def set_fault(name: str, fault: Fault | None) -> None:
    """Arm (or, with None, disarm) the checkpoint `name` — for tests only (tests/fault_injection.py)."""
    if fault is None:
        _armed.pop(name, None)
    else:
        _armed[name] = fault
