"""`/open311/v2/…` on every city's host: discovery, services, service definitions, requests, tokens.

Each resource answers with a `.xml`/`.json` suffix or without one (`format`
then, XML by default); in paths with an id the suffix ends the id's segment.
Parameters are read here, not by FastAPI's validation, so that every
refusal is the spec's error document (`render.error`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery import bell
from komunikator.engine.open311 import fields, posting, services
from komunikator.engine.open311.errors import Open311Error, bad_request
from komunikator.engine.store.scope import TenantScope
from komunikator.web.deps import now as clock_now
from komunikator.web.deps import preferred_locale, tenant_scope
from komunikator.web.open311.render import answer, error, path_format

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When the contract of this endpoint (fields, extensions) last changed: the discovery's `changeset`.
CHANGESET = "2026-12-06T00:00:00Z"

router = APIRouter(prefix=PREFIX, tags=["open311"])

Handler = Callable[[Request, CompiledTenant, TenantScope], Awaitable[Response]]


def _route(*paths: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Handler], Handler]:
    """Register `handler` on `paths` (suffixed ones first); tenant, scope and errors handled around it."""

    def register(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                _check_format(request)
                tenant = request.app.state.tenants.for_host(request.headers.get("host"))
                if tenant is None:
                    raise Open311Error(404, "no city is served at this address")
                check_parameters(request)
                posting.check_jurisdiction(tenant, request.query_params.get("jurisdiction_id"))
                scope = await tenant_scope(request, tenant)
                return await handler(request, tenant, scope)
            except Open311Error as refusal:
                return error(request, refusal.status, refusal.description)

        endpoint.__name__ = f"open311_{handler.__name__}"
        endpoint.__doc__ = handler.__doc__
        for path in paths:
            router.add_api_route(path, endpoint, methods=list(methods), name=f"{endpoint.__name__}:{path}")
        return handler

    return register


def _check_format(request: Request) -> None:
    if path_format(request.url.path) is None and request.query_params.get("format") not in (None, "xml", "json"):
        raise bad_request("format must be xml or json")


#: Query parameters a request may repeat (they are comma lists); every other one is given once.
_LISTS = ("service_request_id", "service_code", "status")


def check_parameters(request: Request) -> None:
    """400 for a parameter given twice (comma lists excepted) or holding a NUL character."""
    seen: set[str] = set()
    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            raise bad_request("text may not contain the NUL character")
        if key in seen and key not in _LISTS:
            raise bad_request(f"{key[:60]} is given more than once")
        seen.add(key)


def _param(request: Request, name: str) -> str | None:
    if name in _LISTS:
        values = request.query_params.getlist(name)
        return ",".join(values) if values else None
    return request.query_params.get(name)


def _locale(request: Request, tenant: CompiledTenant) -> str:
    return services.pick_locale(tenant, request.query_params.get("locale"),
                                preferred_locale(tenant, request.headers.get("accept-language")))


def _name(request: Request, param: str) -> str:
    """A path parameter without the format suffix (`pothole.json` → `pothole`)."""
    value = str(request.path_params[param])
    return value.rsplit(".", 1)[0] if path_format(value) else value


def base_url(request: Request) -> str:
    """`scheme://host` of the request (links to public photos)."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


# -- discovery and services ---------------------------------------------------------------------


@_route("/discovery.xml", "/discovery.json", "/discovery")
async def discovery(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """Where the endpoint is, what it speaks, whom to ask for a key."""
    contact = tenant.config.contact
    reach = ", ".join(p for p in (contact.email, contact.phone) if p)
    document = {
        "changeset": CHANGESET,
        "contact": reach,
        "key_service": f"Klucze api_key wydaje urząd ({reach}) / api keys are issued by the office ({reach})",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": f"{base_url(request)}{PREFIX}",
            "changeset": CHANGESET,
            "type": os.environ.get("KOMUNIKATOR_OPEN311_ENDPOINT_TYPE", "production"),
            "formats": ["text/xml", "application/json"],
        }],
    }
    return answer(request, "discovery", document)


