"""Shared test setup: the store's database fixtures (tests/db_fixtures.py)."""

import os

import pytest

pytest_plugins = ["db_fixtures"]

# The suite files many anonymous reports from one test client within a minute; the limits of
# anonymous reports per address and e-mail are tested with their real values in
# tests/web/test_submission_limits.py (which sets them).
os.environ.setdefault("KOMUNIKATOR_SUBMIT_MAX_PER_ADDRESS", "1000000")
os.environ.setdefault("KOMUNIKATOR_SUBMIT_MAX_PER_EMAIL", "1000000")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (Tortoise's loop)."""
    return "asyncio"
