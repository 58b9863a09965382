"""Bad input gets a 4xx with a precise JSON body and changes nothing; nothing is ever a 500.

Every refusal is checked twice: the exact body (`error`, `message`, `field`)
and a snapshot of the tenant's rows (counts of every tenant-owned table,
plus each ticket's version and state and each task's state, unit and
assignee) taken before and after.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from route_table import app_routes, fill, path_params
from web_helpers import Api, Clock, registry, report

from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.settings import Settings
from komunikator.engine.store import models
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

ZG = "zgierz"
NP = "nieporet"
DUMP = {"waste_type": ["construction"]}

#: Every tenant-owned table (a table added later is counted too).
OWNED = [
    m for m in vars(models).values()
    if isinstance(m, type) and issubclass(m, models.Model) and m is not models.Model
    and "tenant" in m._meta.fk_fields
]

Snapshot = dict[str, Any]


async def snapshot(slug: str = ZG) -> Snapshot:
    """Everything a refused request could have changed in one tenant."""
    scope = TenantScope((await ensure_tenant(slug)).id)
    out: Snapshot = {m.__name__: await scope.query(m).count() for m in OWNED}
    out["tickets"] = sorted(await scope.tickets().values_list("number", "version", "state", "category",
                                                              "description", "priority"))
    out["tasks"] = sorted(await scope.tasks().values_list("id", "state", "unit", "assignee_id"))
    return out


Send = Callable[[], Awaitable[httpx.Response]]


async def refused(send: Send, status: int, body: dict[str, Any], slug: str = ZG) -> httpx.Response:
    """Send a request that must be refused with `status` and exactly `body`, changing nothing."""
    before = await snapshot(slug)
    response = await send()
    assert response.status_code == status, response.text
    assert response.json() == body
    assert await snapshot(slug) == before
    return response


@pytest.fixture
async def zg(api: Api) -> dict[str, Any]:
    """A dispatcher, a roads worker, a new pothole and a verified one (a task at `drogi`)."""
    client = api.client(ZG)
    dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
    worker = await api.staff(ZG, "drogi@zgierz.pl", "drogi:worker")
    new = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    verified = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    r = await client.post(f"/api/v1/tickets/{verified}/actions/verify", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    return {"client": client, "dispatcher": dispatcher, "worker": worker, "new": new, "verified": verified,
            "task": r.json()["tasks"][0]["key"]}


# -- submissions ------------------------------------------------------------------------------------


def _invalid(error: str, message: str, field: str) -> dict[str, str]:
    return {"error": error, "message": message, "field": field}


SUBMISSIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("unknown category", report("no_such_thing"),
     _invalid("unknown_category", "unknown category 'no_such_thing'", "category")),
    ("a category this city does not offer", report("outdoor_gym_damage"),
     _invalid("unknown_category", "unknown category 'outdoor_gym_damage'", "category")),
    ("choice attribute of the wrong type", report(attributes={"size": 3}),
     _invalid("invalid_attribute", "attribute 'size': 3 is not one of ['large', 'medium', 'small']",
              "attributes.size")),
    ("choice attribute given as a list", report(attributes={"size": ["small"]}),
     _invalid("invalid_attribute", "attribute 'size': ['small'] is not one of ['large', 'medium', 'small']",
              "attributes.size")),
    ("multichoice attribute given as text", report("illegal_dumping", attributes={"waste_type": "tyres"}),
     _invalid("invalid_attribute", "attribute 'waste_type': expected a list of options, got 'tyres'",
              "attributes.waste_type")),
    ("multichoice option of the wrong type", report("illegal_dumping", attributes={"waste_type": [{"a": 1}]}),
     _invalid("invalid_attribute",
              "attribute 'waste_type': [{'a': 1}] not among ['asbestos', 'bulky', 'construction', 'green', "
              "'hazardous', 'household', 'tyres']", "attributes.waste_type")),
    ("missing required attribute", report(attributes={"lane_blocked": "none"}),
     _invalid("missing_attribute", "attribute 'size' is required", "attributes.size")),
    ("unknown attribute", report(attributes={"size": "small", "colour": "red"}),
     _invalid("unknown_attribute", "category 'pothole' has no attribute 'colour'", "attributes.colour")),
    ("staff-only attribute from the public", report("illegal_parking", attributes={
        "obstruction": "pavement", "licence_plate": "EZG 12345"}),
     _invalid("unknown_attribute", "category 'illegal_parking' has no attribute 'licence_plate'",
              "attributes.licence_plate")),
    ("coordinates outside the city", report(lat=52.43, lon=21.03),  # Nieporęt
     _invalid("outside_tenant", "the location lies outside the city", "lat")),
    ("lat without lon", report(lon=None),
     _invalid("invalid_input", "give both lat and lon, or neither", "lon")),
    ("lon without lat", report(lat=None),
     _invalid("invalid_input", "give both lat and lon, or neither", "lat")),
    ("no location and no address", report(lat=None, lon=None),
     _invalid("missing_location", "give a location (lat and lon) or an address", "lat")),
    ("a blank address and no location", report(lat=None, lon=None, address="   "),
     _invalid("missing_location", "give a location (lat and lon) or an address", "lat")),
    ("a blank description", report(description="  \n "),
     _invalid("invalid_input", "the description is empty", "description")),
]


async def test_bad_submissions(api: Api) -> None:
    client = api.client(ZG)
    before = await snapshot()
    for case, body, expected in SUBMISSIONS:
        r = await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": case})
        assert (r.status_code, r.json()) == (422, expected), case
    assert await snapshot() == before  # no ticket, contact or audit row, and no idempotency key spent
    ok = await client.post("/api/v1/tickets", json=report(), headers={"Idempotency-Key": SUBMISSIONS[0][0]})
    assert ok.status_code == 201, ok.text


async def test_malformed_and_mistyped_bodies(api: Api) -> None:
    """FastAPI's own validation errors come in the API's shape, with the field named."""
    client = api.client(ZG)
    r = await refused(
        lambda: client.post("/api/v1/tickets", content=b'{"category": "pothole", ',
                            headers={"Content-Type": "application/json"}),
        422, {"error": "invalid_request", "message": "JSON decode error", "field": "body",
              "details": [{"field": "body", "message": "JSON decode error", "type": "json_invalid"}]})
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**report(), "description": 123}, "description", "string_type"),
        ({**report(), "lat": "north"}, "lat", "float_parsing"),
        ({**report(), "lat": 95.0}, "lat", "less_than_equal"),
        ({**report(), "attributes": ["size", "small"]}, "attributes", "dict_type"),
        ({**report(), "reporter": {"email": "not an address"}}, "reporter.email", "string_pattern_mismatch"),
        ({**report(), "photos": []}, "photos", "extra_forbidden"),
        ({k: v for k, v in report().items() if k != "category"}, "category", "missing"),
    ]
    for body, field, kind in cases:
        r = await refused(lambda body=body: client.post("/api/v1/tickets", json=body), 422, {
            "error": "invalid_request", "message": _ANY, "field": field,
            "details": [{"field": field, "message": _ANY, "type": kind}]})
        assert r.json()["message"] == r.json()["details"][0]["message"]
    for raw in (b"[]", b'"text"', b"null", "{\"category\": \"żółć\u0000\"}".encode()):
        r = await client.post("/api/v1/tickets", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.text)
        assert r.json()["error"] == "invalid_request"
    assert (await snapshot())["Ticket"] == 0


class _Anything:
    """Equal to any string (FastAPI words its messages; the field and type are what we pin)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    def __repr__(self) -> str:
        return "<any text>"


