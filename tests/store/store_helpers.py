"""Constants and types shared by the store tests (a module, not `conftest`, which other folders shadow)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from komunikator.engine.store.models import Ticket

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

MakeTicket = Callable[..., Awaitable[Ticket]]
