"""The example plugin (plugins/lost_and_found) through the seam alone, on a test city that enables it.

Every surface of the protocol: its YAML section, tables and migrations,
API and page gated per city, templates and catalogs, permission granted in
YAML, condition and effect in a process (applied in the transition's
transaction), its event and recipient form in a notification rule delivered
by real SMTP, its job, its commands, navigation and home-page block, bulk
inserts. Zgierz, which does not enable it, must not see any of it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from delivery_helpers import SmtpSink

from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.jobs import JobContext, all_jobs
from komunikator.engine.runtime.views import SYSTEM, Membership, UserView
from komunikator.engine.service import accounts
from komunikator.engine.settings import Settings
from komunikator.engine.store import db as store_db
from komunikator.engine.store.errors import CrossTenant
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.plugins.lost_and_found import register
from komunikator.plugins.lost_and_found.models import FoundItem
from komunikator.web import plugins as web_plugins
from komunikator.web.app import create_app

HERE = Path(__file__).parent
LOSTVILLE = HERE / "lostville"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REPO = HERE.parent.parent
KOMUNIKATOR = Path(sys.executable).with_name("komunikator")


@cache
def cities() -> TenantRegistry:
    """Zgierz (shipped, without the plugin), Lostville (this folder, with it) and Foundham (a copy of Lostville)."""
    import shutil
    import tempfile

    settings = Settings.from_env()
    lostville, errors = check_tenant(LOSTVILLE, settings.definitions_dir)
    assert lostville is not None, errors.render()
    copy = Path(tempfile.mkdtemp()) / "foundham"
    shutil.copytree(LOSTVILLE, copy)
    tenant_yaml = copy / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text(encoding="utf-8").replace("slug: lostville", "slug: foundham"),
                           encoding="utf-8")
    foundham, errors = check_tenant(copy, settings.definitions_dir)
    assert foundham is not None, errors.render()
    zgierz = TenantRegistry.load(settings).tenants["zgierz"]
    return TenantRegistry.of([zgierz, lostville, foundham], "localhost")


@dataclass
class Town:
    """The app, a client per city, and Lostville's staff tokens."""

    clients: dict[str, httpx.AsyncClient]
    scope: TenantScope
    keeper: dict[str, str]  # the dispatcher: lost_and_found.manage
    worker: dict[str, str]  # no permission
    keeper_email: str = "keeper@lostville.example.pl"


async def _staff(scope: TenantScope, email: str, membership: str) -> dict[str, str]:
    user = await accounts.create_user(scope, email, email.split("@")[0])
    unit, role = membership.split(":")
    await accounts.grant(scope, cities().tenants["lostville"], user, unit, role)
    raw, _ = await accounts.create_token(scope, user, "tests")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
async def town(db: str) -> AsyncIterator[Town]:
    app = create_app(cities(), init_database=False, clock=lambda: NOW)
    clients = {slug: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                       headers={"Host": f"{slug}.localhost"})
               for slug in ("zgierz", "lostville", "foundham")}
    scope = TenantScope((await ensure_tenant("lostville")).id)
    keeper = await _staff(scope, "keeper@lostville.example.pl", "bom:dispatcher")
    worker = await _staff(scope, "worker@lostville.example.pl", "drogi:worker")
    try:
        yield Town(clients, scope, keeper, worker)
    finally:
        for client in clients.values():
            await client.aclose()


ITEM = {"description": "Pęk kluczy z brelokiem", "kind": "keys", "found_on": "2026-11-28",
        "found_at": "przystanek Plac Kilińskiego"}


# -- configuration: the section, the names, checked at file:line ---------------------------------------------


def test_the_test_city_compiles_with_the_plugin() -> None:
    lostville = cities().tenants["lostville"]
    assert register.settings_of(lostville).keep_days == 30
    assert lostville.roles["dispatcher"].permissions == ["lost_and_found.manage"]
    assert lostville.notifications["unclaimed_to_keepers"].on == "lost_and_found.item_unclaimed"
    registry = default_registry()
    assert registry.owner("lost_and_found.item_unclaimed") == "lost_and_found"
    assert registry.plugin_of(registry.effects["register_found_item"]) == "lost_and_found"


