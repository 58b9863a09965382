"""Task objects in the staff API carry the title the YAML gave the task (#11 item 5), on both databases."""

from __future__ import annotations

from web_helpers import Api, report

from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.settings import REPO_ROOT, Settings


def _titles_in_yaml() -> dict[str, str | None]:
    """unit → the Polish title zgierz's `dumping_cleanup.verify` gives its task (None: no title written)."""
    tenant = compile_tenant(REPO_ROOT / "tenants" / "zgierz", Settings.from_env().definitions_dir)
    category = tenant.categories["illegal_dumping"]
    verify = tenant.processes[category.process].transitions["verify"]
    out: dict[str, str | None] = {}
    for call in verify.effects:
        if call.name == "create_task" and call.args is not None:
            unit = call.args.unit.unit or category.unit
            out[unit] = dict(call.args.title)["pl"] if call.args.title else None
    return out


async def test_tasks_carry_their_yaml_titles(api: Api) -> None:
    expected = _titles_in_yaml()
    assert len([t for t in expected.values() if t]) >= 2, "the fixture should have titled tasks"
    client = api.client("zgierz")
    dispatcher = await api.staff("zgierz", "bom@zgierz.pl", "bom:dispatcher")
    r = await client.post("/api/v1/tickets", json=report("illegal_dumping", attributes={"waste_type": ["green"]}))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    r = await client.post(f"/api/v1/tickets/{number}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    assert {t["unit"]: t["title"] for t in r.json()["tasks"]} == expected
    r = await client.get(f"/api/v1/tickets/{number}", headers=dispatcher)
    assert {t["unit"]: t["title"] for t in r.json()["tasks"]} == expected
