"""Run a report for a staff member: its rows, computed by the database, and who may read it.

    if may_read(tenant, user, name):
        result = await run(scope, tenant, name, user, now)
        result.rows  # [ReportRow(keys=("2026-05", "drogi"), values={"count": 12, "share": 8.5, …}), …]

Reading is decided by the report's `roles` (any membership holding one of
them); the rows are always those of the tickets the reader may see (the
lists' visibility rule), so a shared report never shows a head another
unit's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports import sql
from komunikator.engine.reports.periods import Bucket, buckets, period_start
from komunikator.engine.runtime.views import UserView
from komunikator.engine.schema.reports import DURATION_MEASURES, TIME_DIMENSIONS, Report
from komunikator.engine.service.ticket_list import visible_units
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

Key = str | int | None


def may_read(tenant: CompiledTenant, user: UserView, name: str) -> bool:
    """Whether `user` may open report `name` (staff holding one of its roles)."""
    report = tenant.reports.get(name)
    return report is not None and user.kind == "staff" and any(
        m.role in report.roles and m.role in tenant.roles for m in user.memberships)


def readable(tenant: CompiledTenant, user: UserView) -> list[str]:
    """The reports `user` may open, by name."""
    return sorted(n for n in tenant.reports if may_read(tenant, user, n))


def dashboard_tiles(tenant: CompiledTenant, user: UserView) -> list[str]:
    """The dashboard's reports `user` may read, in their `dashboard` order."""
    tiles = [n for n in readable(tenant, user) if tenant.reports[n].dashboard is not None]
    return sorted(tiles, key=lambda n: (tenant.reports[n].dashboard or 0, n))


@dataclass(frozen=True)
class ReportRow:
    """One group: its dimension values and its measures (durations in seconds, percentages 0–100)."""

    keys: tuple[Key, ...]
    values: dict[str, float | int | None]
    #: raw sums the measures come from (open, closed, done …), for links
    sums: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportResult:
    """A report's rows at one moment, with its time buckets (if grouped by time)."""

    name: str
    report: Report
    rows: list[ReportRow]
    buckets: list[Bucket]
    start: datetime | None
    now: datetime
    #: rows counted in every group (before `limit`)
    total: int
    #: the units whose tasks a reader who does not see every ticket counts (None: every unit's)
    units: tuple[str, ...] | None = None


async def run(scope: TenantScope, tenant: CompiledTenant, name: str, user: UserView, now: datetime) -> ReportResult:
    """Compute report `name` for `user` (no check of `may_read`: the caller asks first)."""
    report = tenant.reports[name]
    zone = ZoneInfo(tenant.config.time_zone)
    start = period_start(report.period, now, zone)
    time_dim = next((d for d in report.dimensions if d in TIME_DIMENSIONS), None)
    cut = buckets(time_dim, start, now, zone) if time_dim and start is not None else []
    postgres = db.connection().capabilities.dialect == "postgres"
    written = sql.write(tenant, scope.tenant_id, report, user, now, start, cut, postgres=postgres)
    width = written.dimensions
    extra: dict[tuple[Key, ...], dict[str, Any]] = {}
    async with transaction():  # one snapshot for every statement of the report
        client = db.connection()
        if postgres:
            # an aggregate over many rows is estimated dear enough for JIT compilation, which costs more
            # (over a second) than the query itself (tens of milliseconds): bench/dashboard_bench.py
            await client.execute_script("SET LOCAL jit = off")
        groups = await client.execute_query_dict(written.main, written.params)
        for statement, params in written.percentiles.values():
            for row in await client.execute_query_dict(statement, params):
                extra.setdefault(_keys(row, width), {}).update(row)
    total = sum(int(g["n"]) for g in groups)
    rows = [_row(report, g, extra.get(_keys(g, width), {}), width, total) for g in groups]
    scopes = visible_units(tenant, user)
    units = None if scopes is None else tuple(sorted(scopes[0] | scopes[1]))
    return ReportResult(name, report, _ordered(report, rows, cut), cut, start, now, total, units)


def _keys(row: dict[str, Any], width: int) -> tuple[Key, ...]:
    return tuple(row[f"d{i}"] for i in range(width))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _row(report: Report, group: dict[str, Any], extra: dict[str, Any], width: int, total: int) -> ReportRow:
    n = int(group["n"])
    keys = {f"d{i}" for i in range(width)}
    sums = {k: int(v or 0) for k, v in group.items() if k not in keys and k != "n" and k not in DURATION_MEASURES}
    values: dict[str, float | int | None] = {}
    for measure in report.measures:
        if measure == "count":
            values[measure] = n
        elif measure == "share":
            values[measure] = 100.0 * n / total if total else None
        elif measure == "sla_compliance":
            judged = sums.get("judged", 0)
            values[measure] = 100.0 * sums.get("met", 0) / judged if judged else None
        elif measure in DURATION_MEASURES:
            values[measure] = _number(group[measure] if measure in group else extra.get(measure))
        else:
            values[measure] = sums.get(measure, 0)
    return ReportRow(_keys(group, width), values, sums)


def _ordered(report: Report, rows: list[ReportRow], cut: list[Bucket]) -> list[ReportRow]:
    """By the sort measure (largest first, empty last), else by the dimensions (time in order); then `limit`."""
    def key_order(row: ReportRow) -> tuple[Any, ...]:
        return tuple((k is None, str(k) if k is not None else "") for k in row.keys)

    rows = sorted(rows, key=key_order)
    if report.sort is not None:
        sort = report.sort
        rows = sorted(rows, key=lambda r: (r.values.get(sort) is None, -(r.values.get(sort) or 0)))
    return rows[: report.limit] if report.limit else rows


__all__ = ["ReportResult", "ReportRow", "dashboard_tiles", "may_read", "readable", "run"]