def test_a_city_without_the_plugin_cannot_name_its_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission, event and recipient form of a plugin the city did not enable: each at its file:line."""
    folder = tmp_path / "lostville"
    folder.mkdir()
    for name in ("org.yaml", "tenant.yaml"):
        text = (LOSTVILLE / name).read_text(encoding="utf-8")
        if name == "tenant.yaml":  # the plugin off, its section gone
            text = text.replace("  plugins: [lost_and_found]\n", "").split("\nlost_and_found:")[0] + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, errors = check_tenant(folder, Settings.from_env().definitions_dir)
    lines = errors.render().splitlines()
    assert any(line.startswith("lostville/org.yaml:17:13: processes.found_item.transitions.register.effects[0]: "
                               "effect 'register_found_item' comes from plugin 'lost_and_found', which is not "
                               "enabled") for line in lines), lines
    assert any(": roles.dispatcher.permissions[0]: permission 'lost_and_found.manage' comes from plugin "
               "'lost_and_found', which is not enabled" in line for line in lines), lines
    assert any(": notifications.unclaimed_to_keepers.on: event 'lost_and_found.item_unclaimed' comes from "
               "plugin 'lost_and_found', which is not enabled" in line for line in lines), lines
    assert any(": notifications.unclaimed_to_keepers.to[0]: recipient form 'lost_and_found.keepers' comes "
               "from plugin 'lost_and_found', which is not enabled" in line for line in lines), lines


def test_the_plugins_arguments_are_checked_like_the_core_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "lostville"
    folder.mkdir()
    (folder / "tenant.yaml").write_text((LOSTVILLE / "tenant.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    org = (LOSTVILLE / "org.yaml").read_text(encoding="utf-8")
    (folder / "org.yaml").write_text(org.replace("          - register_found_item\n          - notify: {to: reporter",
                                                 "          - register_found_item: valuables\n"
                                                 "          - notify: {to: reporter", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, errors = check_tenant(folder, Settings.from_env().definitions_dir)
    assert errors.render().splitlines() == [
        ("lostville/org.yaml:17:34: processes.found_item.transitions.register.effects[0].register_found_item: "
         "'valuables' is not allowed; expected 'documents', 'keys', 'phone', 'wallet', 'bag', 'bicycle', "
         "'jewellery', 'clothing' or 'other'")]


# -- tables and migrations ------------------------------------------------------------------------------------


async def test_the_plugin_migrates_with_the_core(db: str) -> None:
    states = await store_db.status(db)
    assert [s.name for s in states if s.name.startswith("lost_and_found.")] == ["lost_and_found.0001_initial"]
    assert all(s.applied for s in states)
    scope = TenantScope((await ensure_tenant("lostville")).id)
    assert await scope.query(FoundItem).count() == 0


async def test_bulk_inserts_check_references_once_and_refuse_another_citys(db: str) -> None:
    lostville = TenantScope((await ensure_tenant("lostville")).id)
    zgierz = TenantScope((await ensure_tenant("zgierz")).id)
    row = {"description": "Parasol", "kind": "other", "found_on": date(2026, 11, 1), "found_at": "park",
           "kept_until": date(2026, 12, 1), "created_at": NOW}
    assert await lostville.bulk_create(FoundItem, [row] * 1200) == 1200  # two batches
    assert await lostville.query(FoundItem).count() == 1200
    assert await zgierz.query(FoundItem).count() == 0
    foreign = await zgierz.tickets().first()
    with pytest.raises(CrossTenant):
        await lostville.bulk_create(FoundItem, [{**row, "ticket_id": 999_999}])
    assert foreign is None or await lostville.query(FoundItem).filter(ticket_id=foreign.id).count() == 0
    assert await lostville.query(FoundItem).count() == 1200  # nothing of the refused lot


# -- API and page, gated per city -----------------------------------------------------------------------------


async def test_the_api_keeps_the_register_and_checks_the_permission(town: Town) -> None:
    lostville = town.clients["lostville"]
    assert (await lostville.post("/api/v1/plugins/lost_and_found/items", json=ITEM)).status_code == 401
    refused = await lostville.post("/api/v1/plugins/lost_and_found/items", json=ITEM, headers=town.worker)
    assert refused.status_code == 403, refused.text
    assert "lost_and_found.manage" in refused.json()["message"]
    created = await lostville.post("/api/v1/plugins/lost_and_found/items", json=ITEM, headers=town.keeper)
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["kind"], item["kept_until"], item["status"]) == ("keys", "2026-12-28", "kept")  # 30 days
    listed = (await lostville.get("/api/v1/plugins/lost_and_found/items")).json()  # public
    assert [i["id"] for i in listed["items"]] == [item["id"]]
    bad = await lostville.post("/api/v1/plugins/lost_and_found/items", headers=town.keeper,
                               json={**ITEM, "found_on": "2027-01-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "found_on"
    back = await lostville.post(f"/api/v1/plugins/lost_and_found/items/{item['id']}/return",
                                json={"returned_to": "Jan Kowalski"}, headers=town.keeper)
    assert back.status_code == 200 and back.json()["status"] == "returned"
    again = await lostville.post(f"/api/v1/plugins/lost_and_found/items/{item['id']}/return",
                                 json={"returned_to": "Jan Kowalski"}, headers=town.keeper)
    assert again.status_code == 409
    actions = [e.action for e in await town.scope.audit_events().order_by("id")]
    assert actions[-2:] == ["lost_and_found.add", "lost_and_found.return"]


async def test_another_city_with_the_plugin_never_sees_this_citys_items(town: Town) -> None:
    lostville, foundham = town.clients["lostville"], town.clients["foundham"]
    item = (await lostville.post("/api/v1/plugins/lost_and_found/items", json=ITEM, headers=town.keeper)).json()
    assert (await foundham.get("/api/v1/plugins/lost_and_found/items")).json()["items"] == []
    scope = TenantScope((await ensure_tenant("foundham")).id)
    user = await accounts.create_user(scope, "keeper@foundham.example.pl", "keeper")
    await accounts.grant(scope, cities().tenants["foundham"], user, "bom", "dispatcher")
    raw, _ = await accounts.create_token(scope, user, "tests")
    theirs = await foundham.post(f"/api/v1/plugins/lost_and_found/items/{item['id']}/return",
                                 json={"returned_to": "ktoś"}, headers={"Authorization": f"Bearer {raw}"})
    assert theirs.status_code == 404 and theirs.json()["error"] == "not_found"
    assert (await lostville.get("/lost_and_found")).text.count("Pęk kluczy") == 1
    assert "Pęk kluczy" not in (await foundham.get("/lost_and_found")).text


async def test_a_city_without_the_plugin_answers_404_everywhere(town: Town) -> None:
    zgierz = town.clients["zgierz"]
    for method, path in (("GET", "/api/v1/plugins/lost_and_found/items"),
                         ("POST", "/api/v1/plugins/lost_and_found/items"), ("GET", "/lost_and_found")):
        answer = await zgierz.request(method, path, json=ITEM if method == "POST" else None)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"] == "unknown_plugin"
    assert (await zgierz.get("/api/v1/home")).json() == {"blocks": [], "links": []}


async def test_the_residents_page_speaks_polish_and_english_and_escapes(town: Town) -> None:
    lostville = town.clients["lostville"]
    hostile = {**ITEM, "description": "<script>alert(1)</script> portfel"}
    assert (await lostville.post("/api/v1/plugins/lost_and_found/items", json=hostile,
                                 headers=town.keeper)).status_code == 201
    polish = await lostville.get("/lost_and_found")
    assert polish.status_code == 200
    assert "Rzeczy znalezione" in polish.text and "pokój 4" in polish.text
    assert "&lt;script&gt;" in polish.text and "<script>" not in polish.text
    assert "script-src" not in polish.headers["content-security-policy"]  # no script may run at all
    english = await lostville.get("/lost_and_found", params={"lang": "en"})
    assert "Found items" in english.text and "room 4" in english.text
    home = (await lostville.get("/api/v1/home")).json()
    assert home["links"] == [{"plugin": "lost_and_found", "label": "Rzeczy znalezione", "href": "/lost_and_found"}]
    [block] = home["blocks"]
    assert block["name"] == "recently_found" and block["data"]["items"][0]["kind"] == "keys"


def test_navigation_follows_the_permission() -> None:
    from komunikator.engine.runtime.views import Membership, UserView

    lostville = cities().tenants["lostville"]
    keeper = UserView("1", (Membership("bom", "dispatcher"),))
    worker = UserView("2", (Membership("drogi", "worker"),))
    registry = default_registry()
    assert [n.href for n in web_plugins.navigation(registry, lostville, keeper, "staff", "pl")] == ["/lost_and_found"]
    assert web_plugins.navigation(registry, lostville, worker, "staff", "pl") == []
    assert web_plugins.navigation(registry, cities().tenants["zgierz"], keeper, "portal", "pl") == []


@pytest.mark.anyio
async def test_the_staff_workspace_shows_the_plugins_link_to_whom_it_may() -> None:
    """The staff shell's navigation provider gives the keeper "Rzeczy znalezione"; the road worker nothing."""
    from komunikator.web.staff import nav

    assert web_plugins.staff_entries in nav._PROVIDERS  # registered with the shell's one navigation list
    lostville = cities().tenants["lostville"]
    page = SimpleNamespace(tenant=lostville, language="pl", view=UserView("1", (Membership("bom", "dispatcher"),)))
    [entry] = await web_plugins.staff_entries(page)  # type: ignore[arg-type]
    assert (entry.label, entry.href) == ("Rzeczy znalezione", "/lost_and_found")
    page.view = UserView("2", (Membership("drogi", "worker"),))
    assert await web_plugins.staff_entries(page) == []  # type: ignore[arg-type]
    page.tenant = cities().tenants["zgierz"]
    assert await web_plugins.staff_entries(page) == []  # type: ignore[arg-type]


