"""Definition changes through the CLI: `check --database`, `serve` refusing, `db migrate-definitions`.

Against a migrated database (SQLite, or PostgreSQL with KOMUNIKATOR_TEST_DB=postgres)
holding a ticket that waits for the resident, with Zgierz's configuration
changed to drop that state (tests/definition_helpers.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from definition_helpers import CHANGE_FILE, DROP_WAITING, DROP_WAITING_MAPPED, changed_config
from typer.testing import CliRunner

from komunikator.cli import serve_commands
from komunikator.cli.app import app
from komunikator.engine.settings import Settings
from komunikator.engine.store.db import DATABASE_URL_ENV
from komunikator.engine.store.runner import run_sync
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REPORT = {"category": "pothole", "description": "Duża dziura przy przystanku", "lat": 51.855, "lon": 19.406,
          "attributes": {"size": "medium"}, "reporter": {"name": "Jan Kowalski", "email": "jan@example.pl"}}


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def use_config(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("KOMUNIKATOR_DEFINITIONS", str(settings.definitions_dir))
    monkeypatch.setenv("KOMUNIKATOR_TENANTS", str(settings.tenants_dir))


def waiting_ticket(url: str) -> str:
    """A ticket in `waiting_for_resident`, made over HTTP by the shipped configuration."""

    async def main() -> str:
        from komunikator.engine.service import accounts
        from komunikator.engine.store.scope import ensure_tenant

        registry = TenantRegistry.load(Settings.from_env())
        scope = TenantScope((await ensure_tenant("zgierz")).id)
        user = await accounts.create_user(scope, "bom@zgierz.pl", "bom", password=None)
        await accounts.grant(scope, registry.tenants["zgierz"], user, "bom", "dispatcher")
        raw, _ = await accounts.create_token(scope, user, "tests")
        staff = {"Authorization": f"Bearer {raw}"}
        web = create_app(registry, init_database=False, clock=lambda: NOW)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test",
                                     headers={"Host": "zgierz.localhost"}) as client:
            number = (await client.post("/api/v1/tickets", json=REPORT)).json()["number"]
            for action, body in (("verify", {}), ("ask_resident", {"public_comment": "Prosimy o zdjęcie."})):
                r = await client.post(f"/api/v1/tickets/{number}/actions/{action}", json=body, headers=staff)
                assert r.status_code == 200, r.text
        return str(number)

    return run_sync(main, url)


def state_of(url: str, number: str) -> str:
    async def main() -> str:
        return (await (await TenantScope.for_slug("zgierz")).get_ticket(number)).state

    return run_sync(main, url)


def test_check_serve_and_migrate_definitions(database_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    number = waiting_ticket(database_url)
    use_config(monkeypatch, changed_config(tmp_path / "dropped", DROP_WAITING))

    checked = cli("check", "--quiet", "--database", database_url)
    assert checked.exit_code == 1, checked.output
    assert f"{CHANGE_FILE}:" in checked.output
    assert "processes.simple_fix.states: 1 open ticket(s) of zgierz are in state 'waiting_for_resident'" in (
        checked.output)
    assert "timer 'resume_unanswered'" in checked.output
    assert "Traceback" not in checked.output

    def would_serve(*_: object, **__: object) -> None:
        raise AssertionError("serve started on a configuration that does not fit the open tickets")

    monkeypatch.setattr(serve_commands, "_run", would_serve)
    refused = cli("serve")
    assert refused.exit_code == 1, refused.output
    assert "waiting_for_resident" in refused.output and "nothing was started" in refused.output

    unmapped = cli("db", "migrate-definitions")  # no state_map: nothing to move the tickets to
    assert unmapped.exit_code == 1, unmapped.output
    assert "state_map: {waiting_for_resident: STATE}" in unmapped.output
    assert state_of(database_url, number) == "waiting_for_resident"

    use_config(monkeypatch, changed_config(tmp_path / "mapped", DROP_WAITING_MAPPED))
    migrated = cli("db", "migrate-definitions", "--url", database_url)
    assert migrated.exit_code == 0, migrated.output
    assert "zgierz: moved 1 ticket(s) of process simple_fix from waiting_for_resident to in_progress" in (
        migrated.output)
    assert state_of(database_url, number) == "in_progress"
    fits = cli("check", "--quiet", "--database", database_url)
    assert fits.exit_code == 0, fits.output
    again = cli("db", "migrate-definitions")
    assert again.exit_code == 0 and "(nothing to do)" in again.output
