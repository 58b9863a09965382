"""The universal list pages: `/staff/lists/<list>?filter=<JSON>&sort=<…>&columns=<…>&after=<cursor>`.

One page for every declared list (`engine/lists/declared.py`), reading the
same engine as `GET /api/v1/lists/<list>` (so the same rows): chips of the
filter, a filter builder that works without a script (a GET form whose
buttons add or remove conditions and groups, `lists_form.py`), the sort by
several columns, the column chooser with positions, keyset "next page",
exports (the API's, with the session), and saved views (`engine/lists/saved.py`).
Other pages link here with a filter document in the URL.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.lists import filters, jobs, query, saved
from komunikator.engine.lists.declared import LISTS, list_spec, manages_users, texts
from komunikator.engine.lists.filters import text_in
from komunikator.engine.lists.view import View, cell_text, label, open_view
from komunikator.engine.service.errors import ServiceError
from komunikator.web.staff import lists_form, nav
from komunikator.web.staff.i18n import N_, translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import CheckedStaffPage, Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API
PAGE_SIZE = 50
OPERATOR_NAMES = {
    "eq": N_("equals"), "ne": N_("does not equal"), "in": N_("is one of"), "not_in": N_("is none of"),
    "contains": N_("contains"), "starts_with": N_("starts with"), "before": N_("before the day"),
    "after": N_("after the day"), "between": N_("between"), "last_n_days": N_("in the last N days"),
    "gt": N_("greater than"), "lt": N_("less than"), "is_empty": N_("is empty"), "is_not_empty": N_("is not empty"),
}


def _openable(page: Page) -> list[tuple[str, str]]:
    assert page.view is not None  # noqa: S101  (signed-in staff only)
    out = []
    for name in LISTS:
        spec = list_spec(page.tenant, name)
        if spec is not None and spec.readers(page.tenant, page.view):
            out.append((name, text_in(spec.label, page.language)))
    return out


async def list_entries(page: Page) -> list[nav.NavEntry]:
    """"Listy": the universal lists (the page shows the others as tabs)."""
    if not _openable(page):
        return []
    return [nav.NavEntry("lists", translations(page.language).gettext("Lists"), "/staff/lists/tickets", order=40)]


nav.add_provider(list_entries)


def list_url(name: str, params: dict[str, str]) -> str:
    """The page of a list with these parameters (empty ones left out)."""
    kept = {k: v for k, v in params.items() if v}
    return f"/staff/lists/{name}" + ("?" + urlencode(kept) if kept else "")


def _params(view: View) -> dict[str, str]:
    return view.params()


def _without(view: View, index: int) -> str:
    """The URL of the view without the root's item `index` (-1: without the full-text query)."""
    document = dict(view.filter.document)
    if index < 0:
        document.pop("q", None)
    else:
        items = list(document.get("conditions", []))
        del items[index]
        document["conditions"] = items
    params = _params(view)
    params["filter"] = json.dumps(document, ensure_ascii=False, separators=(",", ":")) if (
        document.get("conditions") or document.get("q")) else ""
    return list_url(view.spec.name, params)


def _sorted_by(view: View, key: str) -> str:
    """The URL sorting by one column: ascending, or descending when it already sorts ascending first."""
    first = view.sort[0] if view.sort else None
    descending = first is not None and first.column.key == key and not first.descending
    return list_url(view.spec.name, {**_params(view), "sort": ("-" if descending else "") + key})


