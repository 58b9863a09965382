"""Big list exports as a background job, in-process on both databases (engine/lists/jobs.py, web/staff/exports_page.py).

Above `KOMUNIKATOR_EXPORT_INLINE_MAX_ROWS` (set low here) the list page offers
a background export instead of links (the API's inline export answers 409);
asking for one opens its page, which htmx re-reads while the job has not run;
the embedded runner's round writes it (the `exports` job of the registry,
the one Celery rings in production); then the page links the file, which
holds the view as the requester sees it, the export is audited like an inline
one and the requester has an e-mail with the link in the outbox. Nobody else
(a colleague, another city) gets the page or the file (404); after its time
the file is deleted and its link answers 410. Mistakes are 4xx pages.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from web_helpers import Api, registry, staff_member, staff_session

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.delivery.embedded import EmbeddedRunner
from komunikator.engine.delivery.render import MessageSubject, build_context, render_message
from komunikator.engine.jobs import all_jobs
from komunikator.engine.lists import jobs, query
from komunikator.engine.lists.view import open_view
from komunikator.engine.service import accounts
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import ListExport
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web.staff.i18n import translations

pytestmark = pytest.mark.anyio
FILTER = {"match": "all", "conditions": [{"field": "public_status", "op": "eq", "value": "open"}]}
SORT = "unit,-created_at"
COLUMNS = "number,unit,state,created_at"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(jobs.INLINE_ENV, "5")
    monkeypatch.setenv(jobs.TTL_ENV, "24")
    monkeypatch.setenv(jobs.DIR_ENV, str(tmp_path / "exports"))
    return tmp_path / "exports"


async def _round(api: Api) -> None:
    """One round of the embedded runner with the registry's `exports` job (what the web process runs)."""
    runner = EmbeddedRunner(registry(), clock=api.clock, jobs={"exports": all_jobs()["exports"]})
    await runner.run_once()


async def _ask(api: Api, csrf: str, kind: str, **form: str) -> tuple[int, str]:
    answer = await api.client("zgierz").post("/staff/lists/tickets/exports", data={
        "csrf_token": csrf, "filter": json.dumps(FILTER), "sort": SORT, "columns": COLUMNS, "format": kind, **form},
        headers={"Origin": "http://zgierz.localhost"})
    return answer.status_code, answer.headers.get("location", "")


