"""`POST requests`: an Open311 form becomes a `Submission` and enters the intake every channel goes through.

Numbering, validation (the category's attributes exactly as the portal's form
checks them, the location inside the city), the process, notifications and
`Idempotency-Key` are the intake's (`engine/service/intake.py`). What this
module adds: reading the form (`attribute[code]`, `attribute[code][]`),
turning text into the attribute's type, the api key, and the token the
answer carries. Any refusal writes nothing.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.open311 import keys, services
from komunikator.engine.open311.errors import Open311Error, bad_request, not_found
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import addresses, intake
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import Comment, Open311Client, Open311Token, Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: Parameters that take one value; anything else but `attribute[…]` is ignored (clients send extras).
SINGLE = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email",
          "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url", "locale")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_MEDIA_URL = re.compile(r"^https?://[^\s<>\"']{1,490}$")
_MAX_VALUE = 5000


def form_values(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]], set[str]]:
    """(single parameters, attribute values by code, codes sent as lists `[]`); 400 for a repeated single one."""
    single: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    listed: set[str] = set()
    for key, value in pairs:
        if len(value) > _MAX_VALUE:
            raise bad_request(f"{key[:80]} is longer than {_MAX_VALUE} characters")
        match = _ATTRIBUTE.match(key)
        if match:
            code = match.group(1)
            attributes.setdefault(code, []).append(value)
            if match.group(2):
                listed.add(code)
        elif key in SINGLE:
            if key in single:
                raise bad_request(f"{key} is given more than once")
            single[key] = value
    return single, attributes, listed


def coordinate(single: dict[str, str], name: str, low: float, high: float) -> float | None:
    """`lat` or `long` as a number within its range, or None when absent; 400 for anything else."""
    raw = single.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(f"{name} must be a number in decimal degrees (WGS 84)") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise bad_request(f"{name} must lie between {low:g} and {high:g}")
    return value


def typed_attributes(category: Any, attributes: dict[str, list[str]], listed: set[str]) -> dict[str, Any]:
    """Form text → the attribute's type (numbers, lists); the values themselves are checked by the intake."""
    specs = dict(services.public_attributes(category))
    typed: dict[str, Any] = {}
    for code, values in attributes.items():
        spec = specs.get(code)
        if spec is None:
            raise bad_request(f"service {category.name!r} has no attribute {code!r}")
        if spec.type == "multichoice":
            typed[code] = [v for v in values if v != ""]
            continue
        if len(values) > 1 or code in listed:
            raise bad_request(f"attribute {code!r} takes one value (attribute[{code}]), not a list")
        value = values[0]
        if value == "":
            continue  # an empty field of the form: not answered
        typed[code] = _number(code, value) if spec.type == "number" else value
    return typed


