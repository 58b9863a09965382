"""Shared test setup: the store's database fixtures (see komunikator/engine/store/testing.py)."""

import pytest

pytest_plugins = ["komunikator.engine.store.testing"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (Tortoise's loop)."""
    return "asyncio"
