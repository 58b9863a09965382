"""The administration pages (`/staff/admin/…`) rendered by the app in-process, on both databases.

An administrator creates an account with a membership, the new person signs in with the
temporary password and sees their unit's work; deactivation ends their session; a password
reset ends it too; non-administrators and another city's administrator get the 404 page; a
form without the session's CSRF token is refused; hostile names show as text; the
configuration view shows the check result, the routing, the permission matrix and each process.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from pathlib import Path

import httpx
import pytest
from definition_helpers import CHANGE_FILE, DROP_WAITING, changed_config
from markupsafe import escape
from web_helpers import STAFF_PASSWORD, Api, registry, report, staff_member, staff_session

from komunikator.engine.config import explain
from komunikator.engine.config.machines import mermaid
from komunikator.engine.service import accounts
from komunikator.engine.service.accounts import administration
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import AuditEvent
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app
from komunikator.web.staff.admin_config import run_check
from komunikator.web.staff.security import content_security_policy

pytestmark = pytest.mark.anyio
PASSWORD = STAFF_PASSWORD
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'
ZG_ORIGIN = {"Origin": "http://zgierz.localhost"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_MAIN = re.compile(r"<main[^>]*>(.*)</main>", re.S)


async def _scope(slug: str = "zgierz") -> TenantScope:
    return TenantScope((await ensure_tenant(slug)).id)


async def _person(slug: str, email: str, *memberships: str) -> int:
    return int((await staff_member(slug, email, *memberships)).id)


async def _sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in afresh through the form; the session's CSRF token."""
    client.cookies.clear()
    return await staff_session(client, email, password)


def _main(page: httpx.Response) -> str:
    found = _MAIN.search(page.text)
    assert found is not None
    return found.group(1)


