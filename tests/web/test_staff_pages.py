"""The staff pages rendered by the app in-process: headers, CSRF on every form, and the buttons each
staff account of the demo sees equal what `capabilities` offers them, on a ticket in every state."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from web_helpers import STAFF_PASSWORD, Api, registry, staff_session

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.runtime import capabilities
from komunikator.engine.service import accounts
from komunikator.engine.service.row_views import ticket_view, user_view
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.web.staff.security import content_security_policy

pytestmark = pytest.mark.anyio
PASSWORD = STAFF_PASSWORD
END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_FORM = re.compile(
    r'<form method="post" action="/staff/tickets/[^"/]+/(act|tasks/([^"/]+))"[^>]*>\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]*)">\s*<input type="hidden" name="action" value="([^"]+)">')


async def test_every_page_has_its_policy_and_every_form_its_token(api: Api) -> None:
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    user = await accounts.create_user(scope, "anna@zgierz.localhost", "Anna", password=PASSWORD)
    await accounts.grant(scope, registry().tenants["zgierz"], user, "bom", "dispatcher")
    client = api.client("zgierz")
    submitted = await client.post("/api/v1/tickets", json={
        "category": "pothole", "description": "Dziura", "lat": 51.855, "lon": 19.406, "attributes": {"size": "small"}})
    number = submitted.json()["number"]
    login = await client.get("/staff/login")
    assert login.headers["content-security-policy"] == content_security_policy()
    assert "'unsafe-inline'" not in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY" and login.headers["cache-control"] == "no-store"
    token = await staff_session(client, "anna@zgierz.localhost")
    for path in ("/staff/", f"/staff/tickets/{number}", "/staff/tickets/ZG-2026-999999"):
        page = await client.get(path)
        assert page.headers["content-security-policy"] == content_security_policy(), path
        assert page.headers["x-content-type-options"] == "nosniff"
        posts = re.findall(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]*)"',
                           page.text)
        assert len(posts) == page.text.count('<form method="post"'), f"{path}: a form without its token"
        assert set(posts) == {token}
        assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in html.unescape(page.text)  # htmx's header
    # a write without the token, with a wrong one, or from another site's page is refused
    act = f"/staff/tickets/{number}/act"
    assert (await client.post(act, data={"action": "verify"})).status_code == 403
    assert (await client.post(act, data={"action": "verify", "csrf_token": "0" * 64})).status_code == 403
    assert (await client.post(act, data={"action": "verify", "csrf_token": token},
                              headers={"Origin": "http://nieporet.localhost"})).status_code == 403
    done = await client.post(act, data={"action": "verify", "csrf_token": token},
                             headers={"Origin": "http://zgierz.localhost"})
    assert done.status_code == 303
    assert (await scope.get_ticket(number)).state == "in_progress"


async def test_the_buttons_of_every_demo_account_equal_capabilities_in_every_state(api: Api) -> None:
    for slug in ("zgierz", "nieporet"):
        tenant = registry().tenants[slug]
        scope = TenantScope((await ensure_tenant(slug)).id)
        staff = demo_staff(slug)
        await seed_tenant(scope, tenant, staff, count=40 if slug == "zgierz" else 20, seed=3, end=END)
        # one ticket per (process, state): every state the seeding reached
        sample = {}
        for ticket in await scope.tickets().order_by("id"):
            sample.setdefault((ticket.process, ticket.state), ticket)
        assert len(sample) >= 4
        client = api.client(slug)
        checked = with_actions = 0
        for email, _name, _memberships in staff:
            user = await accounts.get_user(scope, email)
            await accounts.set_password(scope, user, PASSWORD)
            client.cookies.clear()
            await staff_session(client, email)
            me = await user_view(scope, user)
            for ticket in sample.values():
                caps = capabilities(tenant, await ticket_view(scope, ticket), me, api.clock())
                page = await client.get(f"/staff/tickets/{ticket.number}")
                if not caps.sees_ticket:
                    assert page.status_code == 404, (email, ticket.number)
                    continue
                assert page.status_code == 200, (email, ticket.number)
                shown = {(task or "", name) for _, task, _, name in _FORM.findall(page.text)}
                offered = {("", a.name) for a in caps.actions} | {(t.key, a.name) for t in caps.tasks
                                                                  for a in t.actions}
                assert shown == offered, (email, ticket.number, ticket.state)
                checked += 1
                with_actions += bool(offered)
        assert checked > len(sample) and with_actions >= len(sample) // 2, slug
