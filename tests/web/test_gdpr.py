"""GDPR export and erasure (issue #12, 6): for an admin through the API, and `komunikator gdpr` (both databases)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner
from web_helpers import Api, report

from komunikator.cli.app import app as cli_app
from komunikator.engine.store.db import DATABASE_URL_ENV
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"
BASIS = "art. 17 ust. 1 lit. a RODO, wniosek z 2026-12-01"


async def _scope() -> TenantScope:
    return TenantScope((await ensure_tenant(ZG)).id)


async def _two_reports_and_a_stranger(api: Api) -> tuple[str, str, str]:
    client = api.client(ZG)
    numbers = []
    for description in ("Dziura przy szkole", "Znowu dziura przy szkole"):
        jan = {"name": "Jan Kowalski", "email": "Jan@Example.pl", "phone": "600100200"}
        r = await client.post("/api/v1/tickets", json=report(description=description, reporter=jan))
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    other = await client.post("/api/v1/tickets", json=report(reporter={"name": "Ewa", "email": "ewa@example.pl"}))
    return numbers[0], numbers[1], other.json()["number"]


async def test_an_admin_exports_and_erases_a_reporter(api: Api) -> None:
    first, second, strangers = await _two_reports_and_a_stranger(api)
    admin = await api.staff(ZG, "admin@zgierz.pl", "bom:admin")
    client = api.client(ZG)

    exported = await client.post("/api/v1/admin/gdpr/export", json={"email": "jan@example.pl"}, headers=admin)
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert [c["email"] for c in data["contacts"]] == ["Jan@Example.pl", "Jan@Example.pl"]
    assert {c["phone"] for c in data["contacts"]} == {"600100200"}
    assert [r["number"] for r in data["reports"]] == [first, second]
    assert data["reports"][0]["description"] == "Dziura przy szkole"
    by_ticket = await client.post("/api/v1/admin/gdpr/export", json={"ticket": second}, headers=admin)
    assert [r["number"] for r in by_ticket.json()["reports"]] == [second]

    scope = await _scope()
    pending_before = await scope.outbox().filter(status="pending").count()
    erased = await client.post("/api/v1/admin/gdpr/erase", json={"email": "JAN@example.pl", "legal_basis": BASIS},
                               headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased_contacts"] == 2 and erased.json()["reports_to_review"] == [first, second]
    assert erased.json()["dropped_messages"] >= 2  # the two receipts waiting to go out
    assert await scope.outbox().filter(status="pending").count() == pending_before - erased.json()["dropped_messages"]

    contacts = await scope.reporter_contacts().filter(erased_at__not_isnull=True)
    assert len(contacts) == 2 and all(c.name is None and c.email is None and c.phone is None for c in contacts)
    stranger = await scope.tickets().get(number=strangers)
    assert (await scope.reporter_contacts().get(id=stranger.reporter_contact_id)).email == "ewa@example.pl"
    # the report's own text stays for the office to redact; the staff view shows no contact any more
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    shown = await client.get(f"/api/v1/tickets/{first}", headers=dispatcher)
    assert shown.json()["description"] == "Dziura przy szkole"
    assert "Jan@Example.pl" not in shown.text and "600100200" not in shown.text
    # audited, with the legal basis and who did it
    rows = await scope.audit_events().filter(action="gdpr_erase").order_by("id")
    assert len(rows) == 2 and all(row.reason == BASIS for row in rows)
    assert {row.actor_user_id for row in rows} == {int(admin["X-User-Id"])}  # type: ignore[attr-defined]
    # nothing left to find under that address
    again = await client.post("/api/v1/admin/gdpr/export", json={"email": "jan@example.pl"}, headers=admin)
    assert again.status_code == 404


async def test_only_an_admin_handles_personal_data(api: Api) -> None:
    first, _, _ = await _two_reports_and_a_stranger(api)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    client = api.client(ZG)
    for path, body in (("/api/v1/admin/gdpr/export", {"ticket": first}),
                       ("/api/v1/admin/gdpr/erase", {"ticket": first, "legal_basis": BASIS})):
        assert (await client.post(path, json=body, headers=dispatcher)).status_code == 403
        assert (await client.post(path, json=body)).status_code == 401
    admin = await api.staff(ZG, "admin@zgierz.pl", "bom:admin")
    no_basis = await client.post("/api/v1/admin/gdpr/erase", json={"ticket": first, "legal_basis": " "},
                                 headers=admin)
    assert no_basis.status_code == 422 and no_basis.json()["field"] == "legal_basis"
    both = await client.post("/api/v1/admin/gdpr/export", json={"ticket": first, "email": "a@b.pl"}, headers=admin)
    assert both.status_code == 422
    scope = await _scope()
    assert await scope.reporter_contacts().filter(erased_at__not_isnull=True).count() == 0


async def test_the_gdpr_commands(api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, _ = await _two_reports_and_a_stranger(api)
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    # the CLI opens its own connection (StoreRunner, a thread of its own) to the same database
    import asyncio

    def cli(*args: str) -> object:
        return CliRunner().invoke(cli_app, ["gdpr", *args])

    exported = await asyncio.to_thread(cli, "export", ZG, "--ticket", first)
    assert exported.exit_code == 0, exported.output  # type: ignore[attr-defined]
    data = json.loads(exported.output)  # type: ignore[attr-defined]
    assert [r["number"] for r in data["reports"]] == [first]  # the contact given with that report
    assert data["contacts"][0]["phone"] == "600100200"
    refused = await asyncio.to_thread(cli, "erase", ZG, "--ticket", first, "--legal-basis", "")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    erased = await asyncio.to_thread(cli, "erase", ZG, "--email", "jan@example.pl", "--legal-basis", BASIS)
    assert erased.exit_code == 0, erased.output  # type: ignore[attr-defined]
    assert "erased 2 contact(s)" in erased.output and first in erased.output  # type: ignore[attr-defined]
    twice = await asyncio.to_thread(cli, "erase", ZG, "--email", "jan@example.pl", "--legal-basis", BASIS)
    assert twice.exit_code == 1  # type: ignore[attr-defined]  # nobody left with that address
    usage = await asyncio.to_thread(cli, "export", ZG)
    assert usage.exit_code == 2  # type: ignore[attr-defined]
    scope = await _scope()
    rows = await scope.audit_events().filter(action="gdpr_erase")
    assert len(rows) == 2 and rows[0].reason == BASIS
