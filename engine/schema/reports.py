"""`reports:` — reports defined as data: what is counted, grouped by what, shown how, to whom.

A report is one entry of the `reports:` section, in the shared library
(`definitions/reports/`) or in a tenant's folder (a tenant overrides a
library report key by key, or removes it with `disabled: true`). Example:

    reports:
      tickets_by_unit_and_month:
        name: {pl: Zgłoszenia według jednostek i miesięcy, en: Tickets by unit and month}
        source: tickets
        dimensions: [month, unit]
        measures: [count, share]
        period: 12 months
        chart: bar
        roles: [unit_head, management]

Dimensions and measures are names from closed lists (`DIMENSIONS`,
`MEASURES`), checked by the compiler against the report's source, with
"did you mean" hints; nothing in a report is an expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from komunikator.engine.schema.base import Id, LocalizedText, Strict, yaml_value

#: What a report counts: tickets, tasks, or the hops of tasks (delegations, withdrawals, completions).
ReportSource = Literal["tickets", "tasks", "task_events"]

#: The dimensions each source may be grouped by. Time dimensions (`day`, `week`, `month`) bucket the row's
#: date in the city's time zone: a ticket's filing, a task's creation, a task event's moment.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "tickets": ("unit", "category", "category_group", "priority", "state", "status", "channel", "district", "area",
                "day", "week", "month"),
    "tasks": ("unit", "assignee", "category", "category_group", "priority", "state", "district", "day", "week",
              "month"),
    "task_events": ("unit", "to_unit", "action", "category", "category_group", "day", "week", "month"),
}
TIME_DIMENSIONS = ("day", "week", "month")
#: Dimensions a report may not use, and why (none at the moment: `district` came with the cities' boundaries,
#: empty for a city without them).
UNAVAILABLE_DIMENSIONS: dict[str, str] = {}

#: The measures each source offers (see docs/implementers.md for their definitions).
MEASURES: dict[str, tuple[str, ...]] = {
    "tickets": ("count", "share", "open", "closed", "overdue", "sla_compliance",
                "median_time_to_verify", "p90_time_to_verify", "median_time_to_resolve", "p90_time_to_resolve"),
    "tasks": ("count", "share", "open", "done", "overdue", "median_time_to_complete", "p90_time_to_complete"),
    "task_events": ("count", "share", "delegations", "withdrawals", "completions"),
}
#: Measures that are durations (shown in hours) and the percentile each takes.
DURATION_MEASURES: dict[str, tuple[str, float]] = {
    "median_time_to_verify": ("verify", 0.5), "p90_time_to_verify": ("verify", 0.9),
    "median_time_to_resolve": ("resolve", 0.5), "p90_time_to_resolve": ("resolve", 0.9),
    "median_time_to_complete": ("complete", 0.5), "p90_time_to_complete": ("complete", 0.9),
}
#: Measures that are percentages.
PERCENT_MEASURES = ("share", "sla_compliance")

#: Fields a report's `filters` may test, per source (the categorical dimensions).
FILTER_FIELDS: dict[str, tuple[str, ...]] = {
    source: tuple(d for d in dims if d not in TIME_DIMENSIONS and d != "area") for source, dims in DIMENSIONS.items()
}


@dataclass(frozen=True)
class Period:
    """How far back a report looks: `12 months`, `26 weeks`, `90 days`; `all` for every row."""

    amount: int
    unit: Literal["days", "weeks", "months"] | None  # None: all

    def __str__(self) -> str:
        if self.unit is None:
            return "all"
        return f"{self.amount} {self.unit[:-1] if self.amount == 1 else self.unit}"


_PERIOD = re.compile(r"^\s*(\d{1,3})\s+(day|days|week|weeks|month|months)\s*$")


def parse_period(value: Any) -> Period:
    """`12 months` → Period(12, "months"); `all` → every row."""
    if isinstance(value, Period):
        return value
    if value == "all":
        return Period(0, None)
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"cannot read period {yaml_value(value)}: write e.g. '12 months', '26 weeks', '90 days' "
                         "or 'all'")
    unit = match.group(2) if match.group(2).endswith("s") else match.group(2) + "s"
    return Period(int(match.group(1)), unit)  # type: ignore[arg-type]


PeriodField = Annotated[
    Period,
    BeforeValidator(parse_period),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(all|\d+ (days?|weeks?|months?))$",
                    "description": "how far back: `12 months`, `26 weeks`, `90 days`, or `all`"}),
]


def _per_source(table: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{source}: {', '.join(names)}" for source, names in table.items())


class ReportFilter(Strict):
    """One condition every counted row meets: `{field: priority, op: in, value: [high, urgent]}`.

    The same shape as an item of the lists' JSON filter document; a report's
    conditions all hold together (AND).
    """

    field: Id = Field(description="a categorical dimension of the report's source (unit, category, priority …)")
    op: Literal["eq", "ne", "in", "not_in"] = "eq"
    value: str | list[str] = Field(description="a name (eq, ne) or a list of names (in, not_in)")


class Report(Strict):
    """A report: rows grouped by one or two dimensions, one column per measure, a chart and who may read it."""

    name: LocalizedText
    description: LocalizedText | None = None
    source: ReportSource = Field("tickets", description="what is counted: tickets, tasks or task_events")
    dimensions: list[Id] = Field(min_length=1, max_length=2,
                                 description="what rows are grouped by (one or two; a time dimension first for a "
                                             "line chart) — " + _per_source(DIMENSIONS))
    measures: list[Id] = Field(min_length=1, max_length=8,
                               description="the columns computed for each row — " + _per_source(MEASURES))
    filters: list[ReportFilter] = Field(default_factory=list, description="conditions every counted row meets")
    period: PeriodField = Field(Period(12, "months"), description="how far back rows are counted (by their date)")
    chart: Literal["bar", "line", "table"] = Field(
        "bar", description="bar: the first measure per row; line: over time (first dimension is a time one); "
                           "table: no chart")
    sort: Id | None = Field(None, description="order rows by this measure, largest first (default: by dimensions)")
    limit: int | None = Field(None, ge=1, le=1000, description="show only the first rows (a top list)")
    roles: list[Id] = Field(min_length=1, description="who may read it: members holding one of these roles "
                                                      "(the rows are the tickets each of them may see)")
    dashboard: int | None = Field(None, ge=1, le=99,
                                  description="show it as a tile of the staff dashboard, in this order")


__all__ = ["DIMENSIONS", "DURATION_MEASURES", "FILTER_FIELDS", "MEASURES", "PERCENT_MEASURES", "TIME_DIMENSIONS",
           "UNAVAILABLE_DIMENSIONS", "Period", "Report", "ReportFilter", "ReportSource", "parse_period"]
