"""StoreRunner: sync callers run store code on one loop and one Tortoise context, then close it all."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from tortoise import Tortoise

from komunikator.engine.store.runner import StoreRunner, run_sync
from komunikator.engine.store.scope import TenantScope, create_tenant, list_tenants


async def _add(slug: str) -> int:
    return (await create_tenant(slug, slug.title())).id


async def _slugs() -> list[str]:
    return [t.slug for t in await list_tenants()]


async def _count_in_scope(tenant_id: int) -> int:
    return await TenantScope(tenant_id).users().count()


def test_calls_share_the_initialised_context(database_url: str) -> None:
    with StoreRunner(database_url) as runner:
        tenant_id = runner.run(_add("zgierz"))
        runner.run(_add("nieporet"))
        assert runner.run(_slugs()) == ["nieporet", "zgierz"]
        assert runner.run(_count_in_scope(tenant_id)) == 0
    assert run_sync(_slugs, database_url) == ["nieporet", "zgierz"]


def test_close_closes_connections_and_the_loop(database_url: str) -> None:
    runner = StoreRunner(database_url)
    runner.run(_slugs())
    runner.close()
    runner.close()  # twice is fine
    assert runner._loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        runner.run(_slugs())
    # nothing leaked into the caller's context
    assert not Tortoise.is_inited()


def test_an_error_still_closes(database_url: str) -> None:
    async def boom() -> None:
        await list_tenants()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_sync(boom, database_url)
    # a new runner (new loop) works right away: nothing was left open on the old one
    assert run_sync(_slugs, database_url) == []
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_the_cli_process_exits_after_using_sqlite(empty_database_url: str) -> None:
    # an unclosed aiosqlite connection keeps a non-daemon thread alive: the process would hang
    command = [sys.executable, "-m", "komunikator.cli.app", "db", "upgrade", "--url", empty_database_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "applied 0001_initial" in done.stdout
