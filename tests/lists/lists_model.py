"""A Python model of the universal lists, written apart from the engine's SQL: the rows each list holds,
who may read each (asking `runtime.access` and `runtime.capabilities`), a filter document evaluated over
them, and the documented order (NULLs last in every direction, the id in the first key's direction)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.declared import list_spec
from komunikator.engine.lists.spec import ListSpec
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.capabilities import capabilities
from komunikator.engine.runtime.overdue import task_overdue, ticket_overdue
from komunikator.engine.runtime.views import Membership, TicketView, UserView
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.engine.service.row_views import ticket_view, unpack_attribute
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

END = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
NOW = END + timedelta(days=20)  # some deadlines passed, some not
EVERYONE = UserView("9", (Membership("bom", "dispatcher"),), "staff", "x")


@functools.cache
def zgierz() -> CompiledTenant:
    """The shipped Zgierz, compiled once."""
    return TenantRegistry.load(Settings.from_env()).tenants["zgierz"]


def spec(name: str) -> ListSpec:
    """A declared list of Zgierz."""
    found = list_spec(zgierz(), name)
    assert found is not None
    return found


async def seeded_town() -> dict[str, Any]:
    """Zgierz seeded with 40 tickets (and their tasks, comments, history), and the model's rows of each list."""
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, zgierz(), demo_staff("zgierz"), count=40, seed=3, end=END)
    return {"tickets": await ticket_rows(scope, zgierz(), NOW), "tasks": await task_rows(scope, NOW),
            "comments": await comment_rows(scope), "scope": scope}


def expected(name: str, rows: list[ModelRow], user: UserView, doc: Mapping[str, Any],
             sort: list[tuple[str, bool]]) -> list[int]:
    """The ids the list should show `user`: readable, kept by the filter, in the documented order."""
    tenant = zgierz()
    kept = [r for r in rows if readable(name, tenant, user, r, NOW)
            and holds(spec(name), doc, r.values, tenant.config.time_zone, NOW)]
    return ordered(kept, sort, SORT_VALUES)


@dataclass
class ModelRow:
    """A row of a list in the model: its id, field values, and who reads it."""

    id: int
    values: dict[str, Any]
    ticket: TicketView | None
    extra: dict[str, Any]


async def ticket_rows(scope: TenantScope, tenant: CompiledTenant, now: datetime) -> list[ModelRow]:
    """Every ticket with the tickets list's field values."""
    out = []
    for t in await scope.tickets().order_by("id"):
        view = await ticket_view(scope, t)
        values: dict[str, Any] = {
            "number": t.number, "category": t.category, "state": t.state, "public_status": t.public_status,
            "unit": t.responsible_unit, "priority": t.priority, "channel": t.channel, "created_at": t.created_at,
            "due_at": t.due_at, "closed_at": t.closed_at, "overdue": ticket_overdue(view, now),
            "address": t.address, "description": t.description,
        }
        for a in await scope.ticket_attributes().filter(ticket_id=t.id):
            values[f"attr.{a.name}"] = unpack_attribute(a.value)
        out.append(ModelRow(t.id, values, view, {}))
    return out


async def _names(scope: TenantScope) -> dict[int | None, str | None]:
    """How the lists name users: the display name, else the e-mail."""
    names: dict[int | None, str | None] = {None: None}
    for u in await scope.users():
        names[u.id] = u.display_name or u.email
    return names


#: The sort columns whose values are not the field of the same name.
SORT_VALUES = {"assignee": "assignee_name", "author": "author_name"}


async def task_rows(scope: TenantScope, now: datetime) -> list[ModelRow]:
    """Every task with the tasks list's field values."""
    out = []
    names = await _names(scope)
    views: dict[int, TicketView] = {}
    for k in await scope.tasks().order_by("id"):
        ticket = await scope.tickets().get(id=k.ticket_id)  # type: ignore[attr-defined]
        if ticket.id not in views:
            views[ticket.id] = await ticket_view(scope, ticket)
        view = views[ticket.id]
        late = task_overdue(view, next(t for t in view.tasks if t.key == k.key), now)  # the runtime's rule
        values = {"ticket": ticket.number, "key": k.key, "unit": k.unit, "state": k.state,
                  "assignee": k.assignee_id, "due_at": k.due_at, "created_at": k.created_at,  # type: ignore[attr-defined]
                  "overdue": late, "ticket_unit": ticket.responsible_unit, "category": ticket.category,
                  "assignee_name": names[k.assignee_id]}  # type: ignore[attr-defined]
        out.append(ModelRow(k.id, values, views[ticket.id], {"key": k.key}))
    return out


