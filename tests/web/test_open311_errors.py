"""Open311 refusals: the spec's error document (`[{code, description}]` / `<errors>`), the right status, never a
500, and nothing written — for every parameter of every method, in both formats."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from open311_helpers import NIEPORET, ZGIERZ, api_key, xml
from test_bad_input import snapshot
from web_helpers import Api

pytestmark = pytest.mark.anyio

ZG = "zgierz"
#: A form body written by hand (repeated keys): its content type.
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _form(key: str, **changes: str | None) -> dict[str, str]:
    """A valid pothole report, with `changes` (None removes a field)."""
    form = {"api_key": key, "service_code": "pothole", **ZGIERZ, "description": "Dziura przy przystanku",
            "attribute[size]": "small", "email": "jan@example.pl"}
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


async def _refused(client: httpx.AsyncClient, method: str, path: str, status: int, description: str | None = None,
                   **how: Any) -> list[dict[str, Any]]:
    """Call in JSON and in XML: the same refusal both times, nothing changed."""
    before = await snapshot(ZG)
    answers = []
    for suffix in (".json", ".xml"):
        r = await client.request(method, path + suffix, **how)
        assert r.status_code == status, (path, suffix, r.text)
        if suffix == ".json":
            assert r.headers["content-type"] == "application/json; charset=utf-8"
            body = r.json()
        else:
            assert r.headers["content-type"] == "text/xml; charset=utf-8"
            root = xml(r.content)
            assert root.tag == "errors"
            body = [{"code": int(e.findtext("code") or 0), "description": e.findtext("description")}
                    for e in root.findall("error")]
        assert len(body) == 1 and body[0]["code"] == status and body[0]["description"], body
        if description is not None:
            assert body[0]["description"] == description, body
        answers.append(body)
    assert answers[0] == answers[1]
    assert await snapshot(ZG) == before
    return answers[0]


POSTS: list[tuple[str, dict[str, str | None], int, str]] = [
    ("unknown service", {"service_code": "no_such_service"}, 404, "service not found"),
    ("another city's service", {"service_code": "lakeshore_litter"}, 404, "service not found"),
    ("no service", {"service_code": None}, 400, "service_code is required"),
    ("no location", {"lat": None, "long": None}, 400,
     "a location is required: lat and long, address_string or address_id"),
    ("a blank address and no location", {"lat": None, "long": None, "address_string": "  "}, 400,
     "a location is required: lat and long, address_string or address_id"),
    ("lat without long", {"long": None}, 400, "give both lat and long, or neither"),
    ("lat not a number", {"lat": "north"}, 400, "lat must be a number in decimal degrees (WGS 84)"),
    ("lat out of range", {"lat": "91"}, 400, "lat must lie between -90 and 90"),
    ("long infinite", {"long": "inf"}, 400, "long must lie between -180 and 180"),
    ("outside the city", NIEPORET, 400, "the location lies outside the city"),
    ("an address the city does not have", {"address_id": "PL.PZGIK.200/0000000-00001"}, 400,
     ("address_id 'PL.PZGIK.200/0000000-00001' is not an address of this city (the identifiers are the "
      "register's: `ref` in /api/v1/addresses)")),
    ("no description", {"description": None}, 400, "description is required"),
    ("a blank description", {"description": " \n "}, 400, "description is required"),
    ("value outside the list", {"attribute[size]": "huge"}, 400,
     "attribute 'size': 'huge' is not one of ['large', 'medium', 'small']"),
    ("a list for a single value", {"attribute[size][]": "small", "attribute[size]": None}, 400,
     "attribute 'size' takes one value (attribute[size]), not a list"),
    ("missing required attribute", {"attribute[size]": None}, 400, "attribute 'size' is required"),
    ("unknown attribute", {"attribute[colour]": "red"}, 400, "service 'pothole' has no attribute 'colour'"),
    ("bad e-mail", {"email": "not an address"}, 400, None),
    ("bad phone", {"phone": "call me"}, 400, None),
    ("media_url not a URL", {"media_url": "javascript:alert(1)"}, 400,
     "media_url must be an http(s) URL of at most 500 characters"),
    ("another jurisdiction", {"jurisdiction_id": "nieporet"}, 404, "jurisdiction 'nieporet' not found"),
    ("too long a value", {"description": "x" * 5001}, 400, "description is longer than 5000 characters"),
]


async def test_every_bad_post_is_refused_with_nothing_written(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    for case, changes, status, description in POSTS:
        answer = await _refused(client, "POST", "/open311/v2/requests", status, description, data=_form(key, **changes))
        assert answer, case


async def test_attribute_types_are_checked_as_the_portal_checks_them(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    lights = {"service_code": "streetlight_out", "attribute[size]": None}
    await _refused(client, "POST", "/open311/v2/requests", 400, "attribute 'lamps': expected a number, got 'many'",
                   data=_form(key, **lights, **{"attribute[lamps]": "many"}))
    await _refused(client, "POST", "/open311/v2/requests", 400, "attribute 'lamps': 0 is below the minimum 1",
                   data=_form(key, **lights, **{"attribute[lamps]": "0"}))
    await _refused(client, "POST", "/open311/v2/requests", 400, "attribute 'pole_number': longer than 20 characters",
                   data=_form(key, **lights, **{"attribute[lamps]": "1", "attribute[pole_number]": "x" * 21}))
    noise = {"service_code": "construction_noise", "attribute[size]": None}
    await _refused(client, "POST", "/open311/v2/requests", 400, None,
                   data=_form(key, **noise, **{"attribute[hours]": "wczoraj", "attribute[started]": "wczoraj"}))
    litter = [(k, v) for k, v in _form(key, service_code="litter", **{"attribute[size]": None}).items()]
    await _refused(client, "POST", "/open311/v2/requests", 400,
                   "attribute 'kind': ['gold'] not among ['glass', 'leaves', 'other', 'rubbish', 'syringes']",
                   content=urlencode([*litter, ("attribute[kind][]", "glass"), ("attribute[kind][]", "gold")]),
                   headers=FORM)


async def test_api_keys_missing_wrong_revoked_or_of_another_city(api: Api) -> None:
    client = api.client(ZG)
    theirs = await api_key(api, "nieporet")
    for key in ("", "x" * 43, theirs, "y" * 500):
        answer = await _refused(client, "POST", "/open311/v2/requests", 403, data=_form(key))
        assert "api_key" in answer[0]["description"]
    await _refused(client, "POST", "/open311/v2/requests", 403, "api_key is required to post a request",
                   data=_form("", api_key=None))
    from komunikator.engine.open311 import keys
    from komunikator.engine.store.scope import TenantScope, ensure_tenant

    scope = TenantScope((await ensure_tenant(ZG)).id)
    revoked, row = await keys.create_key(scope, "stara aplikacja", api.clock.now)
    await keys.revoke_key(scope, row.id, api.clock.now)
    await _refused(client, "POST", "/open311/v2/requests", 403, "invalid api_key", data=_form(revoked))


GETS: list[tuple[str, dict[str, str], int, str | None]] = [
    ("/open311/v2/requests", {"start_date": "yesterday"}, 400,
     "start_date must be a W3C date-time such as 2026-12-01T00:00:00Z"),
    ("/open311/v2/requests", {"end_date": "2026-13-01T00:00:00Z"}, 400,
     "end_date must be a W3C date-time such as 2026-12-01T00:00:00Z"),
    ("/open311/v2/requests", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"}, 400,
     "start_date and end_date may not span more than 90 days"),
    ("/open311/v2/requests", {"start_date": "2026-12-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, 400,
     "end_date is before start_date"),
    ("/open311/v2/requests", {"updated_after": "0000-00-00"}, 400,
     "updated_after must be a W3C date-time such as 2026-12-01T00:00:00Z"),
    ("/open311/v2/requests", {"updated_before": "1800-01-01T00:00:00Z"}, 400, "updated_before is out of range"),
    ("/open311/v2/requests", {"status": "pending"}, 400, "status must be open, closed or both (comma-separated)"),
    ("/open311/v2/requests", {"status": ","}, 400, "status must be open, closed or both (comma-separated)"),
    ("/open311/v2/requests", {"service_code": "no_such_service"}, 404, "service not found"),
    ("/open311/v2/requests", {"service_code": " , "}, 400, "service_code is empty"),
    ("/open311/v2/requests", {"service_request_id": "' OR 1=1 --"}, 400, None),
    ("/open311/v2/requests", {"service_request_id": ","}, 400, "service_request_id is empty"),
    ("/open311/v2/requests", {"page": "0"}, 400, "page must be a whole number from 1 to 1000000"),
    ("/open311/v2/requests", {"page": "²"}, 400, "page must be a whole number from 1 to 1000000"),
    ("/open311/v2/requests", {"page_size": "1001"}, 400, "page_size must be a whole number from 1 to 1000"),
    ("/open311/v2/requests", {"page_size": "-5"}, 400, "page_size must be a whole number from 1 to 1000"),
    ("/open311/v2/requests", {"jurisdiction_id": "warszawa"}, 404, "jurisdiction 'warszawa' not found"),
    ("/open311/v2/requests", {"locale": "de"}, 400, "locale must be one of pl, en"),
    ("/open311/v2/services", {"locale": "xx" * 40}, 400, "locale must be one of pl, en"),
    ("/open311/v2/services/no_such_service", {}, 404, "service not found"),
    ("/open311/v2/services/pothole_phone", {}, 404, "service not found"),
    ("/open311/v2/requests/ZG-2026-999999", {}, 404, "service request not found"),
    ("/open311/v2/requests/1", {}, 404, "service request not found"),
    ("/open311/v2/requests/Zażółć", {}, 404, "service request not found"),
    ("/open311/v2/tokens/no-such-token", {}, 404, "token not found"),
    ("/open311/v2/tokens/' OR 1=1", {}, 404, "token not found"),
    ("/open311/v2/nowhere", {}, 404, None),
]


async def test_every_bad_get_is_refused(api: Api) -> None:
    client = api.client(ZG)
    for path, params, status, description in GETS:
        await _refused(client, "GET", path, status, description, params=params)


async def test_garbage_in_every_parameter_never_a_500(api: Api) -> None:
    client = api.client(ZG)
    key = await api_key(api, ZG)
    junk = ["", " ", "9" * 400, "-1", "²", "١٢٣", "%00", "' OR 1=1 --", "Zażółć gęślą jaźń 💥", "<x>&</x>", "[]",
            "nan", "1e309", "2026-02-30T00:00:00Z", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")]
    params = ("service_request_id", "service_code", "start_date", "end_date", "status", "updated_after",
              "updated_before", "page", "page_size", "jurisdiction_id", "locale", "format")
    before = await snapshot(ZG)
    for value in junk:
        for name in params:
            r = await client.get("/open311/v2/requests.json", params={name: value})
            assert r.status_code < 500, (name, value, r.text)
            if r.status_code >= 400:
                assert r.json()[0]["code"] == r.status_code, (name, value, r.text)
        for name in ("api_key", "service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
                     "account_id", "first_name", "last_name", "phone", "description", "media_url", "locale",
                     "jurisdiction_id", "attribute[size]", "attribute[size][]", "attribute[]", "attribute[[x]]"):
            r = await client.post("/open311/v2/requests.json", data={**_form("bad key"), name: value})
            assert r.status_code in (400, 403, 404), (name, value, r.text)
            assert r.json()[0]["code"] == r.status_code
    r = await client.post("/open311/v2/requests.json", content=b"\xff\xfe garbage", headers={
        "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text
    r = await client.post("/open311/v2/requests.json", data={**_form(key), "description": "a\x00b"})
    assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text
    r = await client.get("/open311/v2/services.json", params={"format": "csv"})
    assert r.status_code == 200  # the suffix decides; `format` is read only without one
    r = await client.get("/open311/v2/services", params={"format": "csv"})
    assert r.status_code == 400 and xml(r.content).findtext("error/description") == "format must be xml or json"
    r = await client.get("/open311/v2/requests.json", params=[("page", "1"), ("page", "2")])
    assert r.json() == [{"code": 400, "description": "page is given more than once"}]
    r = await client.delete("/open311/v2/requests.json")
    assert r.status_code == 405 and r.json()[0]["code"] == 405
    assert await snapshot(ZG) == before