_ANY: Any = _Anything()


# -- a category not open to the public channel (a variant of Zgierz with a phone-only category) --


@cache
def _phone_only_registry(root: str) -> TenantRegistry:
    """Zgierz plus `pothole_phone`, reportable only by staff (intake: [staff])."""
    settings = Settings.from_env()
    folder = Path(root) / ZG
    shutil.copytree(settings.tenants_dir / ZG, folder)
    with (folder / "categories.yaml").open("a", encoding="utf-8") as out:
        out.write(
            "  pothole_phone:\n"
            "    extends: pothole\n"
            "    unit: drogi\n"
            "    intake: [staff]\n"
            "    name: {pl: Dziura (zgłoszenie telefoniczne), en: Pothole (phone report)}\n"
        )
    compiled, errors = check_tenant(folder, settings.definitions_dir)
    assert compiled is not None, errors
    return TenantRegistry.of([compiled, registry().tenants[NP]], settings.base_domain)


async def test_a_category_closed_to_the_public(api: Api, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = create_app(_phone_only_registry(str(tmp_path_factory.mktemp("tenants"))), init_database=False,
                     clock=Clock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Host": "zgierz.localhost"}) as client:
        dispatcher = await api.staff(ZG, "bom@zgierz.pl", "bom:dispatcher")
        body = report("pothole_phone", attributes={"size": "small"})
        await refused(lambda: client.post("/api/v1/tickets", json=body), 422, _invalid(
            "category_closed", "category 'pothole_phone' cannot be reported through the public channel",
            "category"))
        r = await client.get("/api/v1/tenant")
        assert "pothole_phone" not in {c["code"] for c in r.json()["categories"]}
        r = await client.post("/api/v1/tickets", json=body, headers=dispatcher)  # a phone call
        assert r.status_code == 201, r.text
        # staff may reclassify a public report into it
        r = await client.post("/api/v1/tickets", json=report())
        number = r.json()["number"]
        r = await client.post(f"/api/v1/tickets/{number}/actions/reclassify", json={"category": "pothole_phone"},
                              headers=dispatcher)
        assert r.status_code == 200, r.text
        assert r.json()["category"] == "pothole_phone"


# -- actions --------------------------------------------------------------------------------------


async def test_refused_actions(zg: dict[str, Any]) -> None:
    client, dispatcher, worker = zg["client"], zg["dispatcher"], zg["worker"]
    new, verified = zg["new"], zg["verified"]

    def act(number: str, action: str, body: dict[str, Any], who: dict[str, str]) -> Send:
        return lambda: client.post(f"/api/v1/tickets/{number}/actions/{action}", json=body, headers=who)

    await refused(act(verified, "reject", {"public_comment": "nie"}, worker), 403, {
        "error": "forbidden", "message": "'reject' may be done only by: dispatcher"})
    await refused(act(verified, "set_priority", {"priority": "high"}, worker), 403, {
        "error": "forbidden", "message": "'set_priority' needs a role that edits tickets"})
    await refused(act(verified, "verify", {}, dispatcher), 409, {
        "error": "not_available", "message": "'verify' is not possible from state 'in_progress'"})
    await refused(act(new, "resolve", {}, dispatcher), 409, {
        "error": "not_available", "message": "'resolve' happens automatically; nobody fires it"})
    await refused(act(new, "explode", {}, dispatcher), 422, {
        "error": "unknown_action", "message": "process 'simple_fix' has no action 'explode'"})
    await refused(act(new, "reject", {}, dispatcher), 422, {
        "error": "missing_input", "message": "'public_comment' is required", "field": "public_comment"})
    await refused(act(new, "reject", {"public_comment": "   "}, dispatcher), 422, {
        "error": "missing_input", "message": "'public_comment' is required", "field": "public_comment"})
    await refused(act(new, "reclassify", {"category": "no_such_thing"}, dispatcher), 422, {
        "error": "invalid_input", "message": "unknown category 'no_such_thing'", "field": "category"})
    await refused(act(new, "reclassify", {"category": "pothole"}, dispatcher), 422, {
        "error": "invalid_input", "message": "the ticket already has this category", "field": "category"})
    await refused(act(new, "set_priority", {"priority": "critical"}, dispatcher), 422, {
        "error": "invalid_input", "message": "priority must be one of low, normal, high, urgent",
        "field": "priority"})
    await refused(act(new, "verify", {"secret": 1}, dispatcher), 422, {
        "error": "invalid_request", "message": "Extra inputs are not permitted", "field": "secret",
        "details": [{"field": "secret", "message": "Extra inputs are not permitted", "type": "extra_forbidden"}]})
    # mark_duplicate: of a ticket that does not exist, of itself, of another city's ticket
    await refused(act(new, "mark_duplicate", {"duplicate_of": "ZG-2026-999999"}, dispatcher), 422, {
        "error": "invalid_input", "message": "no ticket 'ZG-2026-999999' to merge into", "field": "duplicate_of"})
    await refused(act(new, "mark_duplicate", {"duplicate_of": new.lower()}, dispatcher), 422, {
        "error": "invalid_input", "message": "a ticket cannot duplicate itself", "field": "duplicate_of"})
    await refused(act(new, "mark_duplicate", {"duplicate_of": "1"}, dispatcher), 422, {
        "error": "invalid_input", "message": "no ticket '1' to merge into", "field": "duplicate_of"})
    # a refused action with a comment leaves no comment behind
    await refused(act(verified, "reject", {"public_comment": "nie", "internal_comment": "x"}, worker), 403, {
        "error": "forbidden", "message": "'reject' may be done only by: dispatcher"})


async def test_mark_duplicate_of_a_duplicate_and_of_another_city(api: Api, zg: dict[str, Any]) -> None:
    client, dispatcher = zg["client"], zg["dispatcher"]
    new, verified = zg["new"], zg["verified"]
    r = await client.post(f"/api/v1/tickets/{new}/actions/mark_duplicate", json={"duplicate_of": verified},
                          headers=dispatcher)
    assert r.status_code == 200, r.text
    third = (await client.post("/api/v1/tickets", json=report())).json()["number"]
    await refused(lambda: client.post(f"/api/v1/tickets/{third}/actions/mark_duplicate",
                                      json={"duplicate_of": new}, headers=dispatcher), 422, {
        "error": "invalid_input", "message": f"{new} is itself a duplicate; merge into its master",
        "field": "duplicate_of"})
    np = (await api.client(NP).post("/api/v1/tickets", json={
        "category": "pothole", "description": "x", "lat": 52.43, "lon": 21.03, "attributes": {"size": "small"}}))
    assert np.status_code == 201, np.text
    foreign = np.json()["number"]
    await refused(lambda: client.post(f"/api/v1/tickets/{third}/actions/mark_duplicate",
                                      json={"duplicate_of": foreign}, headers=dispatcher), 422, {
        "error": "invalid_input", "message": f"no ticket {foreign!r} to merge into", "field": "duplicate_of"})


async def test_refused_task_actions(api: Api, zg: dict[str, Any]) -> None:
    client, dispatcher, worker = zg["client"], zg["dispatcher"], zg["worker"]
    verified, task = zg["verified"], zg["task"]
    np_user = await api.staff(NP, "zuk@nieporet.pl", "zuk:worker")
    np_user_id = np_user["X-User-Id"]
    outsider = await api.staff(ZG, "inw@zgierz.pl", "inwestycje:worker")

    def task_action(action: str, body: dict[str, Any], who: dict[str, str], key: str = task) -> Send:
        return lambda: client.post(f"/api/v1/tickets/{verified}/tasks/{key}/{action}", json=body, headers=who)

    # a unit of another tenant (Nieporęt's `zuk`) and a made-up one
    for unit in ("zuk", "urzad", "nowhere"):
        await refused(task_action("delegate", {"to_unit": unit, "reason": "r"}, worker), 422, {
            "error": "invalid_input", "message": f"unknown unit {unit!r}", "field": "to_unit"})
    # an unknown user id, and a user of another tenant: the same answer
    for user_id in ("987654321", np_user_id):
        await refused(task_action("delegate", {"to_user": int(user_id), "reason": "r"}, worker), 422, {
            "error": "invalid_input", "message": f"no staff member {int(user_id)!r}", "field": "to_user"})
    await refused(task_action("delegate", {"to_user": 2**63, "reason": "r"}, worker), 422, {
        "error": "invalid_input", "message": f"no staff member {2**63!r}", "field": "to_user"})
    await refused(task_action("delegate", {"to_unit": "inwestycje"}, worker), 422, {
        "error": "missing_input", "message": "a reason is required to delegate a task", "field": "reason"})
    await refused(task_action("delegate", {"reason": "r"}, worker), 422, {
        "error": "missing_input", "message": "delegate to a unit (`to_unit`) or a person (`to_user`)",
        "field": "to_unit"})
    await refused(task_action("delegate", {"to_unit": "drogi", "reason": "r"}, worker), 422, {
        "error": "invalid_input", "message": "the task is already there", "field": "to_unit"})
    await refused(task_action("withdraw", {}, worker), 422, {
        "error": "missing_input", "message": "a reason is required to withdraw a task", "field": "reason"})
    await refused(task_action("complete", {}, outsider), 404, {"error": "not_found", "message": "ticket not found"})
    await refused(task_action("complete", {}, dispatcher), 403, {
        "error": "forbidden", "message": "you may not complete a task of unit 'drogi'"})
    await refused(task_action("complete", {}, worker, key="T9"), 404, {
        "error": "not_found", "message": "task not found"})
    r = await refused(task_action("explode", {}, worker), 422, {
        "error": "invalid_request", "message": _ANY, "field": "action",
        "details": [{"field": "action", "message": _ANY, "type": "literal_error"}]})
    assert "take" in r.json()["message"]
    # a blank note with an action: the action is done, no empty comment is stored
    r = await client.post(f"/api/v1/tickets/{verified}/tasks/{task}/take", json={"comment": "  "}, headers=worker)
    assert r.status_code == 200, r.text
    scope = TenantScope((await ensure_tenant(ZG)).id)
    assert await scope.comments().count() == 0
    # a finished task
    r = await client.post(f"/api/v1/tickets/{verified}/tasks/{task}/complete", json={}, headers=worker)
    assert r.status_code == 200, r.text
    await refused(task_action("complete", {}, worker), 409, {
        "error": "not_available", "message": f"task {task} is done"})


async def test_stale_and_malformed_if_match(zg: dict[str, Any]) -> None:
    client, dispatcher, new = zg["client"], zg["dispatcher"], zg["new"]
    r = await client.get(f"/api/v1/tickets/{new}", headers=dispatcher)
    version = r.json()["version"]
    assert r.headers["ETag"] == f'"{version}"'
    r = await client.patch(f"/api/v1/tickets/{new}", json={"description": "poprawiony opis"},
                           headers={**dispatcher, "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    for stale in (f'"{version}"', str(version), f'W/"{version}"', '"999"'):
        await refused(lambda stale=stale: client.patch(f"/api/v1/tickets/{new}", json={"description": "x"},
                                                        headers={**dispatcher, "If-Match": stale}), 409, {
            "error": "stale_version", "message": f"ticket {new} is at version {version + 1}, not "
                                                 f"{stale.removeprefix('W/').strip(chr(34))}: reload it",
            "details": {"current_version": version + 1}})
    await refused(lambda: client.post(f"/api/v1/tickets/{new}/actions/verify", json={},
                                      headers={**dispatcher, "If-Match": f'"{version}"'}), 409, {
        "error": "stale_version", "message": f"ticket {new} is at version {version + 1}, not {version}: reload it",
        "details": {"current_version": version + 1}})
    for bad in ('"abc"', "*", "-1", '"1.5"', "9" * 400, "", "\u00b2".encode("latin-1")):  # ² is a digit
        await refused(lambda bad=bad: client.patch(f"/api/v1/tickets/{new}", json={"description": "x"},
                                                    headers={**dispatcher, "If-Match": bad}), 400, {
            "error": "invalid_if_match", "message": "If-Match must be the ticket's version number",
            "field": "If-Match"})


async def test_refused_edits(zg: dict[str, Any]) -> None:
    client, dispatcher, worker, new = zg["client"], zg["dispatcher"], zg["worker"], zg["new"]

    def patch(body: dict[str, Any], who: dict[str, str] = dispatcher) -> Send:
        return lambda: client.patch(f"/api/v1/tickets/{new}", json=body, headers=who)

    await refused(patch({"description": "x"}, worker), 403, {
        "error": "forbidden", "message": "editing a ticket needs a role that edits tickets"})
    await refused(patch({}), 422, {"error": "invalid_input", "message": "nothing to change"})
    await refused(patch({"lat": 51.85}), 422, {"error": "invalid_input", "message": "give both lat and lon",
                                               "field": "lat"})
    await refused(patch({"lat": 52.43, "lon": 21.03}), 422, {
        "error": "outside_tenant", "message": "the location lies outside the city", "field": "lat"})
    await refused(patch({"lat": 51.85, "lon": None}), 422, {
        "error": "invalid_input", "message": "give both lat and lon", "field": "lat"})
    await refused(patch({"lat": None, "lon": None}), 422, {  # the report has no address either
        "error": "missing_location", "message": "give a location (lat and lon) or an address", "field": "lat"})
    await refused(patch({"description": None}), 422, {
        "error": "invalid_input", "message": "the description is empty", "field": "description"})
    await refused(patch({"description": " \t "}), 422, {
        "error": "invalid_input", "message": "the description is empty", "field": "description"})
    await refused(patch({"attributes": {"size": "huge"}}), 422, {
        "error": "invalid_attribute",
        "message": "attribute 'size': 'huge' is not one of ['large', 'medium', 'small']", "field": "attributes.size"})
    await refused(patch({"attributes": {"size": {"cm": 40}}}), 422, {
        "error": "invalid_attribute",
        "message": "attribute 'size': {'cm': 40} is not one of ['large', 'medium', 'small']",
        "field": "attributes.size"})
    await refused(patch({"attributes": {"size": None}}), 422, {
        "error": "missing_attribute", "message": "attribute 'size' is required", "field": "attributes.size"})
    await refused(patch({"attributes": {"colour": "red"}}), 422, {
        "error": "unknown_attribute", "message": "category 'pothole' has no attribute 'colour'",
        "field": "attributes.colour"})
    await refused(patch({"category": "litter"}), 422, {
        "error": "invalid_request", "message": "Extra inputs are not permitted", "field": "category",
        "details": [{"field": "category", "message": "Extra inputs are not permitted", "type": "extra_forbidden"}]})


async def test_refused_comments(api: Api, zg: dict[str, Any]) -> None:
    client, dispatcher, new = zg["client"], zg["dispatcher"], zg["new"]

    def comment(body: dict[str, Any], who: dict[str, str] = dispatcher) -> Send:
        return lambda: client.post(f"/api/v1/tickets/{new}/comments", json=body, headers=who)

    await refused(comment({"body": "do jednostki", "visibility": "to_unit"}), 422, {
        "error": "missing_input", "message": "a message to a unit needs `target_unit`", "field": "target_unit"})
    await refused(comment({"body": "do jednostki", "visibility": "to_unit", "target_unit": "zuk"}), 422, {
        "error": "invalid_input", "message": "unknown unit 'zuk'", "field": "target_unit"})
    await refused(comment({"body": "notatka", "target_unit": "drogi"}), 422, {
        "error": "invalid_input", "message": "target_unit goes only with visibility to_unit", "field": "target_unit"})
    await refused(comment({"visibility": "public"}), 422, {
        "error": "invalid_request", "message": "Field required", "field": "body",
        "details": [{"field": "body", "message": "Field required", "type": "missing"}]})
    await refused(lambda: client.post(f"/api/v1/tickets/{new}/comments", headers=dispatcher), 422, {
        "error": "invalid_request", "message": "Field required", "field": "body",
        "details": [{"field": "body", "message": "Field required", "type": "missing"}]})
    await refused(comment({"body": "   "}), 422, {"error": "invalid_input", "message": "the comment is empty",
                                                "field": "body"})
    await refused(comment({"body": "n", "task": "T1"}), 422, {
        "error": "invalid_input", "message": "the ticket has no task 'T1'", "field": "task"})
    await refused(comment({"body": "n", "visibility": "secret"}), 422, {
        "error": "invalid_request", "message": _ANY, "field": "visibility",
        "details": [{"field": "visibility", "message": _ANY, "type": "literal_error"}]})
    await refused(lambda: client.post(f"/api/v1/tickets/{new}/comments", json={"body": "n"}), 401, {
        "error": "unauthorized", "message": "log in or send an API token"})


# -- garbage in paths: never a 500 ----------------------------------------------------------------

def _body(method: str, template: str) -> dict[str, Any] | None:
    """A body the route would accept, so that only the path is wrong."""
    if method in ("GET", "DELETE"):
        return None
    if method == "PATCH":
        return {"description": "x"}
    if template.endswith("/hide"):
        return {"reason": "x"}
    return {"body": "x"} if template.endswith("/comments") else {}


GARBAGE = [
    "9" * 400,                      # a very long number (database ids overflow)
    str(2**63),                     # just past BIGINT
    "-1",
    "0",
    "²",                            # str.isdigit() but not int()
    "١٢٣",                          # Arabic-Indic digits: int() accepts them
    "ZG-2026-" + "9" * 300,         # a well-formed number, absurdly long
    "ZG-2026-00001",                # too few digits
    "ZG-2026-%00001",               # a NUL character, URL-encoded (PostgreSQL cannot hold it in text)
    "ZG-2026-000001/..",            # a number with more path after it
    "Zażółć gęślą jaźń 💥",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "' OR 1=1 --",
    "NP-2026-000001",               # the other city's prefix
]


async def test_garbage_path_parameters_never_crash(api: Api, zg: dict[str, Any]) -> None:
    """Every GET route with path parameters, and the writes too, with garbage in each parameter."""
    client, dispatcher = zg["client"], zg["dispatcher"]
    routes = sorted((m, p) for m, p in app_routes(api.app) if path_params(p))
    assert {m for m, _ in routes} >= {"GET", "POST", "PATCH", "DELETE"}
    valid = {"number": zg["verified"], "key": zg["task"], "action": "take", "token_id": "1", "attachment_id": "1",
             "item_id": "1", "token": "x" * 43, "service_code": "pothole", "service_request_id": zg["verified"],
             "link": "x" * 43, "export_id": "1"}
    before = await snapshot()
    tried = 0
    for method, template in routes:
        names = path_params(template)
        assert set(names) <= set(valid), f"{method} {template}: give its new parameter a valid value here"
        for junk in GARBAGE:
            for name in names:  # one parameter garbage, the others valid
                path = fill(template, **{**valid, name: junk})
                open311 = template.startswith("/open311/")  # the spec's error shape, asked for in JSON
                r = await client.request(method, path, headers=dispatcher, json=_body(method, template),
                                         params={"format": "json"} if open311 else None)
                tried += 1
                assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
                if open311:
                    assert r.json() == [{"code": r.status_code, "description": _ANY}], r.text
                    continue
                assert {"error", "message"} <= set(r.json()) <= {"error", "message", "field", "details"}, r.text
    assert tried > 100
    assert await snapshot() == before
    # a ticket's database id is no ticket number: no lookups by id, on any route
    scope = TenantScope((await ensure_tenant(ZG)).id)
    ticket_id = (await scope.get_ticket(zg["verified"])).id
    for method, template in routes:
        if "number" in path_params(template):
            by_id, missing = [
                await client.request(method, fill(template, **{**valid, "number": number}), headers=dispatcher,
                                     json=_body(method, template))
                for number in (str(ticket_id), "ZG-2026-999999")
            ]
            assert (by_id.status_code, by_id.json()) == (missing.status_code, missing.json()), (method, template)
            assert by_id.status_code in (404, 415), (method, template, by_id.text)  # 415: not an upload at all


async def test_a_nul_character_is_refused_wherever_text_comes_in(api: Api, zg: dict[str, Any]) -> None:
    """PostgreSQL cannot store U+0000 in text: refused at the door on both databases, whatever the route."""
    client, dispatcher = zg["client"], zg["dispatcher"]
    verified, task = zg["verified"], zg["task"]

    def nul(field: str) -> dict[str, Any]:
        return {"error": "invalid_character", "message": "text may not contain the NUL character (U+0000)",
                "field": field}

    sends: list[tuple[Send, str]] = [
        (lambda: client.get("/api/v1/tickets", params={"unit": "dro\x00gi"}, headers=dispatcher), "unit"),
        (lambda: client.get("/api/v1/tickets", params={"q": "\x00"}, headers=dispatcher), "q"),
        (lambda: client.post("/api/v1/tickets", json=report(description="dziura\x00")), "body"),
        (lambda: client.post("/api/v1/tickets", files=[("report", (None, json.dumps(report(address="\x00"))))]),
         "body"),
        (lambda: client.post("/api/v1/auth/login", json={"email": "a\x00@zgierz.pl", "password": "x" * 12}), "body"),
        (lambda: client.patch(f"/api/v1/tickets/{verified}", json={"description": "a\x00b"}, headers=dispatcher),
         "body"),
        (lambda: client.post(f"/api/v1/tickets/{verified}/comments", json={"body": "\x00", "visibility": "internal"},
                             headers=dispatcher), "body"),
        (lambda: client.post(f"/api/v1/tickets/{verified}/tasks/{task}/delegate",
                             json={"to_unit": "zielen", "reason": "nie\x00nasze"}, headers=dispatcher), "body"),
        (lambda: client.post(f"/api/v1/tickets/{verified}/attachments", data={"task": "\x00"},
                             files={"file": ("a.jpg", b"\xff\xd8\x00\x00", "image/jpeg")}, headers=dispatcher),
         "task"),
    ]
    for send, field in sends:
        await refused(send, 422, nul(field))
    # an escaped backslash before "u0000" is no NUL: an ordinary description
    r = await client.post("/api/v1/tickets", json=report(description="C:\\u0000 to nie NUL"))
    assert r.status_code == 201, r.text
