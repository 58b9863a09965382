"""Timers armed before migration 0006 (a list position, no name) are named from today's configuration.

Runs on SQLite and PostgreSQL: a migrated database holding a timer row as
0006 leaves an older one (`timer_index` kept, `timer_name` empty), then
`komunikator db migrate-definitions` (the fallback when `db upgrade` could not
name them; the upgrade-time path calls the same `name_legacy_timers`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.models import ReporterContact, Ticket
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _ticket_with_old_timer() -> int:
    """A ticket waiting for the resident, its `resume_unanswered` timer armed as position 1 (pre-0006)."""
    tenant = TenantRegistry.load(Settings.from_env()).tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    version = await scope.ensure_definition_version(tenant.version, {})
    contact = await scope.create(ReporterContact, name="Jan Kowalski", email="jan@example.pl")
    ticket = await scope.create(
        Ticket, number="ZG-2026-000001", category="pothole", process="simple_fix", state="waiting_for_resident",
        responsible_unit="drogi", channel="public", definition_version=version, state_entered_at=NOW,
        reporter_contact_id=contact.id, description="Dziura",
    )
    await db.connection().execute_query(
        'INSERT INTO "timers" ("timer_name","timer_index","state","status","fire_at","tenant_id","ticket_id") '
        f"VALUES ('',1,'waiting_for_resident','armed','2026-12-15 09:00:00+00:00',{scope.tenant_id},{ticket.id})"
    )
    return scope.tenant_id


async def _timers(tenant_id: int) -> list[tuple[str, int | None, str]]:
    rows = await TenantScope(tenant_id).timers().values_list("timer_name", "timer_index", "status")
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_timers_armed_before_0006_are_named(database_url: str) -> None:
    url = database_url
    with StoreRunner(url) as runner:
        tenant_id = runner.run(_ticket_with_old_timer())
    refused = CliRunner().invoke(app, ["check", "-q", "--database", url])
    assert refused.exit_code == 1 and "timer '(unnamed, from before migration 0006)'" in refused.output
    named = CliRunner().invoke(app, ["db", "migrate-definitions", "--url", url])
    assert named.exit_code == 0, named.output
    assert "zgierz: named 1 armed timer(s) from before migration 0006" in named.output
    with StoreRunner(url) as runner:
        assert runner.run(_timers(tenant_id)) == [("resume_unanswered", 1, "armed")]