async def test_a_big_export_runs_as_a_job_for_its_requester_only(api: Api, folder: Path) -> None:
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=30, seed=2, end=api.clock.now)
    user = await staff_member("zgierz", "dyspozytor@zgierz.example.pl", "bom:dispatcher")
    colleague = await staff_member("zgierz", "kolega@zgierz.example.pl", "bom:dispatcher")
    viewer = await user_view(scope, user)
    view = open_view(tenant, viewer, "tickets", filter_text=json.dumps(FILTER), sort=SORT, columns=COLUMNS)
    expected = [r async for r in query.rows(scope, tenant, viewer, view.spec, view.filter, view.sort, view.columns,
                                            now=api.clock.now)]
    assert len(expected) > 5
    client = api.client("zgierz")
    csrf = await staff_session(client, "dyspozytor@zgierz.example.pl")

    # the page offers the background export; the API's inline export refuses the big view
    listing = await client.get("/staff/lists/tickets", params={"filter": json.dumps(FILTER), "sort": SORT,
                                                                "columns": COLUMNS})
    assert 'action="/staff/lists/tickets/exports"' in listing.text
    assert "/api/v1/lists/tickets/export?" not in listing.text
    inline = await client.get("/api/v1/lists/tickets/export", params={"filter": json.dumps(FILTER)})
    assert inline.status_code == 409 and inline.json()["error"] == "export_too_big"

    status, location = await _ask(api, csrf, "xlsx")
    assert status == 303 and re.fullmatch(r"/staff/exports/\d+", location)
    export_id = int(location.rsplit("/", 1)[1])
    waiting = await client.get(location)
    assert waiting.status_code == 200
    assert f'hx-get="/staff/exports/{export_id}"' in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    assert "<progress" in waiting.text and "content-security-policy" in waiting.headers
    assert (await client.get(f"{location}/file")).status_code == 404  # not written yet

    await _round(api)
    row = await scope.get(ListExport, id=export_id)
    assert row.status == "done" and row.rows == len(expected) and row.file_name is not None
    ready = await client.get(location)
    assert 'hx-trigger="every' not in ready.text and f'href="/staff/exports/{export_id}/file"' in ready.text
    got = await client.get(f"{location}/file")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxml")
    assert got.headers["cache-control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    assert len(lines) == len(expected) + 1
    assert [line[0] for line in lines[1:]] == [r.values[0] for r in expected]  # the view's order

    # audited like an inline export, with the export's id
    audited = await scope.audit_events().filter(action="list_export").order_by("-id").first()
    assert audited is not None and audited.actor_user_id == user.id  # type: ignore[attr-defined]
    assert audited.after["export_id"] == export_id and audited.after["rows"] == len(expected)
    assert audited.after["filter"] == FILTER and audited.after["complete"] is True
    # the requester's e-mail, through the outbox
    mail = await scope.outbox().get(dedupe_key=f"export:{export_id}")
    assert mail.kind == jobs.TEMPLATE and mail.channel == "email"
    assert mail.payload["recipients"] == [f"user:{user.id}"]
    assert mail.payload["export"]["url"].endswith(f"/staff/exports/{export_id}")
    assert mail.payload["export"]["rows"] == len(expected)

    # a colleague of the same unit, and another city, get nothing (404), not even the page
    other = api.client("nieporet")
    await staff_member("nieporet", "ktos@nieporet.example.pl", "urzad:management")
    await staff_session(other, "ktos@nieporet.example.pl")
    await client.get("/staff/logout")
    client.cookies.clear()
    await staff_session(client, "kolega@zgierz.example.pl")
    for stranger in (client, other):
        assert (await stranger.get(location)).status_code == 404
        assert (await stranger.get(f"{location}/file")).status_code == 404
    assert colleague.id != user.id

    # after its time: the file is deleted and the link answers 410
    api.clock.advance(hours=25)
    await _round(api)
    client.cookies.clear()
    await staff_session(client, "dyspozytor@zgierz.example.pl")  # a new session: the last one ran out too
    assert not any(folder.iterdir())
    gone = await client.get(f"{location}/file")
    assert gone.status_code == 410 and "<h1>" in gone.text
    assert 'hx-trigger="every' not in (await client.get(location)).text


async def test_a_csv_export_in_the_background_and_bad_requests(api: Api, folder: Path) -> None:
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=12, seed=4, end=api.clock.now)
    await staff_member("zgierz", "dyspozytor@zgierz.example.pl", "bom:dispatcher")
    client = api.client("zgierz")
    csrf = await staff_session(client, "dyspozytor@zgierz.example.pl")
    status, location = await _ask(api, csrf, "csv")
    assert status == 303
    await _round(api)
    got = await client.get(f"{location}/file")
    assert got.status_code == 200 and got.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    row = await scope.get(ListExport, id=int(location.rsplit("/", 1)[1]))
    assert len(lines) == row.rows + 1 and lines[0][0] == "Numer"
    # mistakes: 4xx, never a job
    before = await scope.query(ListExport).count()
    assert (await _ask(api, csrf, "pdf"))[0] == 422
    assert (await _ask(api, csrf, "xlsx", filter='{"conditions": [{"field": "nope"}]}'))[0] == 422
    assert (await _ask(api, csrf, "xlsx", sort="-nope"))[0] == 422
    assert (await _ask(api, "not-the-token", "xlsx"))[0] == 403
    missing = await client.post("/staff/lists/nope/exports", data={"csrf_token": csrf, "format": "xlsx"},
                                headers={"Origin": "http://zgierz.localhost"})
    assert missing.status_code == 404
    assert (await client.get("/staff/exports/999999")).status_code == 404
    assert (await client.get("/staff/exports/abc")).status_code in (404, 422)
    assert await scope.query(ListExport).count() == before


