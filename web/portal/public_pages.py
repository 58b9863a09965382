"""The public side of reports: `/zgloszenia` (the list), `/mapa` (the map with the same list beside it),
`/zgloszenia/{number}` (a report's public page with its timeline), `POST /zgloszenia/{number}/obserwuj`
(follow it) and `/zgloszenia/moje` (a signed-in resident's reports and follows).

Everything shown comes from `engine/service/public_reports.py`, which applies each category's
`public_map` (hidden reports are a 404 like a missing number — the same answer as another
city's number on this host). No description, address, contact, internal note or hidden photo.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.delivery import bell
from komunikator.engine.service import following, public_reports, tickets
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.row_views import user_view
from komunikator.web.portal.context import CheckedPortalPage, PortalPage, PortalPage_
from komunikator.web.portal.rendering import finish, map_context, render
from komunikator.web.portal.report_form import MESSAGES
from komunikator.web.staff.i18n import N_, localized, translations

router = APIRouter(include_in_schema=False)
Status = Literal["all", "open", "closed"]
STATUS_NAMES = {"all": N_("All"), "open": N_("Open"), "closed": N_("Finished")}
DAYS = (7, 30, 90, 365)


async def not_found_page(page: PortalPage) -> HTMLResponse:
    """The one 404 of the portal: a number that does not exist, another city's, or a hidden category's."""
    gettext = translations(page.language).gettext
    return await render(page, "error.html", status_code=404, heading=gettext("Page not found"),
                        message=gettext("There is no report with this number in this city."))


def _categories(page: PortalPage) -> list[tuple[str, str]]:
    tenant = page.tenant
    return sorted(((name, localized(tenant.categories[name].spec.name, page.language))
                   for name in public_reports.listed_categories(tenant)), key=lambda c: c[1].lower())


async def _listing(page: PortalPage, status: Status, category: str | None, days: int, before: int | None,
                   limit: int) -> dict[str, Any]:
    if category is not None and category not in public_reports.listed_categories(page.tenant):
        category = None
    reports, next_cursor = await public_reports.public_list(page.scope, page.tenant, page.now, status=status,
                                                            category=category, days=days, before=before, limit=limit)
    names = {name: localized(c.spec.name, page.language) for name, c in page.tenant.categories.items()}
    return {"reports": reports, "next_cursor": next_cursor, "status": status, "category": category or "",
            "days": days, "categories": _categories(page), "category_names": names,
            "statuses": [(key, translations(page.language).gettext(label)) for key, label in STATUS_NAMES.items()],
            "day_choices": DAYS, "first_page": before is None}


StatusQuery = Annotated[Status, Query()]
CategoryQuery = Annotated[str | None, Query(max_length=64)]
DaysQuery = Annotated[int, Query(ge=1, le=365)]
CursorQuery = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/zgloszenia", response_class=HTMLResponse)
async def report_list(page: PortalPage_, status: StatusQuery = "all", category: CategoryQuery = None,
                      days: DaysQuery = public_reports.DEFAULT_DAYS, before: CursorQuery = None) -> HTMLResponse:
    """Public reports, newest first, filtered by status, category and age (90 days by default); 50 a page."""
    context = await _listing(page, status, category or None, days, before, public_reports.PAGE)
    return await render(page, "reports.html", current="list", **context)


@router.get("/mapa", response_class=HTMLResponse)
async def report_map(page: PortalPage_, status: StatusQuery = "all", category: CategoryQuery = None,
                     days: DaysQuery = public_reports.DEFAULT_DAYS) -> HTMLResponse:
    """The public reports on a map, with the same reports listed beside it (a map is never alone)."""
    context = await _listing(page, status, category or None, days, None, public_reports.MAP_LIMIT)
    points = [{"n": r.number, "lat": r.lat, "lon": r.lon, "s": r.public_status,
               "c": context["category_names"].get(r.category, r.category)}
              for r in context["reports"] if r.lat is not None and r.lon is not None]
    return await render(page, "map.html", current="map", points=points, map=map_context(page), **context)


@router.get("/zgloszenia/moje", response_class=HTMLResponse, response_model=None)
async def mine(page: PortalPage_) -> Response:
    """A signed-in resident's reports and the reports they follow; others are sent to sign in."""
    if page.user is None:
        return finish(page, RedirectResponse("/konto/logowanie?next=/zgloszenia/moje", status_code=303))
    own = await page.scope.tickets().filter(reporter_user_id=page.user.id).order_by("-id").limit(100)
    followed_ids = await page.scope.followers().filter(user_id=page.user.id).values_list("ticket_id", flat=True)
    followed = await page.scope.tickets().filter(id__in=list(followed_ids)).order_by("-id").limit(100)
    tenant = page.tenant
    names = {name: localized(c.spec.name, page.language) for name, c in tenant.categories.items()}
    return await render(page, "mine.html", current="mine", category_names=names,
                        own=[public_reports.as_public(tenant, t) for t in own],
                        followed=[public_reports.as_public(tenant, t) for t in followed
                                  if t.category in public_reports.listed_categories(tenant)])


