"""`komunikator open311 keys create|list|revoke` against a migrated database (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.open311 import keys
from komunikator.engine.open311.errors import Open311Error
from komunikator.engine.service.accounts.passwords import secret_hash
from komunikator.engine.store.db import DATABASE_URL_ENV
from komunikator.engine.store.models import Open311Client
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    return database_url


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["open311", "keys", *args])


def _in(url: str, slug: str, work: Any) -> Any:
    async def run() -> Any:
        return await work(TenantScope((await ensure_tenant(slug)).id))

    with StoreRunner(url) as runner:
        return runner.run(run())


def test_create_list_revoke(url: str) -> None:
    made = _cli("create", "zgierz", "Aplikacja Naprawmy", "--contact", "dev@example.pl")
    assert made.exit_code == 0, made.output
    first, raw = made.output.splitlines()
    assert first.startswith("key 1 for 'Aplikacja Naprawmy' in zgierz")
    rows = _in(url, "zgierz", lambda s: s.query(Open311Client).all())
    assert [(r.name, r.contact, r.key_hash) for r in rows] == [("Aplikacja Naprawmy", "dev@example.pl",
                                                                secret_hash(raw))]
    assert raw not in str([vars(r) for r in rows])  # only the hash is stored
    listed = _cli("list", "zgierz")
    assert listed.exit_code == 0 and "Aplikacja Naprawmy\tdev@example.pl" in listed.output
    assert "active" in listed.output and raw not in listed.output
    assert _cli("list", "nieporet").output == ""  # keys are each city's own
    other = _cli("revoke", "nieporet", "1")  # another city's key id: unknown there
    assert other.exit_code == 1 and "no active Open311 key 1" in other.output
    revoked = _cli("revoke", "zgierz", "1")
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert _cli("revoke", "zgierz", "1").exit_code == 1  # once

    async def refused(scope: TenantScope) -> str:
        try:
            await keys.authenticate(scope, raw, rows[0].created_at)
        except Open311Error as error:
            return f"{error.status} {error.description}"
        return "accepted"

    assert _in(url, "zgierz", refused) == "403 invalid api_key"
    audit = _in(url, "zgierz", lambda s: s.audit_events().filter(action__startswith="open311_key").order_by("id")
                .values_list("action", "actor_kind"))
    assert audit == [("open311_key_create", "system"), ("open311_key_revoke", "system")]
    assert _cli("create", "zgierz", "  ").exit_code == 1
    assert _cli("create", "warszawa", "x").exit_code == 2
