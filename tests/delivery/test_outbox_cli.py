"""`komunikator outbox status|retry|purge` against a migrated database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.store.db import DATABASE_URL_ENV
from komunikator.engine.store.models import OutboxMessage
from komunikator.engine.store.runner import run_sync
from komunikator.engine.store.scope import TenantScope, ensure_tenant

NOW = datetime.now(UTC)


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["outbox", *args])


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database holding outbox rows in every state, for two tenants."""
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)

    async def fill() -> None:
        zgierz = TenantScope((await ensure_tenant("zgierz")).id)
        nieporet = TenantScope((await ensure_tenant("nieporet")).id)
        rows = [
            (zgierz, "z-pending", "email", {"status": "pending"}),
            (zgierz, "z-push", "push", {"status": "pending", "last_error": "push channel not configured"}),
            (zgierz, "z-failed", "email", {"status": "failed", "attempts": 8, "last_error": "SMTP refused: 550 no"}),
            (zgierz, "z-old", "email", {"status": "sent", "sent_at": NOW - timedelta(days=40)}),
            (zgierz, "z-new", "inbox", {"status": "sent", "sent_at": NOW - timedelta(days=2)}),
            (nieporet, "n-failed", "email", {"status": "failed", "attempts": 3, "last_error": "gave up"}),
            (nieporet, "n-old", "email", {"status": "sent", "sent_at": NOW - timedelta(days=90)}),
            (nieporet, "n-leased", "email", {"status": "pending", "claimed_until": NOW + timedelta(minutes=5),
                                             "attempts": 1}),
        ]
        for scope, key, channel, values in rows:
            await scope.create(OutboxMessage, kind="ticket_received", channel=channel, dedupe_key=key,
                               payload={"template": "ticket_received", "recipients": ["reporter"]}, **values)

    run_sync(fill, database_url)
    return database_url


def rows(url: str) -> dict[str, tuple[str, int]]:
    async def read() -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for slug in ("zgierz", "nieporet"):
            scope = await TenantScope.for_slug(slug)
            for row in await scope.outbox():
                found[row.dedupe_key] = (row.status, row.attempts)
        return found

    return run_sync(read, url)


def test_status_counts_by_tenant_status_and_channel_and_lists_failures(url: str) -> None:
    result = cli("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["tenant", "status", "channel", "rows"]
    table = {tuple(line.split()) for line in lines[1:9]}
    assert ("zgierz", "pending", "email", "1") in table
    assert ("zgierz", "pending", "push", "1") in table
    assert ("nieporet", "failed", "email", "1") in table
    assert ("zgierz", "sent", "email", "1") in table
    assert any(line.startswith("oldest pending: ") for line in lines)
    assert "failed: 2 (komunikator outbox retry --id N | --all-failed)" in result.output
    assert "zgierz email ticket_received, 8 attempt(s): SMTP refused: 550 no" in result.output

    one = cli("status", "nieporet")
    assert one.exit_code == 0
    assert "zgierz" not in one.output and "gave up" in one.output
    unknown = cli("status", "atlantis")
    assert unknown.exit_code == 2
    assert "no tenant 'atlantis'" in unknown.output


def test_retry_puts_failed_rows_back_with_attempts_reset(url: str) -> None:
    assert cli("retry").exit_code == 2
    result = cli("retry", "--all-failed", "--tenant", "zgierz")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 row(s) back to pending"
    state = rows(url)
    assert state["z-failed"] == ("pending", 0)
    assert state["n-failed"] == ("failed", 3)

    assert cli("retry", "--all-failed").output.strip() == "1 row(s) back to pending"
    assert rows(url)["n-failed"] == ("pending", 0)


def test_retry_by_id_never_touches_sent_or_leased_rows(url: str) -> None:
    async def ids() -> dict[str, int]:
        found = {}
        for slug in ("zgierz", "nieporet"):
            scope = await TenantScope.for_slug(slug)
            found.update({r.dedupe_key: r.id for r in await scope.outbox()})
        return found

    by_key = run_sync(ids, url)
    result = cli("retry", "--id", str(by_key["z-old"]), "--id", str(by_key["n-leased"]),
                 "--id", str(by_key["n-failed"]))
    assert result.output.strip() == "1 row(s) back to pending"
    state = rows(url)
    assert state["z-old"] == ("sent", 0)
    assert state["n-leased"] == ("pending", 1)
    assert state["n-failed"] == ("pending", 0)


def test_purge_deletes_only_sent_rows_older_than_the_cutoff(url: str) -> None:
    result = cli("purge", "--sent-before", "30")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 sent row(s) deleted")
    assert set(rows(url)) == {"z-pending", "z-push", "z-failed", "z-new", "n-failed", "n-leased"}
    assert cli("purge", "--sent-before", "0", "--tenant", "zgierz").output.startswith("1 sent row(s) deleted")
    assert set(rows(url)) == {"z-pending", "z-push", "z-failed", "n-failed", "n-leased"}
