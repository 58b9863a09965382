"""The list engine: a declared list, a checked filter, a sort and a cursor → one SQL statement.

    result = await page(scope, tenant, user, spec, flt, sort, columns, after=None, limit=50, now=now)
    result.rows, result.next_cursor, result.total, result.estimated

Like the ticket list (`service/ticket_list.py`, whose statement builder and
visibility this reuses), the statement is written out for both databases
with every value a parameter and only declared, constant SQL spliced in.

- **Visibility** is always part of the statement, after the filter: the
  list's `visible` condition (`declared.py`), the same rule as the API.
- **Sort**: up to `MAX_SORT` columns, each ascending or descending; NULLs
  come **last in every direction**, on both databases (`CASE WHEN … IS
  NULL`); the row's id breaks ties (in the first key's direction), so the
  order is total and pages never repeat or skip a row.
- **Keyset pages** for any sort: the cursor holds the last row's sort
  values and id; the next page starts strictly after that tuple.
- **Total**: counted exactly up to `EXACT_COUNT`; above it, PostgreSQL's
  planner estimate, flagged `estimated` (SQLite counts exactly).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.filters import Condition, Filter, Group
from komunikator.engine.lists.spec import Column, ListSpec, Sql
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.service.ticket_list import Statement
from komunikator.engine.store import db
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope

MAX_SORT = 4
MAX_COLUMNS = 60
MAX_LIMIT = 5000  # a page of the API is at most 500 rows; exports read 1000 at a time
EXACT_COUNT = 10_000
_DATETIME = Ticket._meta.fields_map["created_at"]


@dataclass(frozen=True)
class SortKey:
    """One column of the sort and its direction."""

    column: Column
    descending: bool

    @property
    def text(self) -> str:
        """As written in the URL: `-created_at` for descending."""
        return ("-" if self.descending else "") + self.column.key


def parse_sort(spec: ListSpec, text: str | None) -> tuple[SortKey, ...]:
    """`-created_at,priority` → the sort keys (the list's default when empty); 422 on a mistake."""
    if not text or not text.strip():
        return tuple(SortKey(spec.column(key), desc) for key, desc in spec.default_sort  # type: ignore[arg-type]
                     if spec.column(key) is not None)
    keys: list[SortKey] = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        column = spec.column(name.lstrip("-+"))
        if column is None or not column.sortable:
            raise invalid(f"the list {spec.name} cannot be sorted by {name.lstrip('-+')!r}", "sort")
        if any(k.column.key == column.key for k in keys):
            raise invalid(f"{column.key!r} appears twice in the sort", "sort")
        keys.append(SortKey(column, descending))
    if len(keys) > MAX_SORT:
        raise invalid(f"sort by at most {MAX_SORT} columns", "sort")
    return tuple(keys)


def sort_text(keys: Sequence[SortKey]) -> str:
    """The sort as written in the URL."""
    return ",".join(k.text for k in keys)


def parse_columns(spec: ListSpec, text: str | None) -> tuple[Column, ...]:
    """`number,state,attr.size` → the columns in that order (the defaults when empty); 422 on a mistake."""
    if not text or not text.strip():
        return tuple(c for c in spec.columns if c.default)
    chosen: list[Column] = []
    for part in text.split(","):
        column = spec.column(part.strip())
        if column is None:
            raise invalid(f"the list {spec.name} has no column {part.strip()!r}", "columns")
        if column not in chosen:
            chosen.append(column)
    if len(chosen) > MAX_COLUMNS:
        raise invalid(f"at most {MAX_COLUMNS} columns", "columns")
    return tuple(chosen)


# -- the statement ------------------------------------------------------------------------------


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _number(q: Sql, value: float) -> str:
    return f"CAST({q.s.value(float(value))} AS {'double precision' if q.postgres else 'REAL'})"


def _condition(q: Sql, c: Condition) -> str:
    f, op, v = c.field, c.op, c.value
    e = f.sql(q)
    if op in ("is_empty", "is_not_empty"):
        empty = f"({e} IS NULL OR {e} = '')" if f.type == "text" else (
            f"({e} IS NULL OR {e} = '[]')" if f.multi else f"{e} IS NULL")
        return empty if op == "is_empty" else f"NOT {empty}"
    if f.multi and f.holds is not None:
        held = f.holds(q, [v] if op in ("eq", "ne") else list(v))
        return held if op in ("eq", "in") else f"NOT {held}"
    if f.type == "bool":
        return f"({e})" if v else f"NOT ({e})"
    if f.type == "date":
        zone = ZoneInfo(q.tenant.config.time_zone)
        if op == "before":
            return f"{e} < {q.s.value(_start_of(v, zone))}"
        if op == "after":
            return f"{e} >= {q.s.value(_start_of(v + timedelta(days=1), zone))}"
        if op == "between":
            low, high = _start_of(v[0], zone), _start_of(v[1] + timedelta(days=1), zone)
            return f"({e} >= {q.s.value(low)} AND {e} < {q.s.value(high)})"
        return f"{e} >= {q.s.value(q.now - timedelta(days=v))}"  # last_n_days
    if f.type == "number":
        if op == "between":
            return f"({e} >= {_number(q, v[0])} AND {e} <= {_number(q, v[1])})"
        return f"{e} {({'eq': '=', 'gt': '>', 'lt': '<'})[op]} {_number(q, v)}"
    if op == "contains":
        return f"{'strpos' if q.postgres else 'instr'}({e}, {q.s.value(v)}) > 0"
    if op == "starts_with":
        return f"substr({e}, 1, {q.s.value(len(v))}) = {q.s.value(v)}"
    if op == "eq":
        return f"{e} = {q.s.value(v)}"
    if op == "ne":
        return f"({e} IS NULL OR {e} <> {q.s.value(v)})"
    if op == "in":
        return f"{e} IN {q.s.values(v)}"
    if op == "not_in":
        return f"({e} IS NULL OR {e} NOT IN {q.s.values(v)})"
    raise ServiceError(422, "invalid_filter", f"unknown operator {op!r}", field="filter")


def _group(q: Sql, group: Group) -> str | None:
    parts = [p for p in (_condition(q, i) if isinstance(i, Condition) else _group(q, i) for i in group.items) if p]
    if not parts:
        return None
    return "(" + (" OR " if group.any else " AND ").join(parts) + ")"


@dataclass
class _Query:
    q: Sql
    conditions: list[str]


async def _statement(scope: TenantScope, tenant: CompiledTenant, user: UserView, spec: ListSpec, flt: Filter,
                     now: datetime) -> _Query:
    s = Statement(scope.tenant_id, postgres=db.connection().capabilities.dialect == "postgres")
    q = Sql(s, now, tenant)
    conditions = [f"{spec.row_alias}.tenant_id = {s.tenant()}"]
    if spec.where:
        conditions.append(spec.where)
    filtered = _group(q, flt.root)
    if filtered:
        conditions.append(filtered)
    if flt.q and spec.search is not None:
        conditions.append(spec.search(q, flt.q))
    conditions.append(spec.visible(q, user))  # always, after the filter: the API's rule
    return _Query(q, conditions)


# -- cursors ------------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("t"), str):
        return datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise ValueError("not a cursor value")


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any], row_id: int) -> str:
    """Opaque, URL-safe: the sort, the last row's sort values and its id."""
    raw = json.dumps([sort_text(keys), [_encode_value(v) for v in values], row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, keys: Sequence[SortKey]) -> tuple[list[Any], int]:
    """The sort values and id in a cursor of this sort; 422 otherwise."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        sort, values, row_id = raw
        decoded = [_decode_value(v) for v in values]
        if type(row_id) is not int or not isinstance(sort, str) or len(decoded) != len(keys):
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise invalid("the cursor is not valid; start again from the first page", "after") from None
    if sort != sort_text(keys):
        raise invalid("the cursor belongs to another sort order; start again from the first page", "after")
    return decoded, row_id


def _sort_expression(q: Sql, key: SortKey) -> str:
    """What a key sorts by; text in code point order on both databases (PostgreSQL's collation may differ)."""
    if key.column.sort_sql is not None:
        return key.column.sort_sql(q)
    e = key.column.sql(q)
    return f'({e}) COLLATE "C"' if q.postgres and key.column.render in ("text", "choice", "ticket_link") else e


def _nullable(key: SortKey) -> bool:
    return key.column.nullable or key.column.sort_sql is not None


def _keyset(q: Sql, spec: ListSpec, keys: Sequence[SortKey], values: list[Any], row_id: int) -> str:
    """Rows strictly after (values, id) in the order: NULLs last in each key, id in the first key's direction.

    When no key can be NULL and all run in the tie-breaker's direction, one row comparison
    (`(a, b, id) < (…)`), which PostgreSQL bounds an index scan with; otherwise spelt out.
    """
    first_desc = keys[0].descending if keys else False
    sign = "<" if first_desc else ">"
    if all(not _nullable(k) and k.descending == first_desc for k in keys) and None not in values:
        left = [_sort_expression(q, k) for k in keys] + [spec.id_sql]
        right = [_number(q, v) if k.column.render == "number" else q.s.value(v)
                 for k, v in zip(keys, values, strict=True)] + [q.s.value(row_id)]
        return f"({', '.join(left)}) {sign} ({', '.join(right)})"
    either: list[str] = []
    equal: list[str] = []
    for key, value in zip(keys, values, strict=True):
        e = _sort_expression(q, key)
        if value is None:  # in the NULL tail of this key: nothing sorts after it within the key
            equal.append(f"{e} IS NULL")
            continue
        p = q.s.value(value)
        if key.column.render == "number" and key.column.sort_sql is None:
            p = _number(q, value)
        tail = f" OR {e} IS NULL" if _nullable(key) else ""
        either.append(" AND ".join([*equal, f"({e} {'<' if key.descending else '>'} {p}{tail})"]))
        equal.append(f"{e} = {p}")
    either.append(" AND ".join([*equal, f"{spec.id_sql} {sign} {q.s.value(row_id)}"]))
    return "(" + " OR ".join(f"({p})" for p in either) + ")"


def _order(q: Sql, spec: ListSpec, keys: Sequence[SortKey]) -> str:
    parts: list[str] = []
    for key in keys:
        e = _sort_expression(q, key)
        if _nullable(key):
            parts.append(f"CASE WHEN {e} IS NULL THEN 1 ELSE 0 END")
        parts.append(f"{e} {'DESC' if key.descending else 'ASC'}")
    parts.append(f"{spec.id_sql} {'DESC' if keys and keys[0].descending else 'ASC'}")
    return ", ".join(parts)


# -- rows ---------------------------------------------------------------------------------------


def _python(column: Column, value: Any) -> Any:
    if value is None:
        return None
    render = column.render
    if render == "datetime":
        return _DATETIME.to_python_value(value) if isinstance(value, str) else value
    if render == "number":
        number = float(value)
        return int(number) if number.is_integer() else number
    if render == "bool":
        return bool(value)
    if column.multi and isinstance(value, str):
        try:
            items = json.loads(value)
        except ValueError:
            return [value]
        return [str(i) for i in items] if isinstance(items, list) else [str(items)]
    return value if isinstance(value, str) else str(value)


def _as_is(column: Column, postgres: bool) -> bool:
    """Whether the driver's value is already the Python one: PostgreSQL's text and timestamps (asyncpg types them)."""
    return postgres and not column.multi and column.render in ("text", "choice", "ticket_link", "datetime")


def _rows(raw: list[Any], columns: Sequence[Column], postgres: bool) -> list[Row]:
    """The rows' values (selected as `row_id, c0, c1, …`), converted only where the driver's type is not ours."""
    width = len(columns)
    convert = [(n, c) for n, c in enumerate(columns) if not _as_is(c, postgres)]
    if postgres and not convert:  # asyncpg's records: the row's values as they come, sliced
        return [Row(int(r[0]), tuple(r)[1:width + 1]) for r in raw]
    found: list[Row] = []
    for r in raw:
        values = tuple(r.values() if isinstance(r, dict) else r)[1:width + 1]
        if convert:
            changed = list(values)
            for n, column in convert:
                changed[n] = _python(column, changed[n])
            values = tuple(changed)
        found.append(Row(int(r["row_id"]), values))
    return found


@dataclass(frozen=True)
class Row:
    """One row of a list: its id and the chosen columns' values (Python types)."""

    id: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    """A page of a list and where the next one starts."""

    columns: tuple[Column, ...]
    sort: tuple[SortKey, ...]
    rows: list[Row]
    next_cursor: str | None
    total: int | None
    estimated: bool


async def _fetch(sql: str, q: Sql) -> list[Any]:
    """Rows by column name: asyncpg's records as they come on PostgreSQL (no dict per row), dicts on SQLite."""
    client = db.connection()
    if q.postgres:
        async with client.acquire_connection() as connection:
            return list(await connection.fetch(sql, *q.s.params))
    return await client.execute_query_dict(sql, q.s.params)


def _select(q: Sql, spec: ListSpec, columns: Sequence[Column], keys: Sequence[SortKey]) -> str:
    chosen = [f"{c.sql(q)} AS c{n}" for n, c in enumerate(columns)]
    sorted_by = [f"{_sort_expression(q, k)} AS s{n}" for n, k in enumerate(keys)]
    return ", ".join([f"{spec.id_sql} AS row_id", *chosen, *sorted_by])


async def page(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, spec: ListSpec, flt: Filter,
    keys: Sequence[SortKey], columns: Sequence[Column], *, after: str | None, limit: int, now: datetime,
    count: bool = True,
) -> Page:
    """One page of the list as `user` may see it; with the total when `count`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIMIT}", "limit")
    built = await _statement(scope, tenant, user, spec, flt, now)
    q = built.q
    where = list(built.conditions)
    total: int | None = None
    estimated = False
    if count:
        total, estimated = await _count(q, spec, where)
    if after:
        values, row_id = decode_cursor(after, keys)
        where.append(_keyset(q, spec, keys, values, row_id))
    sql = (f"SELECT {_select(q, spec, columns, keys)} FROM {spec.source} WHERE {' AND '.join(where)} "  # noqa: S608
           f"ORDER BY {_order(q, spec, keys)} LIMIT {q.s.value(limit + 1)}")
    raw = await _fetch(sql, q)
    more = len(raw) > limit
    raw = raw[:limit]
    rows = _rows(raw, columns, q.postgres)
    cursor = None
    if more and raw:
        last = raw[-1]
        sort_values = [_sort_value(k, last[f"s{n}"]) for n, k in enumerate(keys)]
        cursor = encode_cursor(keys, sort_values, int(last["row_id"]))
    return Page(tuple(columns), tuple(keys), rows, cursor, total, estimated)


def _sort_value(key: SortKey, value: Any) -> Any:
    if key.column.sort_sql is None and key.column.render == "datetime" and isinstance(value, str):
        return _DATETIME.to_python_value(value)  # SQLite keeps timestamps as text
    return value


async def _count(q: Sql, spec: ListSpec, where: list[str]) -> tuple[int, bool]:
    body = f"FROM {spec.source} WHERE {' AND '.join(where)}"
    if q.postgres:
        limited = f"SELECT COUNT(*) AS n FROM (SELECT 1 {body} LIMIT {EXACT_COUNT + 1}) x"  # noqa: S608
        n = int((await _fetch(limited, q))[0]["n"])
        if n <= EXACT_COUNT:
            return n, False
        plan = await _fetch(f"EXPLAIN (FORMAT JSON) SELECT 1 {body}", q)
        document = next(iter(plan[0].values()))
        estimate = int((json.loads(document) if isinstance(document, str) else document)[0]["Plan"]["Plan Rows"])
        return max(estimate, EXACT_COUNT + 1), True
    return int((await _fetch(f"SELECT COUNT(*) AS n {body}", q))[0]["n"]), False


async def rows(
    scope: TenantScope, tenant: CompiledTenant, user: UserView, spec: ListSpec, flt: Filter,
    keys: Sequence[SortKey], columns: Sequence[Column], *, now: datetime, batch: int = 1000,
) -> AsyncIterator[Row]:
    """Every row of the view, in order, read page by page (keyset): memory stays flat however many there are."""
    after: str | None = None
    while True:
        result = await page(scope, tenant, user, spec, flt, keys, columns, after=after, limit=batch, now=now,
                            count=False)
        for row in result.rows:
            yield row
        if result.next_cursor is None:
            return
        after = result.next_cursor


__all__ = ["EXACT_COUNT", "MAX_SORT", "Page", "Row", "SortKey", "decode_cursor", "encode_cursor", "page",
           "parse_columns", "parse_sort", "rows", "sort_text"]