@_route("/services.xml", "/services.json", "/services")
async def service_list(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """The categories a resident may report."""
    return answer(request, "services", services.services(tenant, _locale(request, tenant)))


@_route("/services/{service_code}")
async def service_definition(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """A category's questions."""
    code = _name(request, "service_code")
    return answer(request, "service_definition", services.definition(tenant, code, _locale(request, tenant)))


# -- requests -----------------------------------------------------------------------------------


@_route("/requests.xml", "/requests.json", "/requests", methods=("POST",))
async def post_request(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """Report a problem (form-encoded, as the spec says; multipart too, its files ignored)."""
    try:
        form = await request.form()
    except Exception as exc:  # noqa: BLE001 - a body the form parser cannot read is the client's error
        raise bad_request(f"the body is no form: {type(exc).__name__}") from None
    pairs = list(request.query_params.multi_items())
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            continue  # media are given as media_url
        if "\x00" in name or "\x00" in value:
            raise bad_request("text may not contain the NUL character")
        pairs.append((name, value))
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= 200:
        raise bad_request("Idempotency-Key must have 1 to 200 characters")
    made = await posting.post(scope, tenant, pairs, now=clock_now(request), idempotency_key=key)
    bell.ring()  # the receipt and the unit's notices are committed: deliver them now
    return answer(request, "service_requests", made, status=201)


@_route("/requests.xml", "/requests.json", "/requests")
async def request_list(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """Requests by ids, or filtered: the last 90 days and 1,000 at most unless asked otherwise."""
    query = parse_query(request, tenant)
    rows = await fields.find_requests(scope, tenant, query, clock_now(request))
    found = await fields.public_requests(scope, tenant, rows, _locale(request, tenant), base_url(request))
    return answer(request, "service_requests", found)


@_route("/requests/{service_request_id}")
async def request_one(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """One request; 404 for a missing one, another city's, or a hidden category's."""
    number = fields.single_id(_name(request, "service_request_id"))
    rows = await fields.find_requests(scope, tenant, fields.RequestQuery(ids=(number,)), clock_now(request))
    if not rows:
        raise Open311Error(404, "service request not found")
    found = await fields.public_requests(scope, tenant, rows, _locale(request, tenant), base_url(request))
    return answer(request, "service_requests", found)


@_route("/tokens/{token}")
async def token(request: Request, tenant: CompiledTenant, scope: TenantScope) -> Response:
    """The service_request_id a POST's token stands for."""
    return answer(request, "service_requests", await posting.token_request(scope, _name(request, "token")))


# -- reading GET requests' parameters -----------------------------------------------------------


def parse_query(request: Request, tenant: CompiledTenant) -> fields.RequestQuery:
    """The filters of `GET requests`, each checked; 400 naming the first bad one."""
    zone = ZoneInfo(tenant.config.time_zone)
    ids = _param(request, "service_request_id")
    codes = _param(request, "service_code")
    statuses = _param(request, "status")
    code_list: tuple[str, ...] | None = None
    if codes is not None:
        code_list = tuple(dict.fromkeys(c.strip() for c in codes.split(",") if c.strip()))
        for code in code_list:
            services.find(tenant, code)  # 404 for an unknown service
        if not code_list:
            raise bad_request("service_code is empty")
    status_list: tuple[str, ...] | None = None
    if statuses is not None:
        status_list = tuple(dict.fromkeys(s.strip().lower() for s in statuses.split(",") if s.strip()))
        if not status_list or not set(status_list) <= {"open", "closed"}:
            raise bad_request("status must be open, closed or both (comma-separated)")
    return fields.RequestQuery(
        ids=fields.request_ids(ids) if ids is not None else None,
        codes=code_list, statuses=status_list,
        start=_date(request, "start_date", zone), end=_date(request, "end_date", zone),
        updated_after=_date(request, "updated_after", zone), updated_before=_date(request, "updated_before", zone),
        page=_int(request, "page", 1, 1, 1_000_000),
        page_size=_int(request, "page_size", fields.MAX_PAGE_SIZE, 1, fields.MAX_PAGE_SIZE),
    )


def _date(request: Request, name: str, zone: ZoneInfo) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text) if 10 <= len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise bad_request(f"{name} must be a W3C date-time such as 2026-12-01T00:00:00Z")
    if value.tzinfo is None:  # a local time of the city
        value = value.replace(tzinfo=zone)
    if not 1900 <= value.year <= 9000:
        raise bad_request(f"{name} is out of range")
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not low <= int(text) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}")
    return int(text)


