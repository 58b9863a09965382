"""Photo API fixtures: the app over the test database (SQLite or PostgreSQL), a media folder per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from media_helpers import MediaApi, make_media_api


@pytest.fixture
async def media_api(db: str, tmp_path: Path) -> AsyncIterator[MediaApi]:
    """The app with clients for zgierz and nieporet; photos go to `tmp_path/media`."""
    made = make_media_api(tmp_path / "media")
    try:
        yield made
    finally:
        for client in made.clients.values():
            await client.aclose()