async def test_the_keepers_link_counts_the_kept_items_after_the_page(town: Town) -> None:
    """`NavEntry.count`: the figure beside the keeper's link is the register's kept items, filled in only when
    the counts are asked for (`GET /staff/nav/counts`, after the page); no figure for whom no link is shown."""
    from komunikator.web.staff import nav

    lostville = cities().tenants["lostville"]
    items = [register.NewItem("Rower damski", "bicycle", date(2026, 11, 20), "Park Miejski"),
             register.NewItem("Telefon", "phone", date(2026, 11, 30), "dworzec")]
    await register.import_items(town.scope, lostville, items, SYSTEM, NOW)
    keeper = UserView("1", (Membership("bom", "dispatcher"),))
    page = SimpleNamespace(tenant=lostville, language="pl", view=keeper, user=object(), scope=town.scope, now=NOW,
                           request=SimpleNamespace(state=SimpleNamespace()))

    def link(entries: list[nav.NavEntry]) -> nav.NavEntry | None:
        return next((e for e in entries if e.href == "/lost_and_found"), None)

    drawn = link(await nav.navigation(page))  # type: ignore[arg-type]
    assert drawn is not None and drawn.count is None and drawn.key in nav.counted_keys()  # a place, no figure
    counted = link(await nav.navigation(page, counts=True))  # type: ignore[arg-type]
    assert counted is not None and counted.count == 2
    page.view = UserView("2", (Membership("drogi", "worker"),))
    page.request = SimpleNamespace(state=SimpleNamespace())
    assert link(await nav.navigation(page, counts=True)) is None  # type: ignore[arg-type]


