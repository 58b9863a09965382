"""`komunikator media gc` against a migrated database and the media folder that goes with it."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.media.storage import LocalStorage, new_key, thumb_key
from komunikator.engine.store.db import DATABASE_URL_ENV


def test_gc_lists_then_deletes_old_files_nothing_names(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    storage = LocalStorage.from_env()  # the test's own folder (the `database_url` fixture sets it)
    assert "media" in storage.root.parts
    old, fresh = new_key(1), new_key(1)
    for key in (old, thumb_key(old), fresh):
        storage.put(key, b"orphan")
    two_hours_ago = time.time() - 7200
    for key in (old, thumb_key(old)):
        os.utime(storage.path(key), (two_hours_ago, two_hours_ago))

    listed = CliRunner().invoke(app, ["media", "gc", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert f"would delete {old}" in listed.output and f"would delete {thumb_key(old)}" in listed.output
    assert "3 file(s)" not in listed.output and "2 file(s) older than 60 min, 2 named by no attachment" in listed.output
    assert storage.exists(old)

    done = CliRunner().invoke(app, ["media", "gc"])
    assert done.exit_code == 0, done.output
    assert "2 deleted" in done.output
    assert storage.keys() == [fresh]
    assert CliRunner().invoke(app, ["media", "gc", "--older-than", "1"]).exit_code == 2  # below the minimum