async def comment_rows(scope: TenantScope) -> list[ModelRow]:
    """Every comment with the comments list's field values."""
    out = []
    names = await _names(scope)
    views: dict[int, TicketView] = {}
    for c in await scope.comments().order_by("id"):
        ticket = await scope.tickets().get(id=c.ticket_id)  # type: ignore[attr-defined]
        if ticket.id not in views:
            views[ticket.id] = await ticket_view(scope, ticket)
        task_unit = None
        if c.task_id is not None:  # type: ignore[attr-defined]
            task_unit = (await scope.tasks().get(id=c.task_id)).unit  # type: ignore[attr-defined]
        values = {"ticket": ticket.number, "created_at": c.created_at, "visibility": c.visibility,
                  "author": c.author_id, "target_unit": c.target_unit, "body": c.body,  # type: ignore[attr-defined]
                  "ticket_unit": ticket.responsible_unit, "author_name": names[c.author_id]}  # type: ignore[attr-defined]
        out.append(ModelRow(c.id, values, views[ticket.id], {"task_unit": task_unit}))
    return out


def readable(name: str, tenant: CompiledTenant, user: UserView, row: ModelRow, now: datetime) -> bool:
    """Whether `user` reads the row, as the runtime decides it."""
    assert row.ticket is not None
    if name == "tickets":
        return sees_ticket(tenant, user, row.ticket)
    caps = capabilities(tenant, row.ticket, user, now)
    if not caps.sees_ticket:
        return False
    if name == "tasks":
        return caps.task(row.extra["key"]) is not None
    assert name == "comments"
    author = row.values["author"]
    return caps.sees_comment(row.values["visibility"], by_user=author is not None and str(author) == user.id,
                             task_unit=row.extra["task_unit"], target_unit=row.values["target_unit"])


# -- the filter ---------------------------------------------------------------------------------


def _start(day: str, zone: ZoneInfo, plus: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day) + timedelta(days=plus), time(0), zone).astimezone(UTC)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def holds(spec: ListSpec, doc: Mapping[str, Any], row: Mapping[str, Any], zone: str, now: datetime) -> bool:
    """Whether a row passes a filter document (the root or any group)."""
    results = [holds(spec, item, row, zone, now) if "conditions" in item else
               _condition(spec, item, row, ZoneInfo(zone), now) for item in doc.get("conditions", [])]
    return any(results) if doc.get("match") == "any" else all(results)


def _condition(
    spec: ListSpec, c: Mapping[str, Any], row: Mapping[str, Any], zone: ZoneInfo, now: datetime,
) -> bool:
    field = spec.field(c["field"])
    assert field is not None
    op, v = c["op"], c.get("value")
    x = row.get(c["field"])
    kind = field.type
    if kind == "number":
        x = _number(x)
    if field.multi:
        items = x if isinstance(x, list) else []
        if op in ("is_empty", "is_not_empty"):
            return (not items) == (op == "is_empty")
        wanted = [v] if op in ("eq", "ne") else v
        hit = any(i in wanted for i in items)
        return hit if op in ("eq", "in") else not hit
    if op == "is_empty":
        return x is None or (kind == "text" and x == "")
    if op == "is_not_empty":
        return not (x is None or (kind == "text" and x == ""))
    if kind == "reference" and field.choices is None:
        v = [int(i) for i in v] if isinstance(v, list) else int(v)
    if op == "ne":
        return x is None or x != v
    if op == "not_in":
        return x is None or x not in v
    if x is None:
        return False
    if kind == "bool":
        return bool(x) == v
    if op == "eq":
        return x == v
    if op == "in":
        return x in v
    if op == "contains":
        return v in x
    if op == "starts_with":
        return str(x).startswith(v)
    if op == "before":
        return x < _start(v, zone)
    if op == "after":
        return x >= _start(v, zone, 1)
    if op == "last_n_days":
        return x >= now - timedelta(days=v)
    if op == "gt":
        return x > v
    if op == "lt":
        return x < v
    if op == "between":
        if kind == "date":
            return _start(v[0], zone) <= x < _start(v[1], zone, 1)
        return v[0] <= x <= v[1]
    raise AssertionError(op)


# -- the order ----------------------------------------------------------------------------------


def _sort_value(key: str, value: Any) -> Any:
    if key == "priority" and value is not None:
        return PRIORITIES.index(value)
    return value


def ordered(rows: list[ModelRow], sort: list[tuple[str, bool]], columns: Mapping[str, str]) -> list[int]:
    """Row ids in the documented order; `columns` maps a sort column to the row value it reads."""

    def compare(a: ModelRow, b: ModelRow) -> int:
        for key, descending in sort:
            x, y = (_sort_value(key, r.values.get(columns.get(key, key))) for r in (a, b))
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1  # NULLs last, whatever the direction
            smaller = x < y
            return (1 if smaller else -1) if descending else (-1 if smaller else 1)
        first_desc = sort[0][1] if sort else False
        return (b.id - a.id) if first_desc else (a.id - b.id)

    return [r.id for r in sorted(rows, key=functools.cmp_to_key(compare))]
