"""An independent Open311 client against a real server process: the `georeport` package from PyPI.

georeport (0.3.x) reads services, service definitions and requests, in JSON
and in XML (parsed by xmltodict), but has no method to post: the POST is a
plain form-encoded `requests.post`, as the spec describes it, and what it
made is read back through georeport in both formats.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from georeport import GeoReport
from open311_server import Served, loopback_config, serving

from komunikator.engine.open311 import keys
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant

pytestmark = [pytest.mark.slow]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serving(database_url, loopback_config(tmp_path / "config"), tmp_path / "server.log") as served:
        yield served


def _key(database_url: str, slug: str) -> str:
    async def make() -> str:
        scope = TenantScope((await ensure_tenant(slug)).id)
        from datetime import UTC, datetime

        raw, _ = await keys.create_key(scope, "georeport", datetime.now(UTC))
        return raw

    with StoreRunner(database_url) as runner:
        return runner.run(make())


def test_georeport_lists_posts_and_reads_back(server: Served, database_url: str) -> None:
    key = _key(database_url, "zgierz")
    as_json = GeoReport(server.zgierz, output_format="json")
    as_xml = GeoReport(server.zgierz, output_format="xml")
    services = as_json.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "streetlight_out" in codes and "lakeshore_litter" not in codes  # Zgierz's, not Nieporęt's
    assert [s["service_code"] for s in as_xml.get_service_list()] == codes
    definition = as_json.get_service_definition("streetlight_out")
    assert [a["code"] for a in definition["attributes"]] == ["lamps", "pole_number"]
    in_xml = as_xml.get_service_definition("streetlight_out")
    assert [a["code"] for a in in_xml["attributes"]["attribute"]] == ["lamps", "pole_number"]
    assert in_xml["attributes"]["attribute"][0]["datatype"] == "number"

    posted = requests.post(f"{server.zgierz}/requests.json", data={
        "api_key": key, "service_code": "streetlight_out", "lat": "51.855", "long": "19.406",
        "description": "Latarnia nie świeci", "attribute[lamps]": "2", "attribute[pole_number]": "Z-12",
        "email": "ala@example.pl"}, timeout=10)
    assert posted.status_code == 201, posted.text
    number = posted.json()[0]["service_request_id"]

    one = as_json.get_service_request(number)
    assert (one["service_request_id"], one["service_code"], one["status"]) == (number, "streetlight_out", "open")
    assert one["requested_datetime"].endswith(("+01:00", "+02:00"))
    in_xml_one = as_xml.get_service_request(number)
    assert in_xml_one["service_request_id"] == number
    assert in_xml_one["status_notes"] == one["status_notes"] == "Przyjęte"
    listed = as_json.get_service_requests(service_code="streetlight_out", status="open")
    assert [r["service_request_id"] for r in listed] == [number]
    by_id = as_xml.get_service_requests(service_request_id=number)
    assert by_id["service_request_id"] == number  # xmltodict: one request is a mapping
    assert "ala@example.pl" not in requests.get(f"{server.zgierz}/requests/{number}.xml", timeout=10).text

    refused = requests.post(f"{server.zgierz}/requests.xml", data={"api_key": key, "service_code": "nope",
                                                                   "lat": "51.855", "long": "19.406"}, timeout=10)
    assert refused.status_code == 404
    assert "<errors><error><code>404</code><description>service not found</description></error></errors>" \
        in refused.text
    with pytest.raises(requests.HTTPError):
        as_json.get_service_request("ZG-2026-999999")
