"""Check the `reports:` section against the city: dimensions and measures of each source, filters, roles.

Everything a report names comes from a closed list (`schema/reports.py`) or
from the tenant's own entries (units, categories, category groups, roles,
states, priorities), so a misspelt name is reported at its line with the
closest valid one ("did you mean").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from pydantic import BaseModel

from komunikator.engine.compiled import CompiledCategory, CompiledProcess
from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.config.reference_checks import RefChecker, unknown
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.engine.schema.reports import (
    DIMENSIONS,
    MEASURES,
    TIME_DIMENSIONS,
    UNAVAILABLE_DIMENSIONS,
    Report,
)

_PRIORITIES: tuple[str, ...] = PRIORITIES
_TASK_STATES = ("open", "in_progress", "done", "withdrawn", "cancelled")
_TASK_ACTIONS = ("create", "take", "complete", "delegate", "withdraw", "cancel")


def check_reports(
    entries: Mapping[str, BaseModel], tree: Tree, errors: ErrorList, refs: RefChecker,
    categories: Mapping[str, CompiledCategory], processes: Mapping[str, CompiledProcess],
    removed_roles: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Report]:
    """The reports without mistakes; every mistake recorded at its place.

    `removed_roles`: library roles the tenant removed (`disabled: true`); a
    report naming one is read by its other roles, without an error.
    """
    good: dict[str, Report] = {}
    for name, model in entries.items():
        report = cast(Report, model)
        before = len(errors)
        _check(report, ("reports", name), tree, errors, refs, categories, processes, removed_roles)
        if len(errors) == before:
            good[name] = report
    return good


def _check(
    report: Report, path: Path_, tree: Tree, errors: ErrorList, refs: RefChecker,
    categories: Mapping[str, CompiledCategory], processes: Mapping[str, CompiledProcess],
    removed_roles: frozenset[str] | set[str],
) -> None:
    def err(where: Path_, message: str) -> None:
        errors.add(tree.where(where), where, message)

    source = report.source
    for i, dim in enumerate(report.dimensions):
        if dim in UNAVAILABLE_DIMENSIONS:
            err((*path, "dimensions", i), UNAVAILABLE_DIMENSIONS[dim])
        elif dim not in DIMENSIONS[source]:
            err((*path, "dimensions", i), _unknown_of(source, "dimension", dim, DIMENSIONS))
    if len(set(report.dimensions)) < len(report.dimensions):
        err((*path, "dimensions"), "a dimension is named twice")
    if sum(d in TIME_DIMENSIONS for d in report.dimensions) > 1:
        err((*path, "dimensions"), "at most one time dimension (day, week or month)")
    if any(d in TIME_DIMENSIONS for d in report.dimensions) and report.period.unit is None:
        err((*path, "period"), "a report grouped by time needs a period (e.g. '12 months'), not 'all'")
    for i, measure in enumerate(report.measures):
        if measure not in MEASURES[source]:
            err((*path, "measures", i), _unknown_of(source, "measure", measure, MEASURES))
    if len(set(report.measures)) < len(report.measures):
        err((*path, "measures"), "a measure is named twice")
    if report.sort is not None and report.sort not in report.measures:
        err((*path, "sort"), unknown("measure to sort by", report.sort, report.measures)
            + " (sort by one of the report's measures)")
    if report.chart == "line" and report.dimensions[0] not in TIME_DIMENSIONS:
        err((*path, "chart"), "a line chart draws a measure over time: make the first dimension day, week or month "
                              "(or use chart: bar)")
    for i, role in enumerate(report.roles):
        if role not in removed_roles:
            refs.ref("roles", "role", role, (*path, "roles", i))
    for i, condition in enumerate(report.filters):
        at = (*path, "filters", i)
        fields = [d for d in DIMENSIONS[source] if d not in TIME_DIMENSIONS and d != "area"]
        if condition.field not in fields:
            err((*at, "field"), _unknown_of(source, "filter field", condition.field,
                                            {source: tuple(fields)}))
            continue
        many = condition.op in ("in", "not_in")
        if many != isinstance(condition.value, list):
            err((*at, "value"), f"`{condition.op}` takes " + ("a list of names" if many else "one name"))
            continue
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        known = _known_values(condition.field, source, refs, categories, processes)
        for j, value in enumerate(values):
            if known is not None and value not in known:
                err((*at, "value", j) if many else (*at, "value"),
                    unknown(condition.field.replace("_", " "), value, known))


def _unknown_of(source: str, kind: str, name: str, table: Mapping[str, Iterable[str]]) -> str:
    """`unknown dimension 'unti' for tickets; did you mean 'unit'?`, naming the source that has it if another does."""
    message = unknown(kind, name, table[source]).replace(f"{name!r}", f"{name!r} for {source}", 1)
    elsewhere = [s for s, names in table.items() if s != source and name in names]
    if elsewhere:
        message += f" ({name!r} is a {kind} of source: {', '.join(elsewhere)})"
    return message


def _known_values(
    field: str, source: str, refs: RefChecker, categories: Mapping[str, CompiledCategory],
    processes: Mapping[str, CompiledProcess],
) -> set[str] | None:
    """The names a filter on `field` may test, or None when any value is accepted."""
    if field in ("unit", "to_unit"):
        return refs.names("units")
    if field == "category":
        return set(categories)
    if field == "category_group":
        return refs.names("category_groups")
    if field == "priority":
        return set(_PRIORITIES)
    if field == "state":
        if source == "tickets":
            return {s for p in processes.values() for s in p.states}
        return set(_TASK_STATES)
    if field == "status":
        return {"open", "closed"}
    if field == "action":
        return set(_TASK_ACTIONS)
    return None  # channel, assignee: open sets


__all__ = ["check_reports"]
