"""Report a problem: `/zglos` (choose a category, then the form), `POST /zglos`, and `/zglos/podobne`
(open reports of the category near the pin: "Is this yours?").

The form is plain HTML that works without JavaScript (an address instead of the pin,
photos as they are); `static/report.js` adds the map, the device's location, photos shrunk
before upload and the offline draft (`static/drafts.js`). The POST goes through the same
intake as the API (`web/submission.py`) with the form's Idempotency-Key, so a draft sent
twice is one ticket. Refusals come back as the form with its values, a summary and a
message beside each field (422).
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from komunikator.engine.compiled import CompiledCategory
from komunikator.engine.service import public_reports
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.row_views import user_view
from komunikator.web.api_attachments import media_limits, read_form, read_upload
from komunikator.web.portal import report_form
from komunikator.web.portal.context import PortalPage, PortalPage_
from komunikator.web.portal.rendering import finish, map_context, render
from komunikator.web.staff import security
from komunikator.web.staff.i18n import localized, translations
from komunikator.web.staff.session import CsrfRefused
from komunikator.web.submission import submit_report

router = APIRouter(include_in_schema=False)
_FORM_OVERHEAD = 64 * 1024


def _plain(text: str) -> str:
    """Lower case without diacritics (ł → l too): what the category search compares."""
    text = text.lower().replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


async def _chooser(page: PortalPage, search: str, error: bool = False) -> HTMLResponse:
    groups = report_form.grouped(page.tenant, page.language)
    if search:
        wanted = _plain(search)
        for group in groups:
            group["categories"] = [c for c in group["categories"] if wanted in _plain(
                " ".join((c["label"], c["description"], c["keywords"], group["name"])))]
        groups = [g for g in groups if g["categories"]]
    errors = {"category": translations(page.language).gettext(report_form.MESSAGES["category"])} if error else {}
    return await render(page, "report_category.html", status_code=422 if error else 200, groups=groups,
                        search=search, errors=errors, current="report")


async def _form(page: PortalPage, category: CompiledCategory, state: report_form.FormState | None = None,
                status_code: int = 200) -> HTMLResponse:
    state = state or report_form.FormState({"idempotency_key": uuid.uuid4().hex})
    gettext = translations(page.language).gettext
    asked = report_form.questions(category)
    errors = {key: gettext(message) for key, message in state.errors.items()}
    group = page.tenant.category_groups.get(category.spec.group or "")
    return await render(
        page, "report_form.html", status_code=status_code, category=category, questions=asked,
        choices=lambda q: report_form.choices(q, page.language), values=state.values, errors=errors,
        labels=report_form.labels(asked, page.language), map=map_context(page),
        group_icon=group.icon if group else None, max_photos=page.tenant.config.max_attachments,
        max_bytes=media_limits(page.request).max_bytes, current="report",
        category_label=localized(category.spec.name, page.language))


@router.get("/zglos", response_class=HTMLResponse)
async def report(page: PortalPage_, category: Annotated[str | None, Query(max_length=64)] = None,
                 q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    """Step one, the category (grouped, searchable); with `?category=`, the form of that category."""
    found = report_form.public_categories(page.tenant).get(category or "")
    if found is None:
        return await _chooser(page, q.strip(), error=category is not None and category != "")
    return await _form(page, found)


def _check_csrf(page: PortalPage, given: Any) -> None:
    if page.cookies.get("komunikator_portal_csrf") or not security.same_origin(page.request) or not (
            isinstance(given, str) and security.token_matches(page.csrf, given)):
        raise CsrfRefused()


@router.post("/zglos", response_model=None)
async def send(page: PortalPage_) -> Response:
    """File the report; 303 to its public page, or the form again with what to fix (422)."""
    tenant = page.tenant
    limits = media_limits(page.request)
    most = tenant.config.max_attachments
    if page.request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await page.request.form(max_files=0, max_fields=60)  # no photos: the app-wide body limit holds
    else:
        form = await read_form(page.request, most * limits.max_bytes + _FORM_OVERHEAD, max_files=most + 1,
                               max_fields=60)
    try:
        _check_csrf(page, page.request.headers.get(security.CSRF_HEADER) or form.get("csrf_token"))
        category = report_form.public_categories(tenant).get(str(form.get("category") or ""))
        if category is None:
            return await _chooser(page, "", error=True)
        body, state = report_form.read(form, category, signed_in=page.user is not None)
        files = report_form.photo_files(form)
        if category.spec.photo == "required" and not files:
            state.errors.setdefault("photos", report_form.MESSAGES["photos_required"])
        if body is None or state.errors:
            return await _refused(page, category, state, bool(files))
        if len(files) > most:
            state.errors["photos"] = report_form.MESSAGES["too_many_attachments"]
            return await _refused(page, category, state, True)
        try:
            uploads = [await read_upload(item, limits, f"photos.{i}") for i, item in enumerate(files)]
            user = await user_view(page.scope, page.user) if page.user is not None else None
            receipt, _ = await submit_report(page.request, tenant, page.scope, page.now, body, user,
                                             uploads or None, state.values["idempotency_key"] or None,
                                             page.language)
        except ServiceError as error:
            where, message = report_form.refusal_field(error, report_form.questions(category))
            state.errors[where] = message
            return await _refused(page, category, state, bool(files), retry_after=error.details)
        except ValidationError:
            state.errors["form"] = report_form.MESSAGES["generic"]
            return await _refused(page, category, state, bool(files))
    finally:
        await form.close()
    return finish(page, RedirectResponse(f"/zgloszenia/{receipt.number}?wyslane=1", status_code=303))


async def _refused(page: PortalPage, category: CompiledCategory, state: report_form.FormState, had_photos: bool,
                   retry_after: Any = None) -> HTMLResponse:
    if had_photos and "photos" not in state.errors:
        state.errors["photos"] = report_form.MESSAGES["photos_again"]
    limited = state.errors.get("form") == report_form.MESSAGES["too_many_requests"]
    response = await _form(page, category, state, status_code=429 if limited else 422)
    if isinstance(retry_after, dict) and retry_after.get("retry_after"):
        response.headers["Retry-After"] = str(retry_after["retry_after"])
    return response


@router.get("/zglos/podobne", response_class=HTMLResponse)
async def nearby(page: PortalPage_, category: Annotated[str, Query(max_length=64)],
                 lat: Annotated[float, Query(ge=-90, le=90)], lon: Annotated[float, Query(ge=-180, le=180)]
                 ) -> HTMLResponse:
    """Open reports of `category` near the pin (a fragment the form shows; a page without JavaScript)."""
    found = report_form.public_categories(page.tenant).get(category)
    reports = await public_reports.nearby(page.scope, page.tenant, category, lat, lon, page.now) if found else []
    fragment = page.request.headers.get("x-fragment") == "1"
    return await render(page, "report_nearby_fragment.html" if fragment else "report_nearby.html",
                        reports=reports, category=found, current="report")