# -- a process uses the plugin's condition and effect; its event and recipients reach people -------------------


async def test_a_reported_item_enters_the_register_in_the_transitions_transaction(town: Town) -> None:
    lostville = town.clients["lostville"]
    report = {"category": "found_item", "description": "Portfel z dokumentami", "lat": 51.85, "lon": 19.40,
              "address": "ul. Główna 7", "attributes": {"kind": "wallet", "value": 900},
              "reporter": {"name": "Ewa", "email": "ewa@example.pl"}}
    cheap = {**report, "description": "Rękawiczka", "attributes": {"kind": "other", "value": 5}}
    number = (await lostville.post("/api/v1/tickets", json=report)).json()["number"]
    cheap_number = (await lostville.post("/api/v1/tickets", json=cheap)).json()["number"]
    refused = await lostville.post(f"/api/v1/tickets/{cheap_number}/actions/register_valuable", json={},
                                   headers=town.keeper)
    assert refused.status_code == 409 and refused.json()["error"] == "condition_failed"
    done = await lostville.post(f"/api/v1/tickets/{number}/actions/register_valuable", json={}, headers=town.keeper)
    assert done.status_code == 200, done.text
    [item] = await town.scope.query(FoundItem).all()
    ticket = await town.scope.get_ticket(number)
    assert (item.kind, item.value, item.found_at, item.ticket_id) == ("wallet", 900, "ul. Główna 7", ticket.id)
    history = [e.action for e in await town.scope.audit_events().filter(ticket_id=ticket.id).order_by("id")]
    assert "lost_and_found.add" in history and "effect:register_found_item" in history
    keepers = await town.scope.outbox().filter(ticket_id=ticket.id, kind="found_item_registered")
    assert {str(r) for row in keepers for r in row.payload["recipients"]} == {"lost_and_found.keepers"}