async def test_an_export_that_keeps_failing_is_retried_then_marked_failed(api: Api, folder: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real fault (the exports folder cannot be made: a file stands in its way) is retried, then given up."""
    blocker = folder.parent / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv(jobs.DIR_ENV, str(blocker / "exports"))
    monkeypatch.setenv(jobs.ATTEMPTS_ENV, "3")
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=12, seed=5, end=api.clock.now)
    user = await staff_member("zgierz", "dyspozytor@zgierz.example.pl", "bom:dispatcher")
    client = api.client("zgierz")
    csrf = await staff_session(client, "dyspozytor@zgierz.example.pl")
    status, location = await _ask(api, csrf, "csv")
    assert status == 303
    export_id = int(location.rsplit("/", 1)[1])

    await _round(api)
    row = await scope.get(ListExport, id=export_id)
    assert row.status == "running" and row.attempts == 1 and row.error and "NotADirectoryError" in row.error
    retrying = await client.get(location)
    assert "próba 1 z 3" in retrying.text and 'hx-trigger="every 2s"' in retrying.text
    await _round(api)  # not before its delay
    assert (await scope.get(ListExport, id=export_id)).attempts == 1
    for attempt in (2, 3):
        api.clock.advance(minutes=5)
        await _round(api)
        assert (await scope.get(ListExport, id=export_id)).attempts == attempt
    row = await scope.get(ListExport, id=export_id)
    assert row.status == "failed" and row.lease_until is None and row.file_name is None
    failed = await client.get(location)
    assert 'hx-trigger="every' not in failed.text and 'role="alert"' in failed.text
    assert "Eksport nie powiódł się po 3 próbach" in failed.text and "NotADirectoryError" not in failed.text
    english = translations("en").ngettext("The export failed after %(num)d attempt. Ask for it again, or for a smaller "
                                          "view; if it fails again, tell your administrator.",
                                          "The export failed after %(num)d attempts. Ask for it again, or for a "
                                          "smaller view; if it fails again, tell your administrator.", 3)
    assert english.startswith("The export failed after %(num)d attempts.")
    audited = await scope.audit_events().filter(action="list_export_failed").order_by("-id").first()
    assert audited is not None and audited.actor_user_id == user.id  # type: ignore[attr-defined]
    assert audited.after["export_id"] == export_id and audited.after["attempts"] == 3
    assert await scope.audit_events().filter(action="list_export").count() == 3  # each attempt, incomplete
    assert not await scope.outbox().filter(dedupe_key=f"export:{export_id}").exists()
    # the requester was promised an e-mail: it says the export failed, links its page, and does not quote the
    # reason (a server's folder); written once however many rounds run
    [mail] = await scope.outbox().filter(dedupe_key=f"export-failed:{export_id}")
    assert mail.kind == jobs.FAILED_TEMPLATE and mail.payload["recipients"] == [f"user:{user.id}"]
    about = mail.payload["export"]
    assert about["url"].endswith(f"/staff/exports/{export_id}") and about["attempts"] == 3
    context = build_context(tenant, "localhost", "pl", "Dyspozytor", MessageSubject(None, None, "", mail.payload))
    rendered = render_message(tenant, jobs.FAILED_TEMPLATE, "pl", context)  # as delivery renders it
    assert "nie udało się przygotować" in rendered.subject and about["url"] in rendered.text
    assert "prób: 3" in rendered.text and "NotADirectoryError" not in rendered.text + rendered.html

    # the folder mended, a failed export stays failed (asked for again, it is written)
    monkeypatch.setenv(jobs.DIR_ENV, str(folder))
    api.clock.advance(minutes=30)
    await _round(api)
    assert (await scope.get(ListExport, id=export_id)).status == "failed"
    assert await scope.outbox().filter(dedupe_key=f"export-failed:{export_id}").count() == 1


async def test_files_go_with_their_requester_and_their_row(api: Api, folder: Path) -> None:
    """A deactivated requester's file, and a file whose export row is gone, are deleted by the job's sweep."""
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=12, seed=6, end=api.clock.now)
    leaving = await staff_member("zgierz", "odchodzi@zgierz.example.pl", "bom:dispatcher")
    staying = await staff_member("zgierz", "zostaje@zgierz.example.pl", "bom:dispatcher")
    client = api.client("zgierz")
    ids: dict[str, int] = {}
    for who in ("odchodzi", "zostaje"):
        client.cookies.clear()
        csrf = await staff_session(client, f"{who}@zgierz.example.pl")
        status, location = await _ask(api, csrf, "csv")
        assert status == 303
        ids[who] = int(location.rsplit("/", 1)[1])
    await _round(api)
    rows = {who: await scope.get(ListExport, id=number) for who, number in ids.items()}
    assert all(r.status == "done" and r.file_name for r in rows.values())
    assert len(list(folder.iterdir())) == 2

    await accounts.deactivate(scope, leaving, api.clock.now)
    await _round(api)
    assert (await scope.get(ListExport, id=ids["odchodzi"])).file_name is None
    assert sorted(p.name for p in folder.iterdir()) == [rows["zostaje"].file_name]

    # a row gone (as with its requester's account, ON DELETE CASCADE) leaves no file behind
    await scope.query(ListExport).filter(id=ids["zostaje"]).delete()
    other_city = folder / f"{scope.tenant_id + 1000}-1-abcd.csv"
    other_city.write_text("another city's, not this sweep's")
    await _round(api)
    assert [p.name for p in folder.iterdir()] == [other_city.name]
    assert staying.active


async def test_an_export_whose_view_no_longer_parses_fails_with_an_e_mail(api: Api, folder: Path) -> None:
    """A definition change between the request and the job (here: the filter names a field the city no longer
    has) fails the export at once, not retried, and the requester is told; a deactivated requester is told
    nothing (there is nobody to tell)."""
    tenant = registry().tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=12, seed=7, end=api.clock.now)
    user = await staff_member("zgierz", "dyspozytor@zgierz.example.pl", "bom:dispatcher")
    csrf = await staff_session(api.client("zgierz"), "dyspozytor@zgierz.example.pl")
    _, location = await _ask(api, csrf, "csv")
    export_id = int(location.rsplit("/", 1)[1])
    gone = {"match": "all", "conditions": [{"field": "attr.hydrant_number", "op": "eq", "value": "H-1"}]}
    await scope.query(ListExport).filter(id=export_id).update(filter_document=gone)
    await _round(api)
    await _round(api)
    row = await scope.get(ListExport, id=export_id)
    assert (row.status, row.attempts) == ("failed", 1) and row.error and "hydrant_number" in row.error
    [mail] = await scope.outbox().filter(dedupe_key=f"export-failed:{export_id}")
    assert mail.payload["recipients"] == [f"user:{user.id}"] and mail.payload["export"]["list_name"] == "Zgłoszenia"

    other = await staff_member("zgierz", "drugi@zgierz.example.pl", "bom:dispatcher")
    api.client("zgierz").cookies.clear()  # another person, at the same desk
    csrf = await staff_session(api.client("zgierz"), "drugi@zgierz.example.pl")
    _, third = await _ask(api, csrf, "csv")
    await accounts.deactivate(scope, other, api.clock.now)
    await _round(api)
    export_id = int(third.rsplit("/", 1)[1])
    assert (await scope.get(ListExport, id=export_id)).status == "failed"
    assert not await scope.outbox().filter(dedupe_key=f"export-failed:{export_id}").exists()
