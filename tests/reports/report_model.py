"""A Python model of the reports, over the rows of the database read one by one.

Written from the definitions in docs/implementers.md, not from the SQL: a
ticket is counted when `runtime.access.sees_ticket` lets the reader see it;
it was verified when its history first shows it leaving its process's entry
state (read from the audit rows' before/after, not from transition names);
overdue is `runtime.overdue`; percentiles are `percentile_cont`'s definition
(linear between the ranks around p·(n−1)).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports.periods import period_start
from komunikator.engine.runtime.access import covers, sees_ticket
from komunikator.engine.runtime.overdue import task_overdue, ticket_overdue
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.schema.reports import DURATION_MEASURES, Report
from komunikator.engine.service.row_views import ticket_view
from komunikator.engine.store.scope import TenantScope


@dataclass
class Town:
    """Everything the model reads: ticket rows and views, tasks, task hops, audit rows."""

    tickets: dict[int, Any]
    views: dict[int, TicketView]
    tasks: list[Any]
    hops: list[Any]
    audit: list[Any]


async def read_town(scope: TenantScope) -> Town:
    """Read every row the reports may count."""
    tickets = {t.id: t for t in await scope.tickets().all()}
    views = {i: await ticket_view(scope, t) for i, t in tickets.items()}
    return Town(tickets, views, list(await scope.tasks().all()), list(await scope.task_assignments().all()),
                list(await scope.audit_events().all().order_by("at", "id")))


def percentile(values: list[int], fraction: float) -> float | None:
    """`percentile_cont(fraction)` of `values`."""
    if not values:
        return None
    ordered = sorted(values)
    pos = fraction * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _seconds(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _bucket(moment: datetime, dim: str, zone: ZoneInfo) -> str:
    day = moment.astimezone(zone).date()
    if dim == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if dim == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


def _sees_all(tenant: CompiledTenant, user: UserView) -> bool:
    return any(tenant.roles[m.role].sees == "all" and not (m.unit in tenant.units and tenant.units[m.unit].external)
               for m in user.memberships if m.role in tenant.roles)


def _covers_unit(tenant: CompiledTenant, user: UserView, unit: str) -> bool:
    return _sees_all(tenant, user) or any(covers(tenant, m, unit) for m in user.memberships)


def _value(tenant: CompiledTenant, name: str, ticket: Any, task: Any, hop: Any, zone: ZoneInfo,
           dated: datetime) -> Any:
    if name == "unit":
        return hop.from_unit if hop is not None else task.unit if task is not None else ticket.responsible_unit
    if name == "category_group":
        category = tenant.categories.get(ticket.category)
        return category.spec.group if category else None
    if name == "area":
        if ticket.lat is None or ticket.lon is None:
            return None
        return f"{math.floor(ticket.lat * 100)}:{math.floor(ticket.lon * 50)}"
    if name in ("day", "week", "month"):
        return _bucket(dated, name, zone)
    if name == "state":
        return task.state if task is not None else ticket.state
    if name == "status":
        return ticket.public_status
    if name == "assignee":
        return task.assignee_id
    if name in ("to_unit", "action"):
        return getattr(hop, name)
    return getattr(ticket, name)


def _passes(report: Report, values: dict[str, Any]) -> bool:
    for condition in report.filters:
        wanted = condition.value if isinstance(condition.value, list) else [condition.value]
        inside = values[condition.field] in wanted
        if inside != (condition.op in ("eq", "in")):
            return False
    return True


def expected_rows(tenant: CompiledTenant, report: Report, town: Town, user: UserView,
                  now: datetime) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Each group's measures, as `compute.run` should give them (before sort and limit)."""
    zone = ZoneInfo(tenant.config.time_zone)
    start = period_start(report.period, now, zone)
    fields = set(report.dimensions) | {c.field for c in report.filters}
    groups: dict[tuple[Any, ...], list[tuple[Any, Any, Any]]] = defaultdict(list)
    candidates: list[tuple[Any, Any, Any, datetime]] = []
    tasks = {k.id: k for k in town.tasks}
    if report.source == "tickets":
        candidates = [(t, None, None, t.created_at) for t in town.tickets.values()]
    elif report.source == "tasks":
        candidates = [(town.tickets[k.ticket_id], k, None, k.created_at) for k in town.tasks]
    else:
        candidates = [(town.tickets[tasks[h.task_id].ticket_id], tasks[h.task_id], h, h.at) for h in town.hops]
    for ticket, task, hop, dated in candidates:
        if start is not None and dated < start:
            continue
        if not sees_ticket(tenant, user, town.views[ticket.id]):
            continue
        if hop is not None and not any(u is not None and _covers_unit(tenant, user, u)
                                       for u in (hop.from_unit, hop.to_unit)):
            continue
        if hop is None and task is not None and not _covers_unit(tenant, user, task.unit):
            continue
        values = {f: _value(tenant, f, ticket, task, hop, zone, dated) for f in fields}
        if not _passes(report, values):
            continue
        groups[tuple(values[d] for d in report.dimensions)].append((ticket, task, hop))
    total = sum(len(rows) for rows in groups.values())
    return {key: _measures(tenant, report, rows, town, now, total) for key, rows in groups.items()}