def _new_client(api: Api) -> httpx.AsyncClient:
    """Another browser on Zgierz's host (its own cookie jar)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://test",
                             headers={"Host": "zgierz.localhost"})


async def _actions(scope: TenantScope, action: str) -> list[AuditEvent]:
    return [e for e in await scope.audit_events().order_by("id") if e.action == action]


async def test_an_admin_creates_an_account_that_signs_in_and_sees_its_units_work(api: Api) -> None:
    scope = await _scope()
    admin_id = await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    client = api.client("zgierz")
    dispatcher = await api.staff("zgierz", "bom@zgierz.localhost", "bom:dispatcher")
    number = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    assert (await client.post(f"/api/v1/tickets/{number}/actions/verify", json={},
                              headers=dispatcher)).status_code == 200  # a task for the roads unit
    token = await _sign_in(client, "admin@zgierz.localhost")
    inbox = await client.get("/staff/")
    assert 'href="/staff/admin/users"' in inbox.text  # the navigation entry, for administrators only
    form = await client.get("/staff/admin/users/new")
    assert form.status_code == 200
    assert '<option value="city">' in form.text and '<option value="drogi">' in form.text
    assert "<option value=\"straz_miejska\">" not in form.text  # an external unit without accounts: no roles
    created = await client.post("/staff/admin/users", data={
        "csrf_token": token, "email": " Nowy.Drogowiec@Zgierz.localhost ", "display_name": "Nowy Drogowiec",
        "locale": "", "unit_1": "drogi", "role_1": "worker", "unit_2": "", "role_2": ""}, headers=ZG_ORIGIN)
    assert created.status_code == 201, created.text
    password = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert password is not None and len(password.group(1)) >= 16
    assert created.headers["cache-control"] == "no-store"
    user = await accounts.get_user(scope, "nowy.drogowiec@zgierz.localhost")
    assert [(m.unit, m.role) for m in await accounts.memberships_of(scope, user)] == [("drogi", "worker")]
    [event] = await _actions(scope, "user_create")
    assert event.actor_user_id == admin_id and event.after == {  # type: ignore[attr-defined]
        "user": user.id, "kind": "staff", "memberships": ["drogi:worker"]}
    # the page shows the password once: the account's page does not
    again = await client.get(f"/staff/admin/users/{user.id}")
    assert password.group(1) not in again.text and "Drogowiec" in again.text
    # the new person signs in with it and sees the roads unit's task to take
    newcomer = _new_client(api)
    try:
        csrf = await _sign_in(newcomer, "nowy.drogowiec@zgierz.localhost", password.group(1))
        assert (await newcomer.get("/staff/")).headers["location"] == "/staff/password"  # their own one first
        assert (await newcomer.post("/staff/password", data={
            "csrf_token": csrf, "current_password": password.group(1), "new_password": "nowe-haslo-123",
            "new_password_again": "nowe-haslo-123"}, headers=ZG_ORIGIN)).status_code == 303
        box = await newcomer.get("/staff/")
        assert number in box.text
        assert 'href="/staff/admin/users"' not in box.text  # no administration for a worker
        # an office-wide role granted by the administrator counts at once
        granted = await client.post(f"/staff/admin/users/{user.id}/memberships",
                                    data={"csrf_token": token, "unit": "city", "role": "management"},
                                    headers=ZG_ORIGIN)
        assert granted.status_code == 303 and granted.headers["location"].endswith("?done=granted")
        assert ("city", "management") in {(m.unit, m.role) for m in await accounts.memberships_of(scope, user)}
        revoked = await client.post(f"/staff/admin/users/{user.id}/memberships/revoke",
                                    data={"csrf_token": token, "unit": "drogi", "role": "worker"},
                                    headers=ZG_ORIGIN)
        assert revoked.status_code == 303
        assert [(m.unit, m.role) for m in await accounts.memberships_of(scope, user)] == [("city", "management")]
        assert len(await _actions(scope, "membership_grant")) == 1
        assert len(await _actions(scope, "membership_revoke")) == 1
        shown = await client.get(granted.headers["location"])
        assert "The role was granted." in shown.text or "Rola została nadana." in shown.text
    finally:
        await newcomer.aclose()


async def test_deactivation_and_password_reset_end_the_persons_session(api: Api) -> None:
    scope = await _scope()
    await _person("zgierz", "admin@zgierz.localhost", "city:admin")
    worker_id = await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    worker = _new_client(api)
    try:
        await _sign_in(worker, "drogi@zgierz.localhost")
        assert (await worker.get("/staff/")).status_code == 200
        done = await client.post(f"/staff/admin/users/{worker_id}/active", data={"csrf_token": token, "active": "0"},
                                 headers=ZG_ORIGIN)
        assert done.status_code == 303
        gone = await worker.get("/staff/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/staff/login")
        form = await worker.get("/staff/login")
        token_w = _TOKEN.search(form.text)
        assert token_w is not None
        refused = await worker.post("/staff/login", data={"csrf_token": token_w.group(1),
                                                          "email": "drogi@zgierz.localhost", "password": PASSWORD},
                                    headers=ZG_ORIGIN)
        assert refused.status_code == 422  # a deactivated account cannot sign in
        page = await client.get(f"/staff/admin/users/{worker_id}")
        assert "Reactivate the account" in page.text or "Przywróć konto" in page.text
        back = await client.post(f"/staff/admin/users/{worker_id}/active", data={"csrf_token": token, "active": "1"},
                                 headers=ZG_ORIGIN)
        assert back.status_code == 303
        await _sign_in(worker, "drogi@zgierz.localhost")
        # a reset: a new temporary password, the old one and the session end
        reset = await client.post(f"/staff/admin/users/{worker_id}/password", data={"csrf_token": token},
                                  headers=ZG_ORIGIN)
        assert reset.status_code == 200
        temporary = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
        assert temporary is not None
        assert (await worker.get("/staff/")).status_code == 303
        await _sign_in(worker, "drogi@zgierz.localhost", temporary.group(1))
        assert [e.action for e in await scope.audit_events().order_by("id")
                if e.action.startswith("user_")] == ["user_deactivate", "user_reactivate", "user_password_reset"]
    finally:
        await worker.aclose()


async def test_an_admin_cannot_lock_themselves_out(api: Api) -> None:
    admin_id = await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    page = await client.get(f"/staff/admin/users/{admin_id}")
    assert f'action="/staff/admin/users/{admin_id}/active"' not in page.text  # no button that would be refused
    refused = await client.post(f"/staff/admin/users/{admin_id}/active", data={"csrf_token": token, "active": "0"},
                                headers=ZG_ORIGIN)
    assert refused.status_code == 409 and 'id="active-error"' in refused.text
    refused = await client.post(f"/staff/admin/users/{admin_id}/memberships/revoke",
                                data={"csrf_token": token, "unit": "bom", "role": "admin"}, headers=ZG_ORIGIN)
    assert refused.status_code == 409 and 'id="memberships-error"' in refused.text
    scope = await _scope()
    user = await accounts.get_user(scope, "admin@zgierz.localhost")
    assert user.active and len(await accounts.memberships_of(scope, user)) == 1


async def test_errors_are_shown_next_to_their_fields(api: Api) -> None:
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    bad = await client.post("/staff/admin/users", data={
        "csrf_token": token, "email": "to nie e-mail", "display_name": " ", "unit_1": "drogi", "role_1": "",
        "unit_2": "", "role_2": "worker"}, headers=ZG_ORIGIN)
    assert bad.status_code == 422
    for field in ("role_1", "unit_2"):
        assert f'id="{field}-error"' in bad.text and f'aria-describedby="{field}-error"' in bad.text, field
        assert f'href="#{field}"' in bad.text  # the summary links to the field
    assert "<title>" in bad.text and ("Error:" in bad.text or "Błąd:" in bad.text)
    bad = await client.post("/staff/admin/users", data={"csrf_token": token, "email": "to nie e-mail",
                                                        "display_name": "X"}, headers=ZG_ORIGIN)
    assert bad.status_code == 422 and 'id="email-error"' in bad.text and 'aria-invalid="true"' in bad.text
    taken = await client.post("/staff/admin/users", data={"csrf_token": token, "email": "ADMIN@zgierz.localhost",
                                                          "display_name": "Druga"}, headers=ZG_ORIGIN)
    assert taken.status_code == 422 and 'id="email-error"' in taken.text
    bad = await client.post("/staff/admin/users", data={
        "csrf_token": token, "email": "ok@zgierz.localhost", "display_name": "Ok", "unit_1": "straz_miejska",
        "role_1": "worker"}, headers=ZG_ORIGIN)
    assert bad.status_code == 422 and 'id="unit_1-error"' in bad.text
    scope = await _scope()
    assert await accounts.find_user(scope, "ok@zgierz.localhost") is None  # nothing half-made


async def test_others_get_the_404_page_and_forged_posts_change_nothing(api: Api) -> None:
    scope = await _scope()
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    target = await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    await _person("zgierz", "kierownik@zgierz.localhost", "drogi:unit_head", "city:management")
    np_admin = await _person("nieporet", "admin@nieporet.localhost", "urzad:admin")
    client = api.client("zgierz")
    await _sign_in(client, "admin@zgierz.localhost")
    missing = await client.get("/staff/admin/users/999999")
    assert missing.status_code == 404
    missing_process = await client.get("/staff/admin/config/processes/no_such_process")
    assert missing_process.status_code == 404 and _main(missing_process) == _main(missing)
    for path in ("/staff/admin/no-such-page", "/staff/admin/users/1/nothing", "/staff/admin/"):
        other = await client.get(path)
        assert other.status_code == 404 and _main(other) == _main(missing), path
    resident = await accounts.create_user(scope, "mieszkaniec@example.pl", "Mieszkaniec", kind="resident")
    assert (await client.get(f"/staff/admin/users/{resident.id}")).status_code == 404  # staff accounts only
    token = await _sign_in(client, "kierownik@zgierz.localhost")
    for path in ("/staff/admin/users", "/staff/admin/users/new", f"/staff/admin/users/{target}",
                 "/staff/admin/config", "/staff/admin/config/routing", "/staff/admin/config/permissions",
                 "/staff/admin/config/notifications", "/staff/admin/config/units",
                 "/staff/admin/config/processes/simple_fix"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert _main(page) == _main(missing), path  # the same page as for a missing account
    assert _main(await client.get("/staff/admin/no-such-page")) == _main(missing)  # the same for everybody
    forged = [
        ("/staff/admin/no-such-page", {}),
        ("/staff/admin/users", {"email": "x@zgierz.localhost", "display_name": "X", "unit_1": "city",
                                "role_1": "admin"}),
        (f"/staff/admin/users/{target}/memberships", {"unit": "city", "role": "admin"}),
        (f"/staff/admin/users/{target}/memberships/revoke", {"unit": "drogi", "role": "worker"}),
        (f"/staff/admin/users/{target}/active", {"active": "0"}),
        (f"/staff/admin/users/{target}/password", {}),
    ]
    for path, data in forged:
        answer = await client.post(path, data={"csrf_token": token, **data}, headers=ZG_ORIGIN)
        assert answer.status_code == 404, path
    worker = await accounts.get_user(scope, "drogi@zgierz.localhost")
    assert worker.active and [(m.unit, m.role) for m in await accounts.memberships_of(scope, worker)] == [
        ("drogi", "worker")]
    assert await accounts.find_user(scope, "x@zgierz.localhost") is None
    # another city's administrator: their session means nothing here, and Zgierz's accounts are not theirs
    other = api.client("nieporet")
    np_token = await _sign_in(other, "admin@nieporet.localhost")
    assert (await other.get("/staff/admin/users")).status_code == 200
    assert (await other.get(f"/staff/admin/users/{target}")).status_code == 404
    assert (await other.post(f"/staff/admin/users/{target}/active", data={"csrf_token": np_token, "active": "0"},
                             headers={"Origin": "http://nieporet.localhost"})).status_code == 404
    listed = await other.get("/staff/admin/users")
    assert "drogi@zgierz.localhost" not in listed.text and "admin@nieporet.localhost" in listed.text
    cookie = other.cookies.get("komunikator_session")
    stranger = _new_client(api)
    try:
        stranger.cookies.set("komunikator_session", cookie or "")
        moved = await stranger.get("/staff/admin/users")
        assert moved.status_code == 303 and moved.headers["location"].startswith("/staff/login")
    finally:
        await stranger.aclose()
    assert np_admin and (await accounts.get_user(scope, "drogi@zgierz.localhost")).active


async def test_a_form_without_the_csrf_token_is_refused(api: Api) -> None:
    scope = await _scope()
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    target = await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    for path in ("/staff/admin/users", "/staff/admin/users/new", f"/staff/admin/users/{target}", "/staff/admin/config"):
        page = await client.get(path)
        assert page.status_code == 200, path
        posts = re.findall(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]*)"',
                           page.text)
        assert len(posts) == page.text.count('<form method="post"'), f"{path}: a form without its token"
        assert set(posts) == {token}
        assert page.headers["content-security-policy"] == content_security_policy(), path
    writes = [("/staff/admin/users", {"email": "x@zgierz.localhost", "display_name": "X"}),
              (f"/staff/admin/users/{target}/active", {"active": "0"}),
              (f"/staff/admin/users/{target}/password", {}),
              (f"/staff/admin/users/{target}/memberships", {"unit": "city", "role": "admin"})]
    for path, data in writes:
        assert (await client.post(path, data=data, headers=ZG_ORIGIN)).status_code == 403, path
        assert (await client.post(path, data={**data, "csrf_token": "0" * 64}, headers=ZG_ORIGIN)).status_code == 403
        assert (await client.post(path, data={**data, "csrf_token": token},
                                  headers={"Origin": "http://nieporet.localhost"})).status_code == 403
    worker = await accounts.get_user(scope, "drogi@zgierz.localhost")
    assert worker.active and len(await accounts.memberships_of(scope, worker)) == 1
    assert await accounts.find_user(scope, "x@zgierz.localhost") is None


async def test_hostile_names_show_as_text(api: Api) -> None:
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    created = await client.post("/staff/admin/users", data={"csrf_token": token, "email": "zly@zgierz.localhost",
                                                            "display_name": HOSTILE}, headers=ZG_ORIGIN)
    assert created.status_code == 201
    user = await accounts.get_user(await _scope(), "zly@zgierz.localhost")
    for page in (created, await client.get("/staff/admin/users"), await client.get(f"/staff/admin/users/{user.id}"),
                 await client.get("/staff/admin/users?q=" + HOSTILE)):
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert str(escape(HOSTILE)) in page.text  # shown, as text


async def test_the_list_is_searchable_and_paged_by_keyset(api: Api) -> None:
    scope = await _scope()
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    for i in range(30):
        await accounts.create_user(scope, f"osoba{i:02d}@zgierz.localhost", f"Osoba {i:02d}")
    await accounts.create_user(scope, "lz@zgierz.localhost", "Łukasz Żółwiński")
    await accounts.create_user(scope, "mieszkanka@example.pl", "Łucja", kind="resident")
    client = api.client("zgierz")
    await _sign_in(client, "admin@zgierz.localhost")
    first = await client.get("/staff/admin/users")
    emails = re.findall(r'<td data-label="[^"]+">([^<]+@[^<]+)</td>', first.text)
    assert len(emails) == 25 and emails == sorted(emails)
    after = re.search(r'href="/staff/admin/users\?after=([^"]+)" rel="next"', first.text)
    assert after is not None
    second = await client.get(f"/staff/admin/users?after={after.group(1)}")
    rest = re.findall(r'<td data-label="[^"]+">([^<]+@[^<]+)</td>', second.text)
    assert len(rest) == 32 - 25 and not set(rest) & set(emails) and 'rel="next"' not in second.text
    assert "mieszkanka@example.pl" not in first.text + second.text  # residents are not staff
    for query in ("lukasz", "ŁUK", "żółw", "zolwinski lz@"):
        found = await client.get("/staff/admin/users", params={"q": query})
        assert re.findall(r'<td data-label="[^"]+">([^<]+@[^<]+)</td>', found.text) == ["lz@zgierz.localhost"], query
    assert (await administration.staff_directory(scope, "osoba 1", None, 5)).next_after is not None
    nothing = await client.get("/staff/admin/users", params={"q": "nikt-taki"})
    assert 'role="status"' in nothing.text and "nikt-taki" in nothing.text


async def test_the_configuration_view_shows_what_explain_prints(api: Api) -> None:
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    worker = await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    assert worker
    tenant = registry().tenants["zgierz"]
    client = api.client("zgierz")
    await _sign_in(client, "admin@zgierz.localhost")
    page = await client.get("/staff/admin/config")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'id="check-ok"' in page.text and tenant.version in text
    for name in tenant.processes:
        assert f'href="/staff/admin/config/processes/{name}"' in page.text
    page = await client.get("/staff/admin/config/routing")
    text = html.unescape(page.text)
    for name, category in tenant.categories.items():
        assert f">{name} (" in text or f">{name}<" in text, name  # the routing table names every category
        assert category.process in text
    page = await client.get("/staff/admin/config/permissions")
    text = html.unescape(page.text)
    for name in tenant.roles:
        assert f"<code>{name}</code>" in page.text
    fires = explain.role_fires(tenant)
    for role, per_process in fires.items():  # the permission matrix: each role's transitions per process
        for transitions in per_process.values():
            assert ", ".join(transitions) in text, role
    assert 'id="task-matrix"' in page.text and "<code>delegate</code>" in page.text
    text = html.unescape((await client.get("/staff/admin/config/notifications")).text)
    for name in tenant.notifications:
        assert name in text
    for process in tenant.processes.values():
        for timer in process.timers:
            assert timer.name in text
    text = html.unescape((await client.get("/staff/admin/config/units")).text)
    for unit in tenant.units:
        assert re.search(rf">\s*{unit}</th>", text), unit  # child units indented under their parent
    assert (await client.get("/staff/admin/config/nothing")).status_code == 404
    process = next(iter(tenant.processes.values()))
    shown = await client.get(f"/staff/admin/config/processes/{process.name}")
    assert shown.status_code == 200
    policy = shown.headers["content-security-policy"]
    assert policy == content_security_policy(diagram_styles=True)
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    source = re.search(r'<pre id="diagram-source" class="code">(.*?)</pre>', shown.text, re.S)
    assert source is not None and html.unescape(source.group(1)) == mermaid(process, "pl")
    for transition in process.transitions:
        assert f"<td data-label=\"transition\">{transition}</td>" in shown.text or \
            f'<td data-label="przejście">{transition}</td>' in shown.text, transition
    assert "vendor/mermaid@12.4.0/mermaid.min.js" in shown.text


async def test_the_check_reports_errors_in_the_files_with_their_lines(tmp_path: Path) -> None:
    tenant = registry().tenants["zgierz"]
    clean = run_check(tenant)
    assert clean.errors == [] and clean.disk_version == clean.running_version == tenant.version
    broken = tmp_path / "zgierz"
    shutil.copytree(tenant.source_dir, broken)
    categories = broken / "categories.yaml"
    categories.write_text(categories.read_text().replace("unit: drogi", "unit: drogii", 1))
    result = run_check(dataclasses.replace(tenant, source_dir=str(broken)))
    assert result.disk_version is None and result.errors
    where, path, message = result.errors[0]
    assert re.search(r"categories\.yaml:\d+:\d+$", where), where
    assert path.startswith("categories.") and "drogii" in message


async def test_the_check_names_open_work_the_changed_files_no_longer_describe(
        api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files now drop a state a ticket is in: the overview says a restart would be refused, and where."""
    client = api.client("zgierz")
    dispatcher = await api.staff("zgierz", "bom@zgierz.localhost", "bom:dispatcher")
    number = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    assert (await client.post(f"/api/v1/tickets/{number}/actions/verify", json={},
                              headers=dispatcher)).status_code == 200
    assert (await client.post(f"/api/v1/tickets/{number}/actions/ask_resident",
                              json={"public_comment": "Prosimy o zdjęcie."}, headers=dispatcher)).status_code == 200
    settings = changed_config(tmp_path, DROP_WAITING)
    monkeypatch.setenv("KOMUNIKATOR_DEFINITIONS", str(settings.definitions_dir))
    monkeypatch.setenv("KOMUNIKATOR_TENANTS", str(settings.tenants_dir))
    shipped = registry()  # what the server compiled when it started
    zgierz = dataclasses.replace(shipped.tenants["zgierz"], source_dir=str(settings.tenants_dir / "zgierz"))
    running = TenantRegistry.of([zgierz, shipped.tenants["nieporet"]], shipped.base_domain)
    app = create_app(running, init_database=False, clock=api.clock)
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Host": "zgierz.localhost"}) as changed:
        await _sign_in(changed, "admin@zgierz.localhost")
        page = await changed.get("/staff/admin/config")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'id="check-drift"' in page.text and 'id="check-ok"' not in page.text
    row = re.search(r'<table class="table table--report" id="drift">.*?</table>', text, re.S)
    assert row is not None
    assert "processes.simple_fix.states" in row.group(0) and "'waiting_for_resident'" in row.group(0)
    assert re.search(rf"tenants/zgierz/{CHANGE_FILE}:\d+:\d+", row.group(0)), row.group(0)  # where it was dropped