async def test_the_expiry_job_announces_each_unclaimed_item_once_to_the_keepers(town: Town) -> None:
    tenant = cities().tenants["lostville"]
    old = register.NewItem("Rower damski", "bicycle", date(2026, 10, 1), "Park Miejski")
    fresh = register.NewItem("Telefon", "phone", date(2026, 11, 30), "dworzec")
    await register.import_items(town.scope, tenant, [old, fresh], SYSTEM, NOW)
    job = all_jobs()["lost_and_found.expire"]
    context = JobContext(cities(), NOW)
    assert await job.run(context) == 1
    assert await job.run(context) == 0  # nothing twice
    rows = await town.scope.outbox().filter(kind="found_item_unclaimed")
    assert len(rows) == 1 and rows[0].payload["data"]["description"] == "Rower damski"
    sink = SmtpSink().start()
    try:
        report = await deliver_pending(cities(), now=NOW, channels=sink.channels())
        assert report.sent >= 1
        [mail] = [m for m in sink.wait_for(1) if "Nieodebrana" in str(m.mail["Subject"])]
    finally:
        sink.stop()
    assert mail.recipients == [town.keeper_email]  # the recipient form: the dispatcher holds lost_and_found.manage
    body = mail.mail.get_body(("plain",)).get_content()
    assert "Rower damski" in body and "2026-10-31" in body


# -- the command line -----------------------------------------------------------------------------------------


def test_commands_import_a_csv_in_one_go_or_not_at_all(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "lostville").symlink_to(LOSTVILLE, target_is_directory=True)
    env = {**os.environ, "KOMUNIKATOR_TENANTS": str(tenants)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KOMUNIKATOR), *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("db", "upgrade", "--url", url).returncode == 0
    good = tmp_path / "items.csv"
    good.write_text("description,kind,found_on,found_at,value\n"
                    "Klucze,keys,2026-11-20,ul. Długa,\nPortfel,wallet,2026-11-21,rynek,300\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("Klucze,keys,2026-11-20,ul. Długa\nCoś,unicorn,2026-11-21,rynek\n", encoding="utf-8")
    refused = run("lost_and_found", "import", "lostville", str(bad), "--url", url)
    assert refused.returncode == 1, refused.stderr
    assert "row 2: kind must be one of" in refused.stderr and "nothing was imported" in refused.stderr
    done = run("lost_and_found", "import", "lostville", str(good), "--url", url)
    assert done.returncode == 0, done.stderr
    assert "lostville: 2 item(s) registered" in done.stdout
    listed = run("lost_and_found", "list", "lostville", "--url", url)
    assert "Portfel" in listed.stdout and "Klucze" in listed.stdout
    jobs = run("jobs", "list")
    assert "lost_and_found.expire" in jobs.stdout and "lost_and_found" in jobs.stdout


# -- the seam alone: no product code names a plugin ----------------------------------------------------------


def test_no_product_code_knows_a_plugin_by_name() -> None:
    """engine/, web/ and cli/ reach plugins only through the registry: no code names a plugin.

    Any string that is a plugin's name, or one of its names (`lost_and_found.x`, `/lost_and_found`), and
    any import of a plugin's module, is a finding; prose mentioning one (docs, descriptions) is not.
    """
    names = set(default_registry().plugins) | {"parking"}  # the seam tests' plugin too
    found = []
    for folder in ("engine", "web", "cli"):
        for path in (REPO / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
                module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
                names_it = text is not None and not any(c.isspace() for c in text) and any(
                    text == n or text.startswith((f"{n}.", f"/{n}")) for n in names)
                if names_it or any(f"plugins.{n}" in module for n in names):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {text or module}")
    assert found == []


def test_every_surface_of_the_protocol_is_documented_and_used_by_the_example() -> None:
    """docs/plugins.md has a row for each field of `Plugin`, and the example plugin fills every one."""
    from dataclasses import fields

    from komunikator.engine.config.registry import Plugin
    from komunikator.plugins.lost_and_found import plugin

    doc = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    names = [f.name for f in fields(Plugin)]
    assert [n for n in names if f"| `{n}` |" not in doc] == []
    assert [n for n in names if not getattr(plugin, n)] == []
