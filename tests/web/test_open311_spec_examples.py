"""Our answers against the shapes of the GeoReport v2 specification's own examples, in XML and in JSON.

The examples below follow the spec page (wiki.open311.org/GeoReport_v2) method by method — its
element names, nesting and order, with its sample values replaced by neutral ones. Values are not
compared (they are the city's); the structure is: every element the spec's example has is in our
answer, at the same place, and (in XML) in the spec's order; we add nothing the spec does not name.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from open311_helpers import ZGIERZ, api_key, xml
from web_helpers import Api

pytestmark = pytest.mark.anyio

SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>x</service_name><description>x</description>
<metadata>true</metadata><type>realtime</type><keywords>a, b</keywords><group>x</group></service></services>"""
SPEC_SERVICES_JSON = """[{"service_code": "001", "service_name": "x", "description": "x", "metadata": true,
"type": "realtime", "keywords": "a, b", "group": "x"}]"""
SPEC_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>X</service_code><attributes><attribute><variable>true</variable><code>C</code>
<datatype>singlevaluelist</datatype><required>true</required><datatype_description/><order>1</order>
<description>x</description><values><value><key>1</key><name>x</name></value></values></attribute></attributes>
</service_definition>"""
SPEC_DEFINITION_JSON = """{"service_code": "X", "attributes": [{"variable": true, "code": "C",
"datatype": "singlevaluelist", "required": true, "datatype_description": null, "order": 1, "description": "x",
"values": [{"key": "1", "name": "x"}]}]}"""
SPEC_POST_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>1</service_request_id><service_notice>x</service_notice>
<account_id/></request></service_requests>"""
SPEC_POST_JSON = """[{"service_request_id": "1", "service_notice": "x", "account_id": null}]"""
SPEC_TOKEN_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>1</service_request_id><token>t</token></request></service_requests>"""
SPEC_TOKEN_JSON = """[{"service_request_id": "1", "token": "t"}]"""
#: GET requests, the spec's fields but `description` (the reporter's text is not published: docs/open311.md)
SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>1</service_request_id><status>open</status>
<status_notes/><service_name>x</service_name><service_code>001</service_code>
<agency_responsible>x</agency_responsible><service_notice/><requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime><expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
<address>x</address><address_id>1</address_id><zipcode>1</zipcode><lat>1</lat><long>1</long>
<media_url>http://x</media_url></request></service_requests>"""
SPEC_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>x</description></error></errors>"""
SPEC_ERRORS_JSON = """[{"code": 403, "description": "x"}]"""
SPEC_DISCOVERY_JSON = """{"changeset": "x", "contact": "x", "key_service": "x", "endpoints": [{"specification":
"http://wiki.open311.org/GeoReport_v2", "url": "x", "changeset": "x", "type": "production",
"formats": ["text/xml", "application/json"]}]}"""


def _tags(element: Element) -> Any:
    """The element's structure: its tag and its children's, in order (repeated siblings once)."""
    children: list[Any] = []
    for child in element:
        shape = _tags(child)
        if not children or children[-1] != shape:
            children.append(shape)
    return (element.tag, tuple(children))


def _keys(value: Any) -> Any:
    """A JSON document's structure: keys in order, lists by their first item."""
    if isinstance(value, dict):
        return tuple((k, _keys(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__ if isinstance(value, bool | int | float) else "text"


def _same_structure(ours: Any, spec: Any) -> None:
    if isinstance(spec, tuple) and spec and isinstance(spec[0], tuple):  # JSON object: keys and their values
        assert [k for k, _ in ours] == [k for k, _ in spec], (ours, spec)
        for (_, mine), (_, theirs) in zip(ours, spec, strict=True):
            if theirs not in ("text", "int", "float", "bool") and mine not in ("text",):
                _same_structure(mine, theirs)
    elif isinstance(spec, list):
        assert isinstance(ours, list) and ours, ours
        _same_structure(ours[0], spec[0])


def _first_of_each(element: Element) -> Element:
    for parent in element.iter():
        seen: set[str] = set()
        for child in list(parent):
            if child.tag in seen:
                parent.remove(child)
            seen.add(child.tag)
    return element


async def test_our_answers_have_the_spec_examples_structure(api: Api) -> None:
    client = api.client("zgierz")
    key = await api_key(api, "zgierz")
    posted = await client.post("/open311/v2/requests.xml", data={
        "api_key": key, "service_code": "pothole", **ZGIERZ, "description": "Dziura", "attribute[size]": "small"})
    assert posted.status_code == 201
    number = xml(posted.content).findtext("request/service_request_id")
    token = xml(posted.content).findtext("request/token")
    cases = [
        ("services", SPEC_SERVICES_XML, SPEC_SERVICES_JSON),
        ("services/pothole", SPEC_DEFINITION_XML, SPEC_DEFINITION_JSON),
        (f"tokens/{token}", SPEC_TOKEN_XML, SPEC_TOKEN_JSON),
        (f"requests/{number}", SPEC_REQUESTS_XML, None),
        ("requests", SPEC_REQUESTS_XML, None),
        ("services/nope", SPEC_ERRORS_XML, SPEC_ERRORS_JSON),
    ]
    for path, spec_xml, spec_json in cases:
        ours = _first_of_each(xml((await client.get(f"/open311/v2/{path}.xml")).content))
        assert _tags(ours) == _tags(_first_of_each(xml(spec_xml.encode()))), path
        if spec_json is not None:
            mine = (await client.get(f"/open311/v2/{path}.json")).json()
            _same_structure(_keys(mine), _keys(json.loads(spec_json)))
    # POST: the spec's fields, and the token the spec allows besides them
    receipt = _first_of_each(xml(posted.content))
    spec = _tags(xml(SPEC_POST_XML.encode()))
    fields = (("service_request_id", ()), ("token", ()), ("service_notice", ()), ("account_id", ()))
    assert _tags(receipt) == ("service_requests", (("request", fields),))
    assert {t for t, _ in spec[1][0][1]} <= {t for t, _ in receipt_children(receipt)}
    discovery = (await client.get("/open311/v2/discovery.json")).json()
    _same_structure(_keys(discovery), _keys(json.loads(SPEC_DISCOVERY_JSON)))


def receipt_children(receipt: Element) -> list[tuple[str, Any]]:
    """The children of the answer's request element, as (tag, structure)."""
    request = receipt.find("request")
    assert request is not None
    return [_tags(child) for child in request]
