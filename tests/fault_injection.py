"""Arming the product's named checkpoints (engine/service/faults.py) for the duration of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from komunikator.engine.service.faults import Fault, set_fault


@contextmanager
def armed(name: str, fault: Fault) -> Iterator[None]:
    """Run `fault` whenever the code passes checkpoint `name`, inside this `with` block."""
    set_fault(name, fault)
    try:
        yield
    finally:
        set_fault(name, None)