async def _temporary_password(api: Api) -> tuple[httpx.AsyncClient, int, str]:
    """An administrator (signed in on the city's client) resets a worker's password: the client, the worker's
    id and the temporary password the page showed."""
    await _person("zgierz", "admin@zgierz.localhost", "bom:admin")
    worker_id = await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    client = api.client("zgierz")
    token = await _sign_in(client, "admin@zgierz.localhost")
    reset = await client.post(f"/staff/admin/users/{worker_id}/password", data={"csrf_token": token},
                              headers=ZG_ORIGIN)
    found = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
    assert found is not None
    return client, worker_id, found.group(1)


async def test_a_person_replaces_the_temporary_password_and_stays_signed_in(api: Api) -> None:
    scope = await _scope()
    client, worker_id, temporary = await _temporary_password(api)
    # the list of people says who still holds a temporary password
    listed = (await client.get("/staff/admin/users", params={"q": "drogi@"})).text
    assert "hasło tymczasowe" in listed
    person, elsewhere = _new_client(api), _new_client(api)
    try:
        csrf = await _sign_in(person, "drogi@zgierz.localhost", temporary)
        await _sign_in(elsewhere, "drogi@zgierz.localhost", temporary)
        moved = await person.get("/staff/")  # a temporary password: every page asks to change it first
        assert moved.status_code == 303 and moved.headers["location"] == "/staff/password"
        page = await person.get("/staff/password")
        assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
        assert 'id="must-change"' in page.text and 'href="/staff/password"' in page.text
        # the navigation's counts are not asked for: their request would be sent here again (a reload loop)
        assert "/staff/nav/counts" not in page.text
        wrong = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": "nie-to-haslo", "new_password": "nowe-haslo-123",
            "new_password_again": "nowe-haslo-123"}, headers=ZG_ORIGIN)
        assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
        typo = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": temporary, "new_password": "nowe-haslo-123",
            "new_password_again": "nowe-haslo-124"}, headers=ZG_ORIGIN)
        assert typo.status_code == 422 and 'id="new_password_again-error"' in typo.text
        short = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": temporary, "new_password": "krótkie",
            "new_password_again": "krótkie"}, headers=ZG_ORIGIN)
        assert short.status_code == 422 and 'id="new_password-error"' in short.text
        assert (await person.post("/staff/password", data={
            "current_password": temporary, "new_password": "nowe-haslo-123", "new_password_again": "nowe-haslo-123"},
            headers=ZG_ORIGIN)).status_code == 403  # no CSRF token
        done = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": temporary, "new_password": "nowe-haslo-123",
            "new_password_again": "nowe-haslo-123"}, headers=ZG_ORIGIN)
        assert done.status_code == 303 and done.headers["location"] == "/staff/password?done=1"
        assert (await person.get("/staff/")).status_code == 200  # still signed in, with the new session
        assert 'id="must-change"' not in (await person.get("/staff/password")).text
        assert "hasło tymczasowe" not in (await client.get("/staff/admin/users", params={"q": "drogi@"})).text
        assert (await elsewhere.get("/staff/")).status_code == 303  # the other browser is signed out
        await _sign_in(elsewhere, "drogi@zgierz.localhost", "nowe-haslo-123")
        events = [e for e in await scope.audit_events().order_by("id") if e.action == "password_change"]
        assert len(events) == 1 and events[0].actor_user_id == worker_id  # type: ignore[attr-defined]
    finally:
        await person.aclose()
        await elsewhere.aclose()


