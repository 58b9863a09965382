"""A computed report as the pages show it: labelled rows, formatted numbers, links, and the chart's data.

The same view feeds the HTML table (the chart's accessible form), the chart
(its data as JSON in a `data-chart` attribute, drawn by `static/charts.js`)
and the XLSX export (numbers as numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports.compute import Key, ReportResult, ReportRow
from komunikator.engine.reports.links import list_url, report_url
from komunikator.engine.reports.sql import AREA_LAT_STEPS, AREA_LON_STEPS
from komunikator.engine.schema.reports import DURATION_MEASURES, PERCENT_MEASURES, TIME_DIMENSIONS
from komunikator.engine.store.scope import TenantScope
from komunikator.web.staff.i18n import N_, localized, translations
from komunikator.web.staff.words import PRIORITIES

DIMENSION_WORDS = {
    "unit": N_("Unit"), "to_unit": N_("To unit"), "category": N_("Category"), "category_group": N_("Category group"),
    "priority": N_("Priority"), "state": N_("Status"), "status": N_("Open or closed"), "channel": N_("Channel"),
    "area": N_("Area of the map"), "assignee": N_("Person"), "action": N_("Task event"),
    "day": N_("Day"), "week": N_("Week"), "month": N_("Month"),
}
MEASURE_WORDS = {
    "count": N_("Count"), "share": N_("Share"), "open": N_("Open"), "closed": N_("Closed"),
    "overdue": N_("Overdue"), "done": N_("Done"), "sla_compliance": N_("On time"),
    "median_time_to_verify": N_("Median time to verify (h)"), "p90_time_to_verify": N_("90th percentile to verify (h)"),
    "median_time_to_resolve": N_("Median time to resolve (h)"),
    "p90_time_to_resolve": N_("90th percentile to resolve (h)"),
    "median_time_to_complete": N_("Median time to complete (h)"),
    "p90_time_to_complete": N_("90th percentile to complete (h)"),
    "delegations": N_("Delegations"), "withdrawals": N_("Withdrawals"), "completions": N_("Completions"),
}
VALUE_WORDS = {
    "status": {"open": N_("open"), "closed": N_("closed")},
    "channel": {"public": N_("portal"), "staff": N_("office"), "open311": N_("Open311"), "email": N_("e-mail"),
                "phone": N_("phone")},
    "action": {"create": N_("created"), "take": N_("taken"), "complete": N_("completed"), "delegate": N_("delegated"),
               "withdraw": N_("withdrawn"), "cancel": N_("cancelled")},
    "task_state": {"open": N_("to take"), "in_progress": N_("in progress"), "done": N_("done"),
                   "withdrawn": N_("withdrawn"), "cancelled": N_("cancelled")},
    "priority": PRIORITIES,
}
#: The chart shows at most this many series (the rest is in the table).
MAX_SERIES = 8


@dataclass(frozen=True)
class Cell:
    """One measure of one row: its text, its number (None: no value) and the list explaining it."""

    text: str
    number: float | int | None
    href: str | None


@dataclass(frozen=True)
class ViewRow:
    """A row: its dimension labels and its cells."""

    labels: list[str]
    cells: list[Cell]


@dataclass(frozen=True)
class ReportView:
    """A report ready to draw."""

    name: str
    title: str
    description: str
    dimensions: list[str]
    measures: list[str]
    rows: list[ViewRow]
    chart: dict[str, Any] | None
    period: str
    total: int
    #: the list of every row counted (None: no list shows them)
    list_href: str | None = None


async def people(scope: TenantScope, result: ReportResult) -> dict[int, str]:
    """The display names of the people a report groups by."""
    if "assignee" not in result.report.dimensions:
        return {}
    at = result.report.dimensions.index("assignee")
    ids = {r.keys[at] for r in result.rows if isinstance(r.keys[at], int)}
    users = await scope.users().filter(id__in=sorted(ids)) if ids else []
    return {u.id: u.display_name or u.email for u in users}


class Labeller:
    """Turns a report's keys and numbers into the reader's language."""

    def __init__(self, tenant: CompiledTenant, language: str, names: dict[int, str]) -> None:
        self.tenant, self.language, self.names = tenant, language, names
        self.t = translations(language)

    def key(self, source: str, dim: str, key: Key) -> str:
        """The label of one dimension value."""
        t, tenant = self.t, self.tenant
        if key is None:
            return t.gettext("(none)") if dim != "assignee" else t.gettext("(nobody)")
        text = str(key)
        if dim in ("unit", "to_unit"):
            return localized(tenant.units[text].name, self.language) if text in tenant.units else text
        if dim == "category":
            category = tenant.categories.get(text)
            return localized(category.spec.name, self.language) if category else text
        if dim == "category_group":
            group = tenant.category_groups.get(text)
            return localized(group.name, self.language) if group else text
        if dim == "state" and source == "tickets":
            for process in tenant.processes.values():
                if text in process.states:
                    return localized(process.states[text].label, self.language)
            return text
        if dim == "assignee":
            return self.names.get(int(text), f"#{text}") if text.isdigit() else text
        if dim == "area":
            return self._area(text)
        if dim == "district":  # the city's districts (tenant.geography), when it ships them
            geography = getattr(tenant, "geography", None)
            district = geography.district(text) if geography is not None else None
            return localized(district.name, self.language) if district is not None else text
        if dim in TIME_DIMENSIONS:
            return self._time(dim, text)
        words = VALUE_WORDS.get("task_state" if dim == "state" else dim, {})
        return t.gettext(words[text]) if text in words else text

    def _area(self, key: str) -> str:
        lat, _, lon = key.partition(":")
        centre_lat = (int(lat) + 0.5) / AREA_LAT_STEPS
        centre_lon = (int(lon) + 0.5) / AREA_LON_STEPS
        return self.t.gettext("around %(lat)s° N, %(lon)s° E") % {
            "lat": format_decimal(centre_lat, "0.000", locale=self.language),
            "lon": format_decimal(centre_lon, "0.00", locale=self.language)}

    def _time(self, dim: str, key: str) -> str:
        if dim == "month":
            year, month = key.split("-")
            return format_date(date(int(year), int(month), 1), "LLLL yyyy", locale=self.language)
        if dim == "week":
            year, week = key.split("-W")
            monday = date.fromisocalendar(int(year), int(week), 1)
            return self.t.gettext("week from %(day)s") % {"day": format_date(monday, "d.MM.yyyy", locale=self.language)}
        return format_date(date.fromisoformat(key), "d.MM.yyyy", locale=self.language)

    def number(self, measure: str, value: float | int | None) -> tuple[str, float | int | None]:
        """The text and the exported number of a measure (durations in hours, shares in percent)."""
        if value is None:
            return "—", None
        if measure in DURATION_MEASURES:
            hours = round(value / 3600, 1)
            return format_decimal(hours, "#,##0.0", locale=self.language), hours
        if measure in PERCENT_MEASURES:
            share = round(float(value), 1)
            return format_decimal(share, "#,##0.0", locale=self.language) + " %", share
        return format_decimal(int(value), "#,##0", locale=self.language), int(value)


def build(tenant: CompiledTenant, result: ReportResult, language: str, names: dict[int, str],
          max_links: int | None = None) -> ReportView:
    """The view of a computed report; with `max_links`, a table longer than that links only as a whole."""
    labeller = Labeller(tenant, language, names)
    t = labeller.t
    report = result.report
    rows = []
    for row in result.rows:
        labels = [labeller.key(report.source, d, k) for d, k in zip(report.dimensions, row.keys, strict=True)]
        cells = []
        for measure in report.measures:
            text, number = labeller.number(measure, row.values.get(measure))
            linked = max_links is None or len(result.rows) <= max_links
            href = list_url(tenant, result, row, measure) if number and linked else None
            cells.append(Cell(text, number, href))
        rows.append(ViewRow(labels, cells))
    period = str(report.period)
    period_text = t.gettext("all time") if report.period.unit is None else t.gettext("last %(period)s") % {
        "period": _period_words(t, report.period.amount, report.period.unit)}
    return ReportView(
        result.name, localized(report.name, language),
        localized(report.description, language) if report.description else "",
        [t.gettext(DIMENSION_WORDS[d]) for d in report.dimensions],
        [t.gettext(MEASURE_WORDS[m]) for m in report.measures],
        rows, _chart(labeller, result) if report.chart != "table" else None, period_text or period, result.total,
        report_url(tenant, result))


def _period_words(t: Any, amount: int, unit: str | None) -> str:
    if unit == "months":
        return str(t.ngettext("%(num)d month", "%(num)d months", amount) % {"num": amount})
    if unit == "weeks":
        return str(t.ngettext("%(num)d week", "%(num)d weeks", amount) % {"num": amount})
    return str(t.ngettext("%(num)d day", "%(num)d days", amount) % {"num": amount})


def _chart(labeller: Labeller, result: ReportResult) -> dict[str, Any] | None:
    """The chart's data: x labels and series (the first measure per second dimension, or the measures alike)."""
    report = result.report
    if not result.rows:
        return None
    first = report.measures[0]
    unit = "h" if first in DURATION_MEASURES else "%" if first in PERCENT_MEASURES else ""
    source, dim = report.source, report.dimensions[0]
    if dim in TIME_DIMENSIONS:
        xs: list[Key] = [b.key for b in result.buckets]
    else:
        xs = list(dict.fromkeys(r.keys[0] for r in result.rows))
    index = {x: i for i, x in enumerate(xs)}

    def value(row: ReportRow, measure: str) -> float | int | None:
        return labeller.number(measure, row.values.get(measure))[1]

    series: list[dict[str, Any]] = []
    if len(report.dimensions) == 2:
        totals: dict[Key, float] = {}
        for row in result.rows:
            totals[row.keys[1]] = totals.get(row.keys[1], 0) + float(value(row, first) or 0)
        keep = sorted(totals, key=lambda k: -totals[k])[:MAX_SERIES]
        for key in keep:
            values: list[float | int | None] = [0 if unit == "" else None] * len(xs)
            for row in result.rows:
                if row.keys[1] == key and row.keys[0] in index:
                    values[index[row.keys[0]]] = value(row, first)
            series.append({"label": labeller.key(source, report.dimensions[1], key), "values": values})
    else:
        alike = [m for m in report.measures if (m in DURATION_MEASURES) == (first in DURATION_MEASURES)
                 and (m in PERCENT_MEASURES) == (first in PERCENT_MEASURES)]
        for measure in alike[:MAX_SERIES]:
            values = [0 if unit == "" else None] * len(xs)
            for row in result.rows:
                if row.keys[0] in index:
                    values[index[row.keys[0]]] = value(row, measure)
            series.append({"label": labeller.t.gettext(MEASURE_WORDS[measure]), "values": values})
    return {"type": report.chart, "x": [labeller.key(source, dim, x) for x in xs], "series": series, "unit": unit,
            "label": labeller.t.gettext(MEASURE_WORDS[first]), "xLabel": labeller.t.gettext(DIMENSION_WORDS[dim]),
            # a second dimension's counts are parts of each x's whole; several measures are not
            "stacked": len(report.dimensions) == 2 and unit == ""}


__all__ = ["DIMENSION_WORDS", "MEASURE_WORDS", "Cell", "ReportView", "ViewRow", "build", "people"]
