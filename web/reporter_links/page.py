"""`/odpowiedz/{link}`: the report as its reporter sees it through the link, and one form per action open to them.

    GET  /odpowiedz/{link}              the report (number, category, status, the office's messages) and forms
    POST /odpowiedz/{link}              action, public_comment, submission (a key per drawn form), csrf_token
    GET  /odpowiedz/{link}?wyslano=1    after a sent answer (redirect after POST)

The same rules as the API: the engine decides what the reporter may do
(`reporter_links.reporter_actions`), the service acts (`reporter_links.act`).
An unknown link is a 404 page, one that no longer works a 410 page saying
why; a refused form comes back (422) with an error summary and the text kept.
The page is the portal's shell: strict CSP, no inline script, no-store.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.delivery import bell
from komunikator.engine.service import reporter_links
from komunikator.engine.service.errors import ServiceError
from komunikator.web.portal import nav, rendering
from komunikator.web.portal.context import CheckedPortalPage, PortalPage, PortalPage_
from komunikator.web.staff.i18n import N_, localized, translations

router = APIRouter(include_in_schema=False)
TEMPLATES = rendering.TEMPLATES.parent.parent / "reporter_links" / "templates"
#: the longest answer the form takes (as the API)
MAX_ANSWER = 5000
Link = Annotated[str, Path(max_length=200)]

_GONE_TEXT = {
    "expired": N_("This link has expired. Links in our e-mails work for a limited time."),
    "revoked": N_("This link no longer works: the office has switched it off."),
    "closed": N_("This report is closed, so the link no longer acts on it."),
    "erased": N_("The contact details given with this report were erased, so the link no longer works."),
}


@cache
def _environment(language: str) -> jinja2.Environment:
    """The portal's environment with this page's templates in front (its shell, filters and catalog)."""
    base = rendering.environment(language)
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)]
    if base.loader is not None:
        loaders.append(base.loader)
    env: jinja2.Environment = base.overlay(loader=jinja2.ChoiceLoader(loaders))
    return env


async def _draw(page: PortalPage, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    values = rendering.shell(page)
    values["nav"] = await nav.navigation(page)
    values.update(context)
    html = _environment(page.language).get_template(template).render(values)
    response: HTMLResponse = rendering.finish(page, HTMLResponse(html, status_code=status_code))
    return response


async def _refusal(page: PortalPage, error: ServiceError) -> HTMLResponse:
    """The page for a link that does not work (404 unknown, 410 gone) or a limit reached (429)."""
    t = translations(page.language)
    if error.status == 410:
        reason = (error.details or {}).get("reason", "expired")
        heading = t.gettext("This link no longer works")
        message = t.gettext(_GONE_TEXT.get(reason, _GONE_TEXT["expired"]))
    elif error.status == 429:
        heading = t.gettext("Too many attempts")
        wait = max(1, int((error.details or {}).get("retry_after", 60)) // 60)
        message = t.ngettext("Try again in %(num)d minute.", "Try again in %(num)d minutes.", wait) % {"num": wait}
    else:
        heading = t.gettext("Unknown link")
        message = t.gettext("We do not know this link. Check that the whole address was copied from the e-mail.")
    response = await _draw(page, "reporter_link_refused.html", error.status, heading=heading, message=message)
    if error.status == 429:
        response.headers["Retry-After"] = str((error.details or {}).get("retry_after", 60))
    return response


async def _report_page(page: PortalPage, link: str, *, status_code: int = 200, sent: bool = False,
                       errors: dict[str, str] | None = None, chosen: str | None = None, answer: str = "",
                       notice: str | None = None) -> HTMLResponse:
    try:
        opened = await reporter_links.open_link(page.scope, page.tenant, link, page.now)
    except ServiceError as error:
        return await _refusal(page, error)
    report = await reporter_links.describe(page.scope, page.tenant, opened, page.now)
    language = page.language
    actions = [{"name": a.name, "label": localized(a.label, language), "requires": a.requires,
                "submission": secrets.token_urlsafe(16)} for a in report.actions]
    return await _draw(
        page, "reporter_link.html", status_code, link=link, report=report, actions=actions, sent=sent,
        errors=errors or {}, chosen=chosen, answer=answer, notice=notice, max_answer=MAX_ANSWER,
        category=localized(report.category_name, language), status=localized(report.state_label, language),
    )


@router.get("/odpowiedz/{link}", response_class=HTMLResponse)
async def show(link: Link, page: PortalPage_, wyslano: str | None = None) -> HTMLResponse:
    """The report and the forms of the actions open to its reporter now."""
    return await _report_page(page, link, sent=wyslano == "1")


@router.post("/odpowiedz/{link}", response_class=HTMLResponse)
async def send(link: Link, page: CheckedPortalPage) -> Response:
    """Fire the chosen action; back to the page (303), or the page with the form's errors (422)."""
    form = await page.request.form()
    action = str(form.get("action") or "")[:64]
    answer = str(form.get("public_comment") or "")
    submission = str(form.get("submission") or "")[:64] or None
    t = translations(page.language)
    if len(answer) > MAX_ANSWER:
        return await _report_page(page, link, status_code=422, chosen=action, answer=answer, errors={
            "public_comment": t.gettext("The answer must be at most %(max)d characters long.") % {"max": MAX_ANSWER}})
    address = page.request.client.host if page.request.client is not None else None
    try:
        _, replayed = await reporter_links.act(page.scope, page.tenant, link, action, {"public_comment": answer},
                                               page.now, submission=submission, address=address)
    except ServiceError as error:
        if error.status in (404, 410, 429):
            return await _refusal(page, error)
        if error.status == 422 and error.code == "missing_input":
            return await _report_page(page, link, status_code=422, chosen=action, answer=answer,
                                      errors={"public_comment": t.gettext("Write your answer.")})
        # 403/409/other 422: the report moved on meanwhile, or the form was tampered with
        return await _report_page(page, link, status_code=409 if error.status == 409 else 422, answer=answer,
                                  notice=t.gettext("This can no longer be done: the report has changed meanwhile. "
                                                   "The page shows what can be done now."))
    if not replayed:
        bell.ring()
    done: Response = rendering.finish(page, RedirectResponse(f"/odpowiedz/{link}?wyslano=1", status_code=303))
    return done