async def test_wrong_current_passwords_count_like_refused_logins(api: Api) -> None:
    """Guessing through `/staff/password` from an open session meets the login throttling: 429 with the wait."""
    scope = await _scope()
    await _person("zgierz", "drogi@zgierz.localhost", "drogi:worker")
    person = _new_client(api)
    try:
        csrf = await _sign_in(person, "drogi@zgierz.localhost")
        guess = {"csrf_token": csrf, "new_password": "nowe-haslo-123", "new_password_again": "nowe-haslo-123"}
        for attempt in range(accounts.LoginLimits().per_pair):
            wrong = await person.post("/staff/password", data={**guess, "current_password": f"zgaduje-{attempt}"},
                                      headers=ZG_ORIGIN)
            assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
        assert await scope.login_failures().filter(email="drogi@zgierz.localhost").count() == 5
        # past the limit even the right password is refused, with the sign-in page's message
        refused = await person.post("/staff/password", data={**guess, "current_password": PASSWORD},
                                    headers=ZG_ORIGIN)
        assert refused.status_code == 429 and 'id="throttled"' in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
        assert ("Too many failed sign-in attempts" in refused.text
                or "Zbyt wiele nieudanych" in refused.text), refused.text
        # the same counter: signing in afresh from this address is refused too, the password is unchanged
        person.cookies.clear()
        form = await person.get("/staff/login")
        login_token = _TOKEN.search(form.text)
        assert login_token is not None
        signin = await person.post("/staff/login", data={
            "csrf_token": login_token.group(1), "email": "drogi@zgierz.localhost", "password": PASSWORD,
            "next": "/staff/"}, headers=ZG_ORIGIN)
        assert signin.status_code == 429 and 'id="throttled"' in signin.text
        assert [e for e in await scope.audit_events() if e.action == "password_change"] == []
    finally:
        await person.aclose()


