"""The list that explains a number: a report cell as a list URL with a filter document.

    /staff/lists/tickets?filter={"match":"all","conditions":[{"field":"unit","op":"eq","value":"drogi"},
                                                              {"field":"overdue","op":"eq","value":true}]}

The filter document is the universal lists' (`engine/lists/filters.py`):
conditions on the list's fields, all of which hold; dates are days in the
city's time zone, `between` includes both. A row becomes its dimension
values, the report's own filters, its period and the measure's condition
(open, closed, overdue, done). A cell no list can reproduce (grouped by map
area, a task event) links nowhere rather than to a list that would not add up.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports.compute import ReportResult, ReportRow
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES
from komunikator.engine.schema.reports import TIME_DIMENSIONS

#: Report fields → list fields (where the names differ).
_FIELDS = {"status": "public_status"}
#: Measures that narrow the list further, per source.
_MEASURE_CONDITIONS: dict[str, dict[str, dict[str, Any]]] = {
    "tickets": {
        "open": {"field": "public_status", "op": "eq", "value": "open"},
        "closed": {"field": "public_status", "op": "eq", "value": "closed"},
        "overdue": {"field": "overdue", "op": "eq", "value": True},
    },
    "tasks": {
        "open": {"field": "state", "op": "in", "value": sorted(ACTIVE_TASK_STATES)},
        "done": {"field": "state", "op": "eq", "value": "done"},
        # the tasks list's `overdue` is runtime/overdue.task_overdue, what the reports count
        "overdue": {"field": "overdue", "op": "eq", "value": True},
    },
}
#: Measures whose number is the count of the rows the list shows.
_COUNTED = ("count", "open", "closed", "overdue", "done")


def _condition(tenant: CompiledTenant, field: str, op: str, value: Any) -> dict[str, Any]:
    if field == "category_group":
        groups = value if isinstance(value, list) else [value]
        categories = sorted(n for n, c in tenant.categories.items() if c.spec.group in groups)
        return {"field": "category", "op": "not_in" if op in ("ne", "not_in") else "in", "value": categories}
    return {"field": _FIELDS.get(field, field), "op": op, "value": value}


def filter_document(
    tenant: CompiledTenant, result: ReportResult, row: ReportRow, measure: str,
) -> dict[str, Any] | None:
    """The filter document of the list behind `row`'s `measure`, or None when no list shows those rows."""
    report = result.report
    if report.source == "task_events" or measure not in _COUNTED or "area" in report.dimensions:
        return None
    zone = ZoneInfo(tenant.config.time_zone)
    conditions: list[dict[str, Any]] = []
    dated = False
    for dim, key in zip(report.dimensions, row.keys, strict=True):
        if dim in TIME_DIMENSIONS:
            bucket = next((b for b in result.buckets if b.key == key), None)
            if bucket is None:
                return None
            last = (bucket.end - timedelta(microseconds=1)).astimezone(zone).date()
            first = bucket.start.astimezone(zone).date()
            conditions.append({"field": "created_at", "op": "between", "value": [first.isoformat(), last.isoformat()]})
            dated = True
        elif key is None:
            conditions.append({"field": _FIELDS.get(dim, dim), "op": "is_empty"})
        else:
            conditions.append(_condition(tenant, dim, "eq", key))
    for item in report.filters:
        conditions.append(_condition(tenant, item.field, item.op, item.value))
    if report.source == "tasks" and result.units is not None:
        # the report counts the reader's units' tasks; the list would also show others' on tickets they see
        conditions.append({"field": "unit", "op": "in", "value": list(result.units)} if result.units
                          else {"field": "unit", "op": "is_empty"})
    if result.start is not None and not dated:
        conditions.append({"field": "created_at", "op": "between",
                           "value": [_day(result.start, zone), _day(result.now, zone)]})
    extra = _MEASURE_CONDITIONS.get(report.source, {}).get(measure)
    if extra is not None:
        conditions.append(extra)
    elif measure != "count":
        return None
    return {"match": "all", "conditions": conditions}


def report_url(tenant: CompiledTenant, result: ReportResult) -> str | None:
    """The list of every row a report counts (its filters and period, no row's values), or None."""
    report = result.report
    if report.source == "task_events":
        return None
    zone = ZoneInfo(tenant.config.time_zone)
    conditions = [_condition(tenant, item.field, item.op, item.value) for item in report.filters]
    if result.start is not None:
        conditions.append({"field": "created_at", "op": "between",
                           "value": [_day(result.start, zone), _day(result.now, zone)]})
    return _url(report.source, {"match": "all", "conditions": conditions})


def _url(source: str, document: dict[str, Any]) -> str:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # brackets, braces, colons and commas stay as they are (browsers and the lists read them; a third of the size)
    return f"/staff/lists/{source}?filter={quote(text, safe=',:[]{}')}"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def list_url(tenant: CompiledTenant, result: ReportResult, row: ReportRow, measure: str) -> str | None:
    """`/staff/lists/<list>?filter=<url-encoded JSON>` for a cell, or None."""
    document = filter_document(tenant, result, row, measure)
    return _url(result.report.source, document) if document is not None else None


__all__ = ["filter_document", "list_url", "report_url"]
