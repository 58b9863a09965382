"""Shared pieces of the Open311 tests: an api key per city, the spec's fields, XML read back as plain data."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, fromstring

from web_helpers import Api, registry

from komunikator.engine.open311 import keys
from komunikator.engine.store.scope import TenantScope, ensure_tenant

#: Fields the spec lists for a service request (GET requests). `description` is withheld on purpose
#: (the resident's free text is not published, as on the portal: docs/open311.md).
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
ATTRIBUTE_FIELDS = ("variable", "code", "datatype", "required", "datatype_description", "order", "description",
                    "values")
#: Inside Zgierz's bounds.
ZGIERZ = {"lat": "51.855", "long": "19.406"}
NIEPORET = {"lat": "52.43", "long": "21.03"}


async def api_key(api: Api, slug: str, name: str = "Aplikacja testowa") -> str:
    """A fresh api key of `slug`."""
    scope = TenantScope((await ensure_tenant(slug)).id)
    raw, _ = await keys.create_key(scope, name, api.clock.now)
    return raw


def xml(body: bytes) -> Element:
    """The XML document, checked to start with the UTF-8 declaration."""
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:80]
    return fromstring(body)  # noqa: S314 - the answer of our own server under test


def plain(element: Element) -> Any:
    """An element as data: text for a leaf, else {tag: …} (repeated tags as a list under the parent's name)."""
    children = list(element)
    if not children:
        return element.text
    tags = [c.tag for c in children]
    if len(set(tags)) == 1 and (len(tags) > 1 or element.tag + "" in _LISTS):
        return [plain(c) for c in children]
    return {c.tag: plain(c) for c in children}


_LISTS = {"services", "service_requests", "attributes", "values", "errors", "endpoints", "formats"}


def cities() -> list[str]:
    """The shipped cities' slugs."""
    return sorted(registry().tenants)
