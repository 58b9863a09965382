"""Shared test setup: the store's database fixtures (tests/db_fixtures.py)."""

import pytest

pytest_plugins = ["db_fixtures"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (Tortoise's loop)."""
    return "asyncio"
