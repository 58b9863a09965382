"""Counting the SQL statements a piece of code runs (the pages' N+1 test, the staff page benchmark).

Tortoise logs every statement it sends at DEBUG on `tortoise.db_client`; `count_statements()`
listens there for as long as the `with` block runs and counts what it saw, both databases alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_LOGGER = logging.getLogger("tortoise.db_client")
_SQL = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@dataclass
class Statements:
    """The statements seen so far, as sent (first line of each)."""

    seen: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.seen)


class _Listener(logging.Handler):
    def __init__(self, into: Statements) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.args[0]) if isinstance(record.args, tuple) and record.args else str(record.msg)
        if text.lstrip().upper().startswith(_SQL):
            self.into.seen.append(text.strip().splitlines()[0][:200])


@contextmanager
def count_statements() -> Iterator[Statements]:
    """The SQL statements run inside the block (Tortoise's own log, switched to DEBUG meanwhile)."""
    found = Statements()
    listener = _Listener(found)
    level, propagate = _LOGGER.level, _LOGGER.propagate
    _LOGGER.addHandler(listener)
    _LOGGER.setLevel(logging.DEBUG)
    _LOGGER.propagate = False  # counted, not printed
    try:
        yield found
    finally:
        _LOGGER.removeHandler(listener)
        _LOGGER.setLevel(level)
        _LOGGER.propagate = propagate


__all__ = ["Statements", "count_statements"]