def _number(code: str, raw: str) -> int | float:
    text = raw.strip()
    try:
        value: int | float = int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else float(text)
    except ValueError:
        raise bad_request(f"attribute {code!r}: expected a number, got {raw[:40]!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"attribute {code!r}: expected a finite number")
    return value


def submission(tenant: CompiledTenant, single: dict[str, str], attributes: dict[str, list[str]],
               listed: set[str], point: addresses.AddressHit | None = None) -> intake.Submission:
    """The intake's `Submission` from the form; 400/404 for what the form gets wrong. `point`: the address
    the form's `address_id` names (its point is the pin unless `lat`/`long` are given; its label is the
    address unless `address_string` is)."""
    code = single.get("service_code", "").strip()
    if not code:
        raise bad_request("service_code is required")
    category = services.find(tenant, code)
    lat = coordinate(single, "lat", -90, 90)
    lon = coordinate(single, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise bad_request("give both lat and long, or neither")
    address = single.get("address_string", "").strip() or None
    if point is not None:
        lat, lon = (point.lat, point.lon) if lat is None else (lat, lon)
        address = address or point.label
    if lat is None and address is None:
        raise bad_request("a location is required: lat and long, address_string or address_id")
    name = " ".join(p for p in (single.get("first_name", "").strip(), single.get("last_name", "").strip()) if p)
    contact = {"name": name or None, "email": single.get("email", "").strip() or None,
               "phone": single.get("phone", "").strip() or None}
    description = single.get("description", "").strip()
    if not description:
        raise bad_request("description is required")
    media = single.get("media_url", "").strip()
    if media and not _MEDIA_URL.match(media):
        raise bad_request("media_url must be an http(s) URL of at most 500 characters")
    try:
        return intake.Submission(
            category=category.name, description=description,
            attributes=typed_attributes(category, attributes, listed), lat=lat, lon=lon, address=address,
            reporter=intake.ReporterIn(**contact) if any(contact.values()) else None,
            locale=single.get("locale") or None,
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise bad_request(f"{_PARAMETER.get(where, where)}: {first.get('msg', 'invalid')}") from None


async def address_of(scope: TenantScope, address_id: str) -> addresses.AddressHit | None:
    """The city's address point `address_id` names (the register's identifier, `ref` in /api/v1/addresses);
    None when none is given; 400 when it names none of this city's."""
    if not address_id.strip():
        return None
    point = await addresses.by_ref(scope, address_id)
    if point is None:
        raise bad_request(f"address_id {address_id.strip()[:64]!r} is not an address of this city (the "
                          f"identifiers are the register's: `ref` in /api/v1/addresses)")
    return point


#: The intake's field names → the Open311 parameter a client sent.
_PARAMETER = {"lon": "long", "address": "address_string", "reporter.email": "email", "reporter.phone": "phone",
              "reporter.name": "first_name/last_name", "category": "service_code"}


def check_jurisdiction(tenant: CompiledTenant, given: str | None) -> None:
    """`jurisdiction_id` is optional (each city has its own host); given, it must name this city."""
    if given is not None and given.strip() and given.strip().lower() not in _jurisdictions(tenant):
        raise not_found(f"jurisdiction {given[:64]!r}")


def _jurisdictions(tenant: CompiledTenant) -> set[str]:
    return {tenant.slug, *(h.lower() for h in tenant.config.hosts)}


async def post(scope: TenantScope, tenant: CompiledTenant, pairs: Sequence[tuple[str, str]], *, now: datetime,
               idempotency_key: str | None = None) -> list[dict[str, Any]]:
    """Make a report from an Open311 form; the spec's answer `[{service_request_id, token, …}]`."""
    single, attributes, listed = form_values(pairs)
    client = await keys.authenticate(scope, single.get("api_key"), now)
    check_jurisdiction(tenant, single.get("jurisdiction_id"))
    sub = submission(tenant, single, attributes, listed, await address_of(scope, single.get("address_id", "")))
    media = single.get("media_url", "").strip() or None
    actor = UserView("anonymous", (), "resident", f"Open311: {client.name}")
    made: dict[str, dict[str, Any]] = {}

    async def render(ticket: Ticket) -> dict[str, Any]:  # inside the intake's transaction (with a key)
        made["answer"] = await _answer(scope, ticket, client, media, now)
        return {"open311": [made["answer"]]}

    try:
        ticket, replay = await intake.submit(
            scope, tenant, sub, channel="open311", actor=actor, reporter_user_id=None, now=now,
            idempotency_key=f"open311:{client.id}:{idempotency_key}" if idempotency_key else None, render=render,
        )
    except ServiceError as error:
        raise _as_open311(error) from None
    if replay is not None:
        return list(replay.get("open311", []))
    assert ticket is not None  # noqa: S101 - intake returns a ticket or a replay
    if "answer" not in made:
        async with transaction():
            made["answer"] = await _answer(scope, ticket, client, media, now)
    await keys.touch(scope, client, now)
    return [made["answer"]]


async def _answer(scope: TenantScope, ticket: Ticket, client: Open311Client, media: str | None,
                  now: datetime) -> dict[str, Any]:
    """The token row (GET tokens), the media URL as a note for staff (never fetched), the spec's answer."""
    token = secrets.token_urlsafe(18)
    await scope.create(Open311Token, token=token, ticket=ticket, client=client, created_at=now)
    if media is not None:
        await scope.create(Comment, ticket=ticket, visibility="internal", created_at=now,
                           body=f"Open311 media_url ({client.name}): {media}")
    return {"service_request_id": ticket.number, "token": token, "service_notice": None, "account_id": None}


def _as_open311(error: ServiceError) -> Open311Error:
    """The intake's refusal in the spec's terms: a missing category is 404, a rate limit 429, the rest 400."""
    if error.status == 404 or error.code == "unknown_category":
        return Open311Error(404, "service not found")
    return Open311Error(429 if error.status == 429 else 400, error.message)


async def token_request(scope: TenantScope, token: str) -> list[dict[str, Any]]:
    """`GET tokens/{token}`: `[{token, service_request_id}]`; 404 for an unknown token."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token):
        raise not_found("token")
    row = await scope.query(Open311Token).filter(token=token).values("ticket__number")
    if not row:
        raise not_found("token")
    return [{"service_request_id": row[0]["ticket__number"], "token": token}]