@router.get("/t/{number}", response_model=None)
async def short_link(page: PortalPage_, number: str) -> Response:
    """The short link the city's e-mails carry (`ticket.public_url`, engine/delivery/render.py): the report's page.

    Any number is sent on: the page answers a number it cannot show with its one 404.
    """
    target = tickets.public_number(number) or "-"
    return finish(page, RedirectResponse(f"/zgloszenia/{target}", status_code=303))


@router.get("/zgloszenia/{number}", response_class=HTMLResponse)
async def report_page(page: PortalPage_, number: str, wyslane: int = 0, obserwujesz: int = 0) -> HTMLResponse:
    """A report's public page: status, public timeline, public photos, follow."""
    return await _report_page(page, number, sent=wyslane == 1, followed=obserwujesz == 1)


async def _report_page(page: PortalPage, number: str, *, sent: bool = False, followed: bool = False,
                       errors: dict[str, str] | None = None, email: str = "") -> HTMLResponse:
    try:
        shown = await public_reports.public_page(page.scope, page.tenant, number)
    except ServiceError as error:
        if error.status == 404:
            return await not_found_page(page)
        raise
    ticket = await page.scope.get_ticket(shown.report.number)
    mine = page.user is not None and ticket.reporter_user_id == page.user.id  # type: ignore[attr-defined]
    is_following = page.user is not None and await following.is_following(page.scope, ticket, page.user.id)
    category = page.tenant.categories[shown.report.category]
    return await render(page, "report.html", status_code=422 if errors else 200, shown=shown, r=shown.report,
                        category_label=localized(category.spec.name, page.language), sent=sent,
                        followed=followed, mine=mine, is_following=is_following, errors=errors or {}, email=email,
                        current="list")


@router.post("/zgloszenia/{number}/obserwuj", response_model=None)
async def follow(page: CheckedPortalPage, number: str,
                 email: Annotated[str, Form(max_length=254)] = "") -> Response:
    """Follow a report (signed in: the account; otherwise an e-mail address); 303 back to its page."""
    actor = await user_view(page.scope, page.user) if page.user is not None else following.ANONYMOUS_FOLLOWER
    try:
        ticket, _, _ = await following.follow(page.scope, page.tenant, number, actor, page.now,
                                              user_id=page.user.id if page.user else None, email=email,
                                              locale=page.language)
    except ServiceError as error:
        if error.status == 404:
            return await not_found_page(page)
        gettext = translations(page.language).gettext
        return await _report_page(page, number, errors={"email": gettext(MESSAGES["invalid_email"])}, email=email)
    bell.ring()
    return finish(page, RedirectResponse(f"/zgloszenia/{ticket.number}?obserwujesz=1#obserwuj", status_code=303))
