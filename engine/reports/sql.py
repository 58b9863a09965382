"""A report as SQL: one aggregate statement, GROUP BY in the database, for PostgreSQL and SQLite alike.

    WITH buckets(k, s, e) AS (VALUES …),            -- the time dimension's buckets (UTC bounds), if any
         base AS (SELECT <dimensions> AS d0, d1, <per-row values> FROM … WHERE <tenant, period, visibility,
                  filters>)
    SELECT d0, d1, COUNT(*), SUM(open), … FROM base GROUP BY d0, d1

Percentiles (median, p90) are PostgreSQL's `percentile_cont` in the same
statement. SQLite has no ordered-set aggregates: `percentile_statement` ranks
each group's values with window functions (`ROW_NUMBER`, `COUNT`) and
interpolates between the two ranks around `p·(n−1)` exactly as
`percentile_cont` does (`lo + (hi − lo)·frac`), so both databases return the
same numbers (durations are whole seconds on both).

Only constant names and numbered placeholders are spliced into the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports.periods import Bucket
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES, UserView
from komunikator.engine.schema.reports import DURATION_MEASURES, TIME_DIMENSIONS, Report
from komunikator.engine.service.ticket_list import visible_units
from komunikator.engine.store.models import Ticket

_DATETIME = Ticket._meta.fields_map["created_at"]
#: Map squares of `area`: 1/100 degree of latitude (1.1 km) by 1/50 of longitude (1.4 km in Poland).
AREA_LAT_STEPS, AREA_LON_STEPS = 100, 50


@dataclass
class Statement:
    """Parameters of a statement being written; placeholders are numbered (`$n` / `?n`)."""

    postgres: bool
    params: list[Any] = field(default_factory=list)

    def value(self, value: Any) -> str:
        """A placeholder for `value` (timestamps as the ORM stores them)."""
        if isinstance(value, datetime):
            value = _DATETIME.to_db_value(value, Ticket)
        self.params.append(value)
        return f"{'$' if self.postgres else '?'}{len(self.params)}"

    def values(self, values: list[Any]) -> str:
        """`(p1, p2, …)`; never empty (callers handle the empty set)."""
        return "(" + ", ".join(self.value(v) for v in values) + ")"

    def text(self, value: str) -> str:
        """A placeholder typed as text (PostgreSQL cannot infer a selected parameter's type)."""
        return f"CAST({self.value(value)} AS text)" if self.postgres else self.value(value)

    def timestamp(self, value: datetime) -> str:
        """A placeholder typed as a timestamp (PostgreSQL cannot infer it inside VALUES)."""
        return f"CAST({self.value(value)} AS timestamptz)" if self.postgres else self.value(value)

    def epoch(self, expression: str) -> str:
        """Whole seconds since 1970 of a timestamp expression (equal on both databases)."""
        if self.postgres:
            return f"CAST(floor(EXTRACT(EPOCH FROM {expression})) AS bigint)"
        return f"CAST(strftime('%s', {expression}) AS INTEGER)"

    def floor(self, expression: str) -> str:
        """`floor(x)` as an integer (SQLite 3.40 has no floor: truncation, minus one below zero)."""
        if self.postgres:
            return f"CAST(floor({expression}) AS bigint)"
        return f"(CAST({expression} AS INTEGER) - ({expression} < CAST({expression} AS INTEGER)))"


#: Per source: the FROM clause and the column holding each row's date.
_FROM = {
    "tickets": ("tickets t", "t.created_at"),
    "tasks": ("tasks k JOIN tickets t ON t.id = k.ticket_id", "k.created_at"),
    "task_events": ("task_assignments a JOIN tasks k ON k.id = a.task_id JOIN tickets t ON t.id = k.ticket_id",
                    "a.at"),
}
_ACTIVE = sorted(ACTIVE_TASK_STATES)


def _column(s: Statement, tenant: CompiledTenant, source: str, name: str) -> str:
    """The SQL expression of a dimension (or filter field) for `source`."""
    simple = {
        "category": "t.category", "priority": "t.priority", "channel": "t.channel", "status": "t.public_status",
        "to_unit": "a.to_unit", "action": "a.action", "assignee": "k.assignee_id", "district": "t.district",
    }
    if name in simple:
        return simple[name]
    if name == "unit":
        return {"tickets": "t.responsible_unit", "tasks": "k.unit", "task_events": "a.from_unit"}[source]
    if name == "state":
        return "t.state" if source == "tickets" else "k.state"
    if name == "category_group":
        grouped = [(n, c.spec.group) for n, c in sorted(tenant.categories.items()) if c.spec.group]
        if not grouped:
            return "NULL"
        cases = " ".join(f"WHEN {s.value(n)} THEN {s.text(g)}" for n, g in grouped)
        return f"(CASE t.category {cases} ELSE NULL END)"
    if name == "area":
        lat, lon = s.floor(f"t.lat * {AREA_LAT_STEPS}"), s.floor(f"t.lon * {AREA_LON_STEPS}")
        return f"(CASE WHEN t.lat IS NULL OR t.lon IS NULL THEN NULL ELSE {lat} || ':' || {lon} END)"
    if name in TIME_DIMENSIONS:
        return "b.k"
    raise ValueError(f"no column for {name!r} of {source}")


def visibility(s: Statement, tenant: CompiledTenant, user: UserView, source: str, tenant_id: str) -> list[str]:
    """The rows `user` may count: tickets they may see (as the lists), tasks of the units they cover."""
    if user.kind != "staff":
        return ["1 = 0"]
    scopes = visible_units(tenant, user)
    if scopes is None:
        return []
    responsible, task_units = scopes
    either: list[str] = []
    if responsible:
        either.append(f"t.responsible_unit IN {s.values(sorted(responsible))}")
    if task_units:
        either.append(f"t.id IN (SELECT ticket_id FROM tasks WHERE tenant_id = {tenant_id} "  # noqa: S608
                      f"AND unit IN {s.values(sorted(task_units))} AND state <> 'cancelled')")
    out = [f"({' OR '.join(either)})" if either else "1 = 0"]
    units = sorted(responsible | task_units)
    if source == "tasks":  # of a ticket they see, only the tasks of their units
        out.append(f"k.unit IN {s.values(units)}" if units else "1 = 0")
    elif source == "task_events":  # … and the hops from or into their units
        out.append(f"(a.from_unit IN {s.values(units)} OR a.to_unit IN {s.values(units)})" if units else "1 = 0")
    return out


def _filters(s: Statement, tenant: CompiledTenant, report: Report) -> list[str]:
    out = []
    for condition in report.filters:
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        column = _column(s, tenant, report.source, condition.field)
        if condition.field == "category_group":  # a group is its categories: the index on category serves
            column = "t.category"
            values = [n for n, c in sorted(tenant.categories.items()) if c.spec.group in values]
        if condition.op in ("eq", "in"):
            out.append(f"{column} IN {s.values(values)}" if values else "1 = 0")
        elif values:  # ne, not_in: a row without the value differs from every name
            out.append(f"({column} IS NULL OR {column} NOT IN {s.values(values)})")
    return out


def verified_cte(s: Statement, tenant: CompiledTenant, tenant_id: str, start: datetime | None) -> tuple[str, str]:
    """(CTE, join) giving each ticket `v.at`: when it first left its process's entry state, whichever way.

    Any way out counts: verification, rejection, a duplicate, an automatic
    move — its first history row whose `before` is the entry state and whose
    `after` is another. Read once for the period (`audit_events` by (tenant,
    at): a ticket's history starts at its filing, inside the period) and joined,
    rather than looked up ticket by ticket.
    """
    def state(side: str) -> str:
        return f"(a.{side} ->> 'state')" if s.postgres else f"json_extract(a.{side}, '$.state')"

    entries = sorted({p.entry for p in tenant.processes.values()}) or ["-"]
    since = f" AND a.at >= {s.value(start)}" if start is not None else ""
    cte = (f"verified AS (SELECT a.ticket_id, {state('before')} AS entry, MIN(a.at) AS at "  # noqa: S608
           f"FROM audit_events a WHERE a.tenant_id = {tenant_id}{since} AND a.ticket_id IS NOT NULL "
           f"AND {state('before')} IN {s.values(entries)} AND {state('after')} <> {state('before')} "
           f"GROUP BY a.ticket_id, {state('before')})")
    cases = " ".join(f"WHEN {s.value(name)} THEN {s.text(p.entry)}" for name, p in sorted(tenant.processes.items()))
    entry = f"(CASE t.process {cases} ELSE NULL END)" if cases else "NULL"
    return cte, f" LEFT JOIN verified v ON v.ticket_id = t.id AND v.entry = {entry}"


def _row_values(s: Statement, tenant: CompiledTenant, report: Report, now: datetime, tenant_id: str) -> list[str]:
    """The per-row columns the measures add up (flags 0/1 and durations in seconds)."""
    wanted = set(report.measures)
    cols: list[str] = []
    moment = s.timestamp(now) if wanted & {"overdue", "sla_compliance"} else ""
    if report.source == "tickets":
        cols += ["CASE WHEN t.closed_at IS NULL THEN 1 ELSE 0 END AS x_open",
                 "CASE WHEN t.closed_at IS NOT NULL THEN 1 ELSE 0 END AS x_closed"]
        if "overdue" in wanted:  # runtime.overdue.ticket_overdue
            late_task = (f"t.id IN (SELECT ticket_id FROM tasks WHERE tenant_id = {tenant_id} "  # noqa: S608
                         f"AND state IN {s.values(_ACTIVE)} AND due_at <= {moment})")
            cols.append(f"CASE WHEN t.closed_at IS NULL AND t.sla_paused_at IS NULL AND ((t.due_at IS NOT NULL "
                        f"AND t.due_at <= {moment}) OR {late_task}) THEN 1 ELSE 0 END AS x_overdue")
        if "sla_compliance" in wanted:
            cols.append("CASE WHEN t.due_at IS NOT NULL AND t.closed_at IS NOT NULL AND t.closed_at <= t.due_at "
                        "THEN 1 ELSE 0 END AS x_met")
            cols.append(f"CASE WHEN t.due_at IS NOT NULL AND (t.closed_at IS NOT NULL OR (t.sla_paused_at IS NULL "
                        f"AND t.due_at <= {moment})) THEN 1 ELSE 0 END AS x_judged")
        kinds = {DURATION_MEASURES[m][0] for m in wanted if m in DURATION_MEASURES}
        if "verify" in kinds:
            cols.append(f"{s.epoch('v.at')} - {s.epoch('t.created_at')} AS v_verify")
        if "resolve" in kinds:
            cols.append(f"CASE WHEN t.closed_at IS NOT NULL THEN {s.epoch('t.closed_at')} - {s.epoch('t.created_at')}"
                        " END AS v_resolve")
    elif report.source == "tasks":
        active = s.values(_ACTIVE)
        cols += [f"CASE WHEN k.state IN {active} THEN 1 ELSE 0 END AS x_open",
                 "CASE WHEN k.state = 'done' THEN 1 ELSE 0 END AS x_done"]
        if "overdue" in wanted:  # runtime.overdue.task_overdue
            cols.append(f"CASE WHEN k.state IN {active} AND t.closed_at IS NULL AND t.sla_paused_at IS NULL "
                        f"AND k.due_at IS NOT NULL AND k.due_at <= {moment} THEN 1 ELSE 0 END AS x_overdue")
        if {"median_time_to_complete", "p90_time_to_complete"} & wanted:
            done_at = (f"(SELECT MAX(a.at) FROM task_assignments a WHERE a.tenant_id = {tenant_id} "  # noqa: S608
                       "AND a.task_id = k.id AND a.action = 'complete')")
            cols.append(f"CASE WHEN k.state = 'done' THEN {s.epoch(done_at)} - {s.epoch('k.created_at')} END "
                        "AS v_complete")
    else:
        for measure, action in (("delegations", "delegate"), ("withdrawals", "withdraw"), ("completions", "complete")):
            cols.append(f"CASE WHEN a.action = '{action}' THEN 1 ELSE 0 END AS x_{measure}")
    return cols


#: Aggregates of the per-row columns, by measure (durations are added per database).
_SUMS = {
    "tickets": ("open", "closed", "overdue", "met", "judged"),
    "tasks": ("open", "done", "overdue"),
    "task_events": ("delegations", "withdrawals", "completions"),
}


def durations(report: Report) -> list[tuple[str, str, float]]:
    """(measure, per-row column kind, fraction) of the report's percentile measures."""
    return [(m, *DURATION_MEASURES[m]) for m in report.measures if m in DURATION_MEASURES]


@dataclass(frozen=True)
class Written:
    """The statement(s) of one report run: the aggregate and (SQLite) one per duration kind."""

    main: str
    params: list[Any]
    #: SQLite only: kind → statement giving each group's percentiles (columns d…, then one per fraction)
    percentiles: dict[str, tuple[str, list[Any]]]
    dimensions: int
    sums: tuple[str, ...]


def write(
    tenant: CompiledTenant, tenant_id: int, report: Report, user: UserView, now: datetime,
    start: datetime | None, buckets: list[Bucket], *, postgres: bool,
) -> Written:
    """The SQL of `report` for `user` at `now` over rows dated `start` … (None: all)."""
    def base(s: Statement) -> str:
        tid = s.value(tenant_id)
        table, dated = _FROM[report.source]
        dims = [f"{_column(s, tenant, report.source, d)} AS d{i}" for i, d in enumerate(report.dimensions)]
        where = [f"t.tenant_id = {tid}"]
        if report.source != "tickets":
            where.append(f"k.tenant_id = {tid}")
        if report.source == "task_events":
            where.append(f"a.tenant_id = {tid}")
        if start is not None:
            where.append(f"{dated} >= {s.value(start)}")
        where += visibility(s, tenant, user, report.source, tid) + _filters(s, tenant, report)
        values = _row_values(s, tenant, report, now, tid)
        head = ""
        join = ""
        if any(DURATION_MEASURES[m][0] == "verify" for m in report.measures if m in DURATION_MEASURES):
            cte, join = verified_cte(s, tenant, tid, start)
            head = cte + ", "
        if any(d in TIME_DIMENSIONS for d in report.dimensions):
            rows = ", ".join(f"({s.text(b.key)}, {s.timestamp(b.start)}, {s.timestamp(b.end)})" for b in buckets)
            empty = "SELECT NULL, NULL, NULL WHERE 1 = 0"
            head += f"buckets(k, s, e) AS ({f'VALUES {rows}' if rows else empty}), "
            join += f" JOIN buckets b ON {dated} >= b.s AND {dated} < b.e"
        # PostgreSQL would inline `base` and run a column's subquery once per aggregate using it
        materialized = "MATERIALIZED " if s.postgres else ""
        return (f"WITH {head}base AS {materialized}(SELECT {', '.join(dims + values)} FROM {table}{join} "  # noqa: S608
                f"WHERE {' AND '.join(where)})")

    keys = ", ".join(f"d{i}" for i in range(len(report.dimensions)))
    sums = _SUMS[report.source]
    s = Statement(postgres)
    head = base(s)
    aggregates = ["COUNT(*) AS n"] + [f"SUM(x_{name}) AS {name}" for name in sums if _needed(report, name)]
    percentiles: dict[str, tuple[str, list[Any]]] = {}
    for measure, kind, fraction in durations(report):
        if postgres:
            aggregates.append(f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY v_{kind}) AS {measure}")
        elif kind not in percentiles:
            ps = Statement(postgres)
            percentiles[kind] = (_sqlite_percentiles(base(ps), keys, kind, report), ps.params)
    main = f"{head} SELECT {keys}, {', '.join(aggregates)} FROM base GROUP BY {keys}"  # noqa: S608
    return Written(main, s.params, percentiles, len(report.dimensions),
                   tuple(n for n in sums if _needed(report, n)))


def _needed(report: Report, name: str) -> bool:
    if name in ("met", "judged"):
        return "sla_compliance" in report.measures
    if name in ("open", "closed", "done"):
        return True  # cheap, and the dashboard links use them
    return name in report.measures


def _sqlite_percentiles(base: str, keys: str, kind: str, report: Report) -> str:
    """Each group's percentiles of `v_<kind>` by window functions, interpolated as `percentile_cont`."""
    columns = []
    for measure, k, fraction in durations(report):
        if k != kind:
            continue
        pos = f"((n - 1) * {fraction!r})"
        lo = f"CAST({pos} AS INTEGER)"  # floor: the position is never negative
        low = f"MAX(CASE WHEN rn = {lo} + 1 THEN v END)"
        high = f"COALESCE(MAX(CASE WHEN rn = {lo} + 2 THEN v END), {low})"
        columns.append(f"{low} + ({high} - {low}) * MAX({pos} - {lo}) AS {measure}")
    return (f"{base}, ranked AS (SELECT {keys}, v_{kind} AS v, ROW_NUMBER() OVER (PARTITION BY {keys} "  # noqa: S608
            f"ORDER BY v_{kind}) AS rn, COUNT(*) OVER (PARTITION BY {keys}) AS n FROM base "
            f"WHERE v_{kind} IS NOT NULL) SELECT {keys}, {', '.join(columns)} FROM ranked GROUP BY {keys}")


__all__ = ["AREA_LAT_STEPS", "AREA_LON_STEPS", "Statement", "Written", "durations", "write"]
