"""A list as one request asks for it: which list, filter, sort and columns; and its cells as people read them.

The API, the staff page and the exports all start here, so they read the
same view: `open_view` checks who may open the list and parses the rest
(422 for any mistake, naming the parameter or the filter's JSON path).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists import filters, query
from komunikator.engine.lists.declared import list_spec
from komunikator.engine.lists.filters import Filter, text_in
from komunikator.engine.lists.query import SortKey
from komunikator.engine.lists.spec import Column, ListSpec
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.scope import TenantScope


@dataclass(frozen=True)
class View:
    """A checked request for a list: the list, the filter, the sort, the columns."""

    spec: ListSpec
    filter: Filter
    sort: tuple[SortKey, ...]
    columns: tuple[Column, ...]

    def params(self) -> dict[str, str]:
        """The view as URL parameters (filter as compact JSON); empty ones left out."""
        out: dict[str, str] = {}
        if not self.filter.is_empty():
            out["filter"] = json.dumps(self.filter.document, ensure_ascii=False, separators=(",", ":"))
        out["sort"] = query.sort_text(self.sort)
        out["columns"] = ",".join(c.key for c in self.columns)
        return out


def open_view(tenant: CompiledTenant, user: UserView, name: str, *, filter_text: str | None, sort: str | None,
              columns: str | None) -> View:
    """The view `user` asks for; 404 for a list that does not exist, 403 for one they may not open."""
    spec = list_spec(tenant, name)
    if spec is None:
        raise ServiceError(404, "not_found", "list not found")
    if not spec.readers(tenant, user):
        raise ServiceError(403, "forbidden", f"your roles do not open the list {name}")
    return View(spec, filters.parse(spec, tenant, filter_text), query.parse_sort(spec, sort),
                query.parse_columns(spec, columns))


async def size(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, now: datetime) -> query.Page:
    """The view's first page of one row, with its total (`estimated` above the count threshold): how big an
    export of it would be."""
    return await query.page(scope, tenant, user, view.spec, view.filter, view.sort, view.columns, after=None,
                            limit=1, now=now)


def label(column: Column, language: str) -> str:
    """A column's heading in `language`."""
    return text_in(column.label, language)


def local(moment: datetime, tenant: CompiledTenant) -> datetime:
    """A stored moment in the city's time zone, without the zone and to the second (as spreadsheets hold dates)."""
    return moment.astimezone(ZoneInfo(tenant.config.time_zone)).replace(tzinfo=None, microsecond=0)


def cell(column: Column, value: Any, tenant: CompiledTenant, language: str) -> Any:
    """A cell as exported: numbers stay numbers, moments local datetimes, codes their labels, the rest text."""
    return cell_function(column, tenant, language)(value)


def cell_function(column: Column, tenant: CompiledTenant, language: str) -> Callable[[Any], Any]:
    """`cell` for one column, its labels looked up once (an export calls it for every row)."""
    if column.render == "datetime":
        zone = ZoneInfo(tenant.config.time_zone)
        return lambda v: None if v is None else v.astimezone(zone).replace(tzinfo=None, microsecond=0)
    if column.render == "number":
        return lambda v: v
    if column.render == "bool":
        yes, no = (text_in(t, language) for t in ({"pl": "tak", "en": "yes"}, {"pl": "nie", "en": "no"}))
        return lambda v: None if v is None else (yes if v else no)
    if column.choices is not None:
        labels = {code: text_in(texts, language) for code, texts in column.choices(tenant).items()}

        def choice(v: Any) -> Any:
            if v is None:
                return None
            if isinstance(v, list):
                return ", ".join(labels.get(i, str(i)) for i in v)
            return labels.get(v, str(v))
        return choice
    return lambda v: None if v is None else str(v)


def cell_text(column: Column, value: Any, tenant: CompiledTenant, language: str) -> str:
    """A cell as the page shows it (and CSV writes it): dates as `20.05.2026 14:00` in the city's zone."""
    shown = cell(column, value, tenant, language)
    if shown is None:
        return ""
    if isinstance(shown, datetime):
        return shown.strftime("%d.%m.%Y %H:%M") if language == "pl" else shown.strftime("%Y-%m-%d %H:%M")
    if isinstance(shown, float):
        return (f"{shown:g}".replace(".", ",")) if language == "pl" else f"{shown:g}"
    return str(shown)


__all__ = ["View", "cell", "cell_text", "label", "local", "open_view"]