@router.get("/staff/lists/{name}", response_class=HTMLResponse)
async def list_page(page: StaffPage, name: str) -> Response:
    """A list, as the URL's filter, sort and columns say (or a saved view, or the user's default)."""
    assert page.view is not None  # noqa: S101
    args = page.request.query_params
    tenant, user = page.tenant, page.view
    chosen = None
    try:
        if args.get("view", "").isdigit():
            chosen = await saved.find(page.scope, tenant, user, int(args["view"]))
        elif not any(args.get(k) for k in ("filter", "sort", "columns", "after")) and list_spec(tenant, name):
            chosen = await saved.default_of(page.scope, tenant, user, name)
        if chosen is not None and chosen.list_name == name:
            view = saved.opened(tenant, user, chosen)
        else:
            chosen = None
            view = open_view(tenant, user, name, filter_text=args.get("filter"), sort=args.get("sort"),
                             columns=args.get("columns"))
        result = await query.page(page.scope, tenant, user, view.spec, view.filter, view.sort, view.columns,
                                  after=args.get("after") or None, limit=PAGE_SIZE, now=page.now)
    except ServiceError as error:
        if error.status != 422:
            return await _refused(page, error)
        return await _faulty(page, name, error)
    return await draw(page, view, result, chosen=chosen)


async def _refused(page: Page, error: ServiceError) -> Response:
    t = translations(page.language)
    title = t.gettext("Page not found") if error.status == 404 else t.gettext("No access")
    return await render(page, "error.html", status_code=error.status, title=title, heading=title,
                        message=error.message)


async def _faulty(page: Page, name: str, error: ServiceError) -> Response:
    """The page with the builder as the user left it and the mistake named, no rows."""
    assert page.view is not None  # noqa: S101
    spec = list_spec(page.tenant, name)
    if spec is None or not spec.readers(page.tenant, page.view):
        return await _refused(page, ServiceError(404, "not_found", "list not found"))
    try:
        raw = json.loads(page.request.query_params.get("filter") or "{}")
    except ValueError:
        raw = {}
    view = View(spec, filters.parse(spec, page.tenant, None), query.parse_sort(spec, None),
                query.parse_columns(spec, None))
    return await draw(page, view, None, raw=raw, errors={"builder": f"{error.field}: {error.message}"},
                      status_code=422)


