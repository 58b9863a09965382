"""API test fixtures: an app over the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from web_helpers import Api, Clock, make_api


@pytest.fixture
async def api(db: str) -> AsyncIterator[Api]:
    """The app with clients for zgierz and nieporet, on a clean database."""
    made = make_api(Clock())
    try:
        yield made
    finally:
        for client in made.clients.values():
            await client.aclose()