async def test_a_temporary_password_must_be_changed_before_any_other_staff_page(api: Api) -> None:
    """After an administrator's reset every staff page but the password form, sign-out and the language choice
    answers 303 to `/staff/password` (htmx: HX-Redirect); the API with a token is unaffected; their own clears it."""
    scope = await _scope()
    _, worker_id, temporary = await _temporary_password(api)
    worker = await scope.users().get(id=worker_id)
    assert worker.must_change_password
    raw, _row = await accounts.create_token(scope, worker, "integration")
    person = _new_client(api)
    try:
        csrf = await _sign_in(person, "drogi@zgierz.localhost", temporary)
        for path in ("/staff/", "/staff/lists/tickets", "/staff/admin/users", "/staff/reports"):
            moved = await person.get(path)
            assert moved.status_code == 303 and moved.headers["location"] == "/staff/password", path
        htmx = await person.get("/staff/", headers={"HX-Request": "true"})
        assert htmx.status_code == 204 and htmx.headers["hx-redirect"] == "/staff/password"
        page = await person.get("/staff/password")
        assert page.status_code == 200 and 'id="must-change"' in page.text
        language = await person.post("/staff/language", data={"csrf_token": csrf, "language": "en",
                                                              "back": "/staff/password"}, headers=ZG_ORIGIN)
        assert language.status_code == 303 and language.headers["location"] == "/staff/password"
        english = await person.get("/staff/password")
        assert "Your password was set by an administrator" in english.text
        # the API with a bearer token is not held back
        api_me = await person.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
        assert api_me.status_code == 200, api_me.text
        # signing out works; after signing in again the form still waits
        out = await person.post("/staff/logout", data={"csrf_token": csrf}, headers=ZG_ORIGIN)
        assert out.status_code == 303 and out.headers["location"] == "/staff/login"
        csrf = await _sign_in(person, "drogi@zgierz.localhost", temporary)
        same = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": temporary, "new_password": temporary,
            "new_password_again": temporary}, headers=ZG_ORIGIN)
        assert same.status_code == 422 and 'id="new_password-error"' in same.text  # not the temporary one again
        done = await person.post("/staff/password", data={
            "csrf_token": csrf, "current_password": temporary, "new_password": "moje-haslo-123",
            "new_password_again": "moje-haslo-123"}, headers=ZG_ORIGIN)
        assert done.status_code == 303
        assert (await person.get("/staff/")).status_code == 200
        assert not (await scope.users().get(id=worker_id)).must_change_password
    finally:
        await person.aclose()


async def test_only_an_administrators_passwords_are_temporary(api: Api) -> None:
    """`create_staff` and `reset_password` mark the account; a password set directly (CLI --permanent) does not."""
    scope = await _scope()
    tenant = registry().tenants["zgierz"]
    admin = await staff_member("zgierz", "admin@zgierz.localhost", "bom:admin")
    view = await user_view(scope, admin)
    user, _password = await administration.create_staff(scope, tenant, view, "nowy@zgierz.localhost", "Nowy",
                                                        [("drogi", "worker")], api.clock())
    assert user.must_change_password
    await accounts.set_password(scope, user, "wybrane-haslo-1")
    assert not (await scope.users().get(id=user.id)).must_change_password
    await administration.reset_password(scope, tenant, view, user, api.clock())
    assert (await scope.users().get(id=user.id)).must_change_password
    assert not admin.must_change_password
