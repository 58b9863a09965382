"""The staff ticket list: one statement, written out for both databases.

The list is the most frequently run read of the product, and with selective
filters the database answers it in 1–3 ms; building the same statement
through the ORM cost another 0.6 ms and more (query sets copied per filter,
expressions resolved, pypika rendering: see bench/README.md,
`search_bench.py`). So, like the outbox's claim (`engine/store/outbox_queue.py`),
it is written here, with every value a parameter and only constant names
spliced in.

    rows, next_cursor = await page(scope, tenant, user, filters, q=q, sort="created", cursor=None, limit=50, now=now)

What a page holds:

- **visibility** (mirrors `runtime.access.sees_ticket`): every ticket for a
  role that sees all; otherwise the tickets of the units the user's roles see,
  and the tickets holding a live task of a unit they work in;
- **filters**: state, public status, category, priority, responsible unit,
  overdue — `runtime.overdue.ticket_overdue` written in SQL: open, the SLA
  running (a paused one waits for the resident: its clocks and its tasks'
  stand still), and the ticket's own deadline or an active task's come;
- **q**: a ticket number finds that ticket; otherwise every word is a prefix,
  all must match (`search.py`); a query without words finds nothing;
- **keyset pages**: newest first (`created_at DESC, id DESC`) or due soonest
  first with undated tickets last (`due_at IS NULL, due_at, id`), continued
  after the opaque `search.Cursor` of the previous page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CITY_UNIT, CompiledTenant
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES, UserView
from komunikator.engine.service.errors import invalid
from komunikator.engine.service.search import (
    LIST_COLUMNS,
    SORTS,
    Cursor,
    ListedTicket,
    Sort,
    fts5_query,
    postgres_tsquery,
    query_tokens,
    ticket_number,
)
from komunikator.engine.store import db
from komunikator.engine.store.extras import FTS_TABLE, PG_DOCUMENT_VECTOR, PG_UNACCENT, SEARCH_TABLE
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope


@dataclass(frozen=True)
class ListFilters:
    """Structured filters of the ticket list."""

    state: str | None = None
    public_status: str | None = None
    category: str | None = None
    unit: str | None = None
    priority: str | None = None
    #: True: only overdue tickets; False: only the others; None: both
    overdue: bool | None = None


#: `ListFilters` fields that match a column, and their columns.
_MATCHED = (("state", "state"), ("public_status", "public_status"), ("category", "category"),
            ("priority", "priority"), ("unit", "responsible_unit"))


def visible_units(tenant: CompiledTenant, user: UserView) -> tuple[set[str], set[str]] | None:
    """(units whose tickets the user sees, units whose tasks' tickets they see); None: every ticket.

    Mirrors `runtime.access.sees_ticket`, as sets of units.
    """
    responsible: set[str] = set()
    tasks: set[str] = set()
    for m in user.memberships:
        role = tenant.roles.get(m.role)
        if role is None or (m.unit not in tenant.units and m.unit != CITY_UNIT):
            continue
        external = m.unit in tenant.units and tenant.units[m.unit].external
        subtree = set(tenant.unit_subtree.get(m.unit, ()))
        if role.sees == "all" and not external:
            return None
        tasks |= subtree
        if role.sees == "unit" and not external:
            responsible |= subtree
    return responsible, tasks


@dataclass
class _Statement:
    """A WHERE clause being written: its conditions and their parameters.

    Placeholders are numbered (`$n` on PostgreSQL, `?n` on SQLite), so text and
    parameters cannot drift apart whatever order the pieces are written in,
    and one value (the tenant's id) serves every place that needs it.
    """

    tenant_id: int
    postgres: bool
    params: list[Any] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    _tenant: str = ""

    def tenant(self) -> str:
        """The placeholder of the tenant's id (every table, subqueries included, is narrowed to it)."""
        if not self._tenant:
            self._tenant = self.value(self.tenant_id)
        return self._tenant

    def value(self, value: Any) -> str:
        """A placeholder for `value`."""
        if isinstance(value, datetime):  # as the ORM stores it (UTC)
            value = _DATETIME.to_db_value(value, Ticket)
        self.params.append(value)
        return f"{'$' if self.postgres else '?'}{len(self.params)}"

    def values(self, values: Iterable[Any]) -> str:
        """`(p1, p2, …)` for IN; never empty (callers handle the empty set)."""
        return "(" + ", ".join(self.value(v) for v in values) + ")"

    def where(self, condition: str) -> None:
        self.conditions.append(condition)


#: The statement builder, for the universal lists (engine/lists/query.py).
Statement = _Statement
_DATETIME = Ticket._meta.fields_map["created_at"]
_CONVERTERS = {name: Ticket._meta.fields_map[name].to_python_value for name in ("created_at", "due_at")}
_SELECT = ", ".join(f"t.{c}" for c in LIST_COLUMNS)
_ACTIVE_TASK_STATES = sorted(ACTIVE_TASK_STATES)


async def page(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, filters: ListFilters, *, q: str | None,
    sort: Sort, cursor: str | None, limit: int, now: datetime | None = None,
) -> tuple[list[ListedTicket], str | None]:
    """One page of the tickets `user` may see that pass `filters` and match `q`; and the next page's cursor.

    `now` is needed for `filters.overdue` (ValueError without it). Returns the
    rows (the list's columns only) and the cursor of the next page (None on the last one).
    """
    if sort not in SORTS:
        raise invalid(f"sort must be one of {', '.join(SORTS)}", "sort")
    after = Cursor.decode(cursor, sort) if cursor else None
    s = _Statement(scope.tenant_id, postgres=db.connection().capabilities.dialect == "postgres")
    s.where(f"t.tenant_id = {s.tenant()}")
    _visible(s, visible_units(tenant, user) if user.kind == "staff" else (set(), set()))
    for name, column in _MATCHED:
        wanted = getattr(filters, name)
        if wanted is not None:
            s.where(f"t.{column} = {s.value(wanted)}")
    if filters.overdue is not None:
        if now is None:
            raise ValueError("the overdue filter needs the time")
        late = overdue_condition(s, now)
        s.where(late if filters.overdue else f"NOT {late}")
    if q and q.strip():
        _matching(s, q)
    if after is not None:
        _after(s, after)
    order = "t.created_at DESC, t.id DESC" if sort == "created" else (
        "CASE WHEN t.due_at IS NULL THEN 1 ELSE 0 END, t.due_at, t.id")  # undated last, on both databases
    sql = (f"SELECT {_SELECT} FROM tickets t WHERE {' AND '.join(s.conditions)} "  # noqa: S608 - constants only
           f"ORDER BY {order} LIMIT {s.value(limit + 1)}")
    rows = await _fetch(sql, s)
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, Cursor(sort, last.created_at if sort == "created" else last.due_at, last.id).encode()


async def _fetch(sql: str, s: _Statement) -> list[ListedTicket]:
    client = db.connection()
    if s.postgres:
        # asyncpg's records as they come (timestamps already aware): no dict per row on the way
        async with client.acquire_connection() as connection:
            records = await connection.fetch(sql, *s.params)
        return [ListedTicket(*record) for record in records]
    raw = await client.execute_query_dict(sql, s.params)  # SQLite keeps timestamps as text
    return [ListedTicket(**{c: _CONVERTERS[c](r[c]) if c in _CONVERTERS else r[c] for c in LIST_COLUMNS})
            for r in raw]


def _visible(s: _Statement, scopes: tuple[set[str], set[str]] | None) -> None:
    condition = visible_condition(s, scopes)
    if condition is not None:
        s.where(condition)


def visible_condition(s: _Statement, scopes: tuple[set[str], set[str]] | None) -> str | None:
    """The condition on the ticket aliased `t` for `visible_units`' answer; None: every ticket."""
    if scopes is None:  # a role that sees every ticket
        return None
    responsible, task_units = scopes
    either: list[str] = []
    if responsible:
        either.append(f"t.responsible_unit IN {s.values(sorted(responsible))}")
    if task_units:  # one statement: the task condition stays a subquery, never a list in Python
        either.append(f"t.id IN (SELECT ticket_id FROM tasks WHERE tenant_id = {s.tenant()} "  # noqa: S608 - placeholders only
                      f"AND unit IN {s.values(sorted(task_units))} AND state <> 'cancelled')")
    return f"({' OR '.join(either)})" if either else "1 = 0"


def overdue_condition(s: _Statement, now: datetime) -> str:
    """`runtime.overdue.ticket_overdue` in SQL (two-valued: `NOT` of it finds every other ticket, undated ones too).

    Held equal to the runtime's definition by tests/search/test_overdue_reference.py.
    """
    moment = s.value(now)
    own = f"(t.due_at IS NOT NULL AND t.due_at <= {moment})"
    tasks = (f"t.id IN (SELECT ticket_id FROM tasks WHERE tenant_id = {s.tenant()} "  # noqa: S608 - placeholders only
             f"AND state IN {s.values(_ACTIVE_TASK_STATES)} AND due_at <= {moment})")
    return f"(t.closed_at IS NULL AND t.sla_paused_at IS NULL AND ({own} OR {tasks}))"


def task_overdue_condition(s: _Statement, now: datetime, task: str = "k", ticket: str = "t") -> str:
    """`runtime.overdue.task_overdue` in SQL, on a task aliased `task` joined to its ticket `ticket` (two-valued).

    Held equal to the runtime's definition by tests/search/test_overdue_reference.py (the tasks list).
    """
    return (f"({task}.state IN {s.values(_ACTIVE_TASK_STATES)} AND {ticket}.closed_at IS NULL "
            f"AND {ticket}.sla_paused_at IS NULL AND {task}.due_at IS NOT NULL AND {task}.due_at <= {s.value(now)})")


def _matching(s: _Statement, q: str) -> None:
    """A number exactly, otherwise every word as a prefix; a query of no words finds nothing.

    A number-shaped `q` is never searched as words (another tenant's number finds nothing).
    """
    s.where(matching_condition(s, q))


def matching_condition(s: _Statement, q: str) -> str:
    """`_matching`'s condition on the ticket aliased `t` (the universal lists use it too)."""
    number = ticket_number(q)
    if number is not None:
        return f"t.number = {s.value(number)}"
    tokens = query_tokens(q)
    if not tokens:
        return "1 = 0"
    # constant names and placeholders only
    if s.postgres:
        # the indexed column; unaccent on the query too, for letters the folding here leaves
        match = f"{PG_DOCUMENT_VECTOR} @@ to_tsquery('simple', {PG_UNACCENT}({s.value(postgres_tsquery(tokens))}))"
    else:
        match = f"id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {s.value(fts5_query(tokens))})"  # noqa: S608
    return f"t.id IN (SELECT ticket_id FROM {SEARCH_TABLE} WHERE tenant_id = {s.tenant()} AND {match})"  # noqa: S608


def _after(s: _Statement, cursor: Cursor) -> None:
    row = s.value(cursor.id)
    if cursor.sort == "created":  # newest first: created_at DESC, id DESC
        value = s.value(cursor.value)
        # a row comparison, as one condition: PostgreSQL bounds the index range scan with it even in a
        # generic plan of the prepared statement (spelt out with OR, the 6th run chose a full-text bitmap: 15×)
        s.where(f"(t.created_at, t.id) < ({value}, {row})")
    elif cursor.value is None:  # due soonest first, undated last: the cursor is in the undated tail
        s.where(f"t.due_at IS NULL AND t.id > {row}")
    else:
        value = s.value(cursor.value)
        s.where(f"(t.due_at > {value} OR (t.due_at = {value} AND t.id > {row}) OR t.due_at IS NULL)")


__all__ = ["ListFilters", "Statement", "matching_condition", "overdue_condition", "page", "task_overdue_condition",
           "visible_condition", "visible_units"]