async def draw(page: Page, view: View, result: query.Page | None, *, chosen: Any = None, raw: Any = None,
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """Draw the list page."""
    assert page.view is not None  # noqa: S101
    tenant, language = page.tenant, page.language
    t = translations(language)
    spec = view.spec
    params = _params(view)
    chips = [(text, _without(view, n)) for n, text in enumerate(
        filters.describe(i, tenant, language, nested=True) for i in view.filter.root.items)]
    if view.filter.q:
        chips.insert(0, (f"{t.gettext('Search')}: „{view.filter.q}”", _without(view, -1)))
    document = raw if raw is not None else dict(view.filter.document)
    rows = []
    if result is not None:
        for row in result.rows:
            rows.append([(c, v, cell_text(c, v, tenant, language)) for c, v in zip(view.columns, row.values,
                                                                                  strict=True)])
    sort_keys = [(k.column.key, "desc" if k.descending else "asc") for k in view.sort]
    sort_keys += [("", "asc")] * (4 - len(sort_keys))
    chosen_keys = [c.key for c in view.columns]
    positions = {key: n + 1 for n, key in enumerate(chosen_keys)}
    ordered_columns = sorted(spec.columns, key=lambda c: (positions.get(c.key, 1000), spec.columns.index(c)))
    exports = {kind: f"/api/v1/lists/{spec.name}/export?" + urlencode({**{k: v for k, v in params.items() if v},
                                                                       "format": kind, "lang": language})
               for kind in ("xlsx", "csv")}
    return await render(
        page, "lists.html", status_code=status_code, title=text_in(spec.label, language), current="lists",
        spec=spec, tabs=_openable(page), view=view, result=result, rows=rows, chips=chips,
        description=filters.description(view.filter, tenant, language),
        builder=lists_form.nodes(spec, tenant, document, language), max_depth=filters.MAX_DEPTH,
        q=(document.get("q") if isinstance(document, dict) else "") or "",
        label=lambda c: label(c, language), field_label=lambda f: text_in(f.label, language),
        sort_keys=sort_keys, sortable=[c for c in spec.columns if c.sortable], chosen_keys=chosen_keys,
        positions=positions, ordered_columns=ordered_columns, sorted_by=lambda key: _sorted_by(view, key),
        first_sort=view.sort[0] if view.sort else None,
        next_url=list_url(spec.name, {**params, "after": result.next_cursor}) if result and result.next_cursor
        else None, first_url=list_url(spec.name, params) if page.request.query_params.get("after") else None,
        exports=exports, background_export=result is not None and (result.total or 0) > jobs.inline_max_rows(),
        views=await saved.readable(page.scope, tenant, page.view, spec.name),
        chosen_view=chosen, default_view=await saved.default_of(page.scope, tenant, page.view, spec.name),
        may_share_office=_manages(page), own_units=[m.unit for m in page.view.memberships],
        unit_name=lambda code: text_in(texts(tenant.units[code].name), language) if code in tenant.units else code,
        errors=errors or {}, params=params, operator_names={k: t.gettext(v) for k, v in OPERATOR_NAMES.items()},
    )


def _manages(page: Page) -> bool:
    assert page.view is not None  # noqa: S101
    return manages_users(page.tenant, page.view)


@router.get("/staff/lists/{name}/build")
async def build(page: StaffPage, name: str) -> Response:
    """The builder's form → the list's URL (a GET with no side effects: the filter lives in the URL)."""
    spec = list_spec(page.tenant, name)
    if spec is None:
        return await _refused(page, ServiceError(404, "not_found", "list not found"))
    form: dict[str, list[str]] = {}
    for key, value in page.request.query_params.multi_items():
        form.setdefault(key, []).append(value)
    document = lists_form.document(spec, form)
    params = {"filter": json.dumps(document, ensure_ascii=False, separators=(",", ":")) if document else "",
              "sort": lists_form.chosen_sort(form), "columns": ",".join(lists_form.chosen_columns(spec, form))}
    return RedirectResponse(list_url(name, params), status_code=303)


async def _form(page: Page) -> dict[str, str]:
    form = await page.request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/staff/lists/{name}/views")
async def save_view(page: CheckedStaffPage, name: str) -> Response:
    """Save the current view (its parameters come with the form) under a name."""
    assert page.view is not None  # noqa: S101
    form = await _form(page)
    try:
        view = open_view(page.tenant, page.view, name, filter_text=form.get("filter") or None,
                         sort=form.get("sort") or None, columns=form.get("columns") or None)
        sharing, _, unit = form.get("sharing", "personal").partition(":")
        row = await saved.save(page.scope, page.tenant, page.view, view, form.get("name", ""), sharing, page.now,
                               unit or None)
    except ServiceError as error:
        if error.status not in (403, 422):
            return await _refused(page, error)
        view = open_view(page.tenant, page.view, name, filter_text=None, sort=None, columns=None)
        result = await query.page(page.scope, page.tenant, page.view, view.spec, view.filter, view.sort,
                                  view.columns, after=None, limit=PAGE_SIZE, now=page.now)
        return await draw(page, view, result, errors={"view-name": error.message}, status_code=422)
    return RedirectResponse(f"/staff/lists/{name}?view={row.id}", status_code=303)


@router.post("/staff/lists/{name}/views/{view_id}/default")
async def make_default(page: CheckedStaffPage, name: str, view_id: int) -> Response:
    """Open this list with the view from now on (or, with `clear`, with no default)."""
    assert page.view is not None  # noqa: S101
    form = await _form(page)
    try:
        await saved.set_default(page.scope, page.tenant, page.view, None if form.get("clear") else view_id, name,
                                page.now)
    except ServiceError as error:
        return await _refused(page, error)
    return RedirectResponse(f"/staff/lists/{name}?view={view_id}", status_code=303)


@router.post("/staff/lists/{name}/views/{view_id}/delete")
async def delete_view(page: CheckedStaffPage, name: str, view_id: int) -> Response:
    """Delete a saved view (its owner; a user manager for one shared with the office)."""
    assert page.view is not None  # noqa: S101
    try:
        await saved.delete(page.scope, page.tenant, page.view, view_id, page.now)
    except ServiceError as error:
        return await _refused(page, error)
    return RedirectResponse(f"/staff/lists/{name}", status_code=303)


__all__ = ["list_url", "router"]
