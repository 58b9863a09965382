"""The ticket page: fields, SLA clock, map, photos, attributes, tasks, timeline, and the offered actions.

Reads go through `reading.ticket_json`/`reading.history`, writes through `tickets.act` and
`tickets.act_on_task` — the same service as the API. A refusal is drawn on the page as
words (`words.REFUSALS`), with the user's inputs kept; a stale version (someone changed the
ticket meanwhile) redraws the current ticket and asks to repeat the action.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from komunikator.engine.delivery import bell
from komunikator.engine.service import attachments, reading, ticket_relations, tickets
from komunikator.engine.service.errors import ServiceError
from komunikator.web.staff import forms, offers, timeline, words
from komunikator.web.staff.i18n import localized, translations
from komunikator.web.staff.offers import offered
from komunikator.web.staff.rendering import render, tile_source
from komunikator.web.staff.session import CheckedStaffPage, Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API


def _needs_people(offer: offers.Offer) -> bool:
    return any("to_user" in need for acts in offer.tasks.values() for a in acts for need in a.requires)


def _since(entries: list[timeline.Entry], seen: str | None) -> list[timeline.Entry]:
    """The timeline's entries newer than `seen` (the newest moment the user's page showed)."""
    try:
        moment = datetime.fromisoformat(seen) if seen else None
    except ValueError:
        return []
    return [e for e in entries if moment is not None and datetime.fromisoformat(e.at) > moment]


async def draw(page: Page, number: str, status_code: int = 200, *, failed: str | None = None,
               errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
               problem: str | None = None, seen: str | None = None) -> HTMLResponse:
    """The ticket page; `failed` names the form whose `errors` and `values` are shown again; `seen` (after a
    stale write) the newest moment of history the user's page had shown: what came after is listed."""
    assert page.view is not None  # noqa: S101  (StaffPage guarantees it)
    t = translations(page.language)
    try:  # the ticket's rows are read once here and handed to every part of the page (none is kept after it)
        loaded = await tickets.load_readable(page.scope, page.tenant, number, page.view, counted=True)
    except ServiceError:
        return await render(page, "error.html", 404, title=t.gettext("Not found"), current=None,
                            heading=t.gettext("Not found"),
                            message=t.gettext("There is no report with this number, or it is not for you."))
    ticket, view, user = loaded.ticket, loaded.view, page.view
    offer = offered(page.tenant, view, user, page.now)  # the engine's one answer, asked once per page

    async def staff_and_history() -> tuple[ticket_relations.StaffDirectory, list[dict[str, Any]]]:
        # colleagues' names (residents never listed) and who a task may go to, then the history named with them
        staff = await ticket_relations.staff_directory(page.scope, page.tenant)
        return staff, await offers.history(page.scope, loaded, offer, user, staff.display_names)

    # the parts read side by side (independent reads, none inside a transaction): one request's latency
    # is then about its longest chain of statements rather than the sum of all of them
    data, (staff, history), photos, related = await asyncio.gather(
        reading.ticket_json(page.scope, page.tenant, loaded, page.view, page.now, page.language, offer.source),
        staff_and_history(),
        attachments.described_for_staff(page.scope, page.tenant, loaded, page.view, offer.source),
        ticket_relations.relations(page.scope, page.tenant, ticket, page.view))
    names = {str(user_id): name for user_id, name in staff.names.items()}
    people = staff.candidates if _needs_people(offer) else []
    ticket_forms, task_forms = forms.build(ticket.number, offer, page.tenant, t, page.language, people,
                                           ticket.category)
    photo_forms = forms.photo_forms(ticket.number, photos, t) if offer.source and offer.source.hide_photos else {}
    comment = forms.comment_form(ticket.number, offer, page.tenant, t, page.language)
    editing = forms.edit_form(ticket.number, data, page.tenant, t, page.language) if offer.edit else None
    category = page.tenant.categories.get(ticket.category)  # None after a definition change (`known`)
    specs = category.spec.attributes if category is not None else {}
    attributes = [
        (localized(spec.label, page.language),
         _attribute_text(spec, data["attributes"].get(name), page.language))
        for name, spec in specs.items() if name in data["attributes"]
    ]
    attributes += [(name, _attribute_text(None, value, page.language))  # ones the category no longer names
                   for name, value in data["attributes"].items() if name not in specs]
    tile_url, attribution = tile_source(page)
    for task in data["tasks"]:
        task["unit_name"] = localized(page.tenant.units[task["unit"]].name, page.language) \
            if task["unit"] in page.tenant.units else task["unit"]
        task["assignee_name"] = names.get(str(task["assignee"]), "") if task["assignee"] else ""
        task["state_text"] = t.gettext(words.TASK_STATES.get(task["state"], task["state"]))
    if errors and failed:  # an error about a field the form does not have is about the whole form
        every = [*ticket_forms, *(x for fs in task_forms.values() for x in fs), *photo_forms.values(),
                 *(f for f in (comment, editing) if f is not None)]
        shown = next((f for f in every if f.id == failed), None)
        inputs = {spec["name"] for spec in shown.fields} if shown else set()
        errors = {(name if name in inputs else "_"): message for name, message in errors.items()}
    summary = []
    if errors and failed:
        summary = [(f"{failed}-{name}" if name != "_" else failed, message) for name, message in errors.items()]
    elif problem:
        summary = [("actions", problem)]
    photo_names = {p["id"]: t.gettext("Photo %(num)d") % {"num": i} for i, p in enumerate(photos, 1)}
    entries = timeline.entries(history, page.tenant, ticket.process, page.language, t, names, ticket.category,
                               photo_names)
    title = f"{ticket.number} – {data['category_name']}"
    return await render(
        page, "ticket.html", status_code, title=(t.gettext("Error") + ": " + title) if summary else title,
        current=None, ticket=data, ticket_forms=ticket_forms, task_forms=task_forms, offer=offer,
        comment_form=comment, edit_form=editing,
        attributes=attributes, photos=photos, photo_forms=photo_forms, related=related,
        tile_url=tile_url or "", attribution=attribution or "",
        unit_name=localized(page.tenant.units[ticket.responsible_unit].name, page.language)
        if ticket.responsible_unit in page.tenant.units else ticket.responsible_unit,
        priority=t.gettext(words.PRIORITIES.get(ticket.priority, ticket.priority)),
        timeline=entries, meanwhile=_since(entries, seen), seen=entries[0].at if entries else "",
        failed=failed, form_errors=errors or {}, values=values or {}, summary=summary,
    )