def _verified_seconds(tenant: CompiledTenant, ticket: Any, town: Town) -> int | None:
    entry = tenant.processes[ticket.process].entry
    for event in town.audit:
        if event.ticket_id != ticket.id:
            continue
        before, after = event.before or {}, event.after or {}
        if before.get("state") == entry and after.get("state") not in (None, entry):
            return _seconds(event.at) - _seconds(ticket.created_at)
    return None


def _measures(tenant: CompiledTenant, report: Report, rows: list[tuple[Any, Any, Any]], town: Town, now: datetime,
              total: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    durations: dict[str, list[int]] = defaultdict(list)
    for ticket, task, _hop in rows:
        if report.source == "tickets":
            verified = _verified_seconds(tenant, ticket, town)
            if verified is not None:
                durations["verify"].append(verified)
            if ticket.closed_at is not None:
                durations["resolve"].append(_seconds(ticket.closed_at) - _seconds(ticket.created_at))
        elif report.source == "tasks" and task.state == "done":
            done = [h.at for h in town.hops if h.task_id == task.id and h.action == "complete"]
            durations["complete"].append(_seconds(max(done)) - _seconds(task.created_at))
    for measure in report.measures:
        if measure == "count":
            out[measure] = len(rows)
        elif measure == "share":
            out[measure] = 100.0 * len(rows) / total
        elif measure in DURATION_MEASURES:
            kind, fraction = DURATION_MEASURES[measure]
            out[measure] = percentile(durations[kind], fraction)
        elif measure == "sla_compliance":
            met = judged = 0
            for ticket, _, _ in rows:
                if ticket.due_at is None:
                    continue
                if ticket.closed_at is not None:
                    judged += 1
                    met += ticket.closed_at <= ticket.due_at
                elif ticket.sla_paused_at is None and ticket.due_at <= now:
                    judged += 1
            out[measure] = 100.0 * met / judged if judged else None
        elif report.source == "tickets":
            out[measure] = sum({"open": t.closed_at is None, "closed": t.closed_at is not None,
                                "overdue": ticket_overdue(town.views[t.id], now)}[measure] for t, _, _ in rows)
        elif report.source == "tasks":
            out[measure] = sum(_task_flag(measure, town.views[t.id], k, now) for t, k, _ in rows)
        else:
            action = {"delegations": "delegate", "withdrawals": "withdraw", "completions": "complete"}[measure]
            out[measure] = sum(h.action == action for _, _, h in rows)
    return out


def _task_flag(measure: str, view: TicketView, task: Any, now: datetime) -> bool:
    if measure == "open":
        return bool(task.state in ("open", "in_progress"))
    if measure == "done":
        return bool(task.state == "done")
    task_view = next(t for t in view.tasks if t.key == task.key)
    return task_overdue(view, task_view, now)
