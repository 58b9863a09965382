"""Open311 documents as JSON or XML (UTF-8), the format picked the spec's way: the path's suffix, else `format`."""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement, tostring

from starlette.requests import Request
from starlette.responses import Response

Format = Literal["xml", "json"]
#: The spec's primary format answers requests that name none.
DEFAULT_FORMAT: Format = "xml"

#: A list under a key holds elements of this name in XML (the spec's examples).
_ITEMS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
          "endpoints": "endpoint", "formats": "format", "errors": "error"}
_SUFFIX = re.compile(r"\.(xml|json)$")


def path_format(path: str) -> Format | None:
    """The format a path's suffix names (`.xml`, `.json`), or None."""
    match = _SUFFIX.search(path)
    return match.group(1) if match else None  # type: ignore[return-value]


def request_format(request: Request) -> Format:
    """The format to answer in, the spec's way; an unknown `format` answers in XML (the 400 says why)."""
    found = path_format(request.url.path)
    if found is not None:
        return found
    asked = request.query_params.get("format")
    return asked if asked in ("xml", "json") else DEFAULT_FORMAT  # type: ignore[return-value]


def encode_json(document: Any) -> bytes:
    """The JSON encoder every Open311 answer goes through (UTF-8, no ASCII escapes)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_xml(root: str, document: Any) -> bytes:
    """`document` (a list or an object) as the spec's XML under `<root>`."""
    element = Element(root)
    _fill(element, root, document)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(element, encoding="unicode").encode("utf-8")


def _fill(element: Element, tag: str, value: Any) -> None:
    if isinstance(value, list):
        item = _ITEMS.get(tag, "item")
        for entry in value:
            _fill(SubElement(element, item), item, entry)
    elif isinstance(value, dict):
        for key, entry in value.items():
            _fill(SubElement(element, key), key, entry)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def answer(request: Request, root: str, document: Any, status: int = 200, fmt: Format | None = None) -> Response:
    """The document in the request's format; `root` names the XML document element."""
    fmt = fmt or request_format(request)
    if fmt == "json":
        return Response(encode_json(document), status_code=status, media_type="application/json; charset=utf-8")
    return Response(encode_xml(root, document), status_code=status, media_type="text/xml; charset=utf-8")


def error(request: Request, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """The spec's error document: `[{code, description}]` / `<errors><error>…`."""
    response = answer(request, "errors", [{"code": status, "description": description}], status)
    response.headers.update(headers or {})
    return response