def _attribute_text(spec: Any, value: Any, language: str) -> str:
    if spec is not None and spec.values and str(value) in spec.values:
        return localized(dict(spec.values[str(value)]), language)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return "" if value is None else str(value)


@router.get("/staff/tickets/{number}", response_class=HTMLResponse)
async def ticket_page(number: str, page: StaffPage) -> Response:
    """The ticket as this user sees it, with what they may do now."""
    return await draw(page, number)


def _refusal(error: ServiceError, page: Page, label: str | None = None) -> str:
    t = translations(page.language)
    if error.code == "missing_input" and label:
        return t.gettext("Fill in “%(field)s”.") % {"field": label}
    text = words.REFUSALS.get(error.code)
    return t.gettext(text) if text else t.gettext("The action was refused.")


async def submit(page: Page, number: str, form_id: str, run: Any) -> Response:
    """Run one write; PRG on success, the page with the refusal drawn otherwise."""
    form = await page.request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    seen = values.pop("seen", None)  # the newest moment of history the form's page showed
    try:
        await run(values)
    except ServiceError as error:
        if error.code == "stale_version":
            # the page now shows the current ticket and what changed since the form's page; the user's
            # inputs stay in the form, which carries the current version: sending it again redoes the action
            return await draw(page, number, 409, failed=form_id, values=values,
                              errors={"_": _refusal(error, page)}, seen=seen)
        if error.status == 404:
            return await draw(page, number, 404)
        field = error.field if error.field and (error.field in values or error.code == "missing_input") else "_"
        label = translations(page.language).gettext(words.INPUTS[field]) if field in words.INPUTS else None
        return await draw(page, number, error.status if error.status in (403, 409, 422) else 422,
                          failed=form_id, values=values, errors={field: _refusal(error, page, label)})
    bell.ring()  # notifications the change queued go out now (as after the API's writes)
    return RedirectResponse(f"/staff/tickets/{number}", status_code=303)


def _version(values: dict[str, str]) -> int | None:
    raw = values.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


@router.post("/staff/tickets/{number}/act", response_class=HTMLResponse)
async def act(number: str, page: CheckedStaffPage) -> Response:
    """Fire a transition or a built-in action with the inputs the form carried."""
    form = await page.request.form()
    action = str(form.get("action") or "")

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101
        inputs = {k: v for k, v in values.items() if k not in ("action", "version") and v.strip()}
        await tickets.act(page.scope, page.tenant, number, action, page.view, inputs, page.now, _version(values))

    return await submit(page, number, f"act-{action}", run)


@router.post("/staff/tickets/{number}/tasks/{key}", response_class=HTMLResponse)
async def act_on_task(number: str, key: str, page: CheckedStaffPage) -> Response:
    """Take, complete, hand over or withdraw a task (the inbox's "Take" too: htmx follows the redirect)."""
    form = await page.request.form()
    action = str(form.get("action") or "")
    back = str(form.get("back") or "")

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101
        inputs: dict[str, Any] = {k: v for k, v in values.items()
                                  if k not in ("action", "version", "back") and v.strip()}
        await tickets.act_on_task(page.scope, page.tenant, number, key, action, page.view, inputs, page.now,
                                  _version(values))

    response = await submit(page, number, f"task-{key}-{action}", run)
    if back == "inbox" and response.status_code == 303:
        return RedirectResponse("/staff/", status_code=303)
    return response


@router.post("/staff/tickets/{number}/comments", response_class=HTMLResponse)
async def add_comment(number: str, page: CheckedStaffPage) -> Response:
    """An internal note, a public comment, a message to the reporter or to a unit — as `capabilities` allows."""

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101
        visibility = values.get("visibility", "")
        if visibility not in ("internal", "public", "to_reporter", "to_unit"):
            raise ServiceError(422, "invalid_input", "unknown kind of comment", field="visibility")
        await tickets.add_comment(page.scope, page.tenant, number, page.view, values.get("body", ""),
                                  visibility, page.now, values.get("target_unit") or None)  # type: ignore[arg-type]

    return await submit(page, number, "comment", run)


def _changes(values: dict[str, str], current: dict[str, Any], specs: Any) -> dict[str, Any]:
    """The fields the edit form changed, typed as `tickets.TicketEdit` takes them."""
    changes: dict[str, Any] = {}
    for name in ("description", "address"):
        if name in values and values[name].strip() != (current[name] or ""):
            changes[name] = values[name].strip() or (None if name == "address" else "")
    if "lat" in values and "lon" in values:
        place = []
        for name in ("lat", "lon"):
            raw = values[name].strip().replace(",", ".")
            try:
                place.append(float(raw) if raw else None)
            except ValueError:
                raise ServiceError(422, "invalid_input", f"{name} is not a number", field=name) from None
        if place != [current["lat"], current["lon"]]:
            changes["lat"], changes["lon"] = place
    attributes: dict[str, Any] = {}
    for name, spec in specs.items():
        key = f"attr__{name}"
        if key not in values:
            continue
        raw = values[key].strip()
        value: Any = raw or None
        if value is not None and spec.type == "number":
            try:
                value = int(raw) if raw.lstrip("-").isdigit() else float(raw.replace(",", "."))
            except ValueError:
                raise ServiceError(422, "invalid_attribute", f"{name} is not a number", field=key) from None
        if value != current["attributes"].get(name):
            attributes[name] = value
    if attributes:
        changes["attributes"] = attributes
    return changes


@router.post("/staff/tickets/{number}/edit", response_class=HTMLResponse)
async def edit(number: str, page: CheckedStaffPage) -> Response:
    """Change the report's description, address, location or attributes (a role that edits tickets)."""

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101
        loaded = await tickets.load_readable(page.scope, page.tenant, number, page.view)
        current = await reading.ticket_json(page.scope, page.tenant, loaded, page.view, page.now)
        category = page.tenant.categories.get(loaded.ticket.category)
        changes = _changes(values, current, category.spec.attributes if category is not None else {})
        if not changes:
            return  # nothing changed: nothing to record
        try:
            edit = tickets.TicketEdit(**changes)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "_"
            raise ServiceError(422, "invalid_input", first.get("msg", ""), field=field) from None
        try:
            await tickets.edit(page.scope, page.tenant, number, edit, page.view, page.now, _version(values))
        except ServiceError as error:
            if error.field and error.field.startswith("attributes."):
                error.field = "attr__" + error.field.removeprefix("attributes.")
            raise

    return await submit(page, number, "edit", run)
