"""Who reaches the administration pages (`/staff/admin/…`), their navigation entry, and their 404.

An administrator is a staff member with a role that `manages_users` (`runtime.access.manages_users`,
the same rule the GDPR API asks). Everyone else — another unit's clerk, another city's
administrator (whose session is unknown on this host anyway) — gets the very page a missing
account gets: 404 "not found", so the pages do not even say they exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from komunikator.engine.runtime import access
from komunikator.web.staff import nav
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import Page, StaffPage, checked_staff_page, staff_page

#: the administration's catch-all, included after every real page of it
router = APIRouter(include_in_schema=False)


class NotForYou(Exception):
    """A page or a row an administrator might see, asked for by someone else (or missing): 404."""

    def __init__(self, page: Page) -> None:
        super().__init__("not found")
        self.page = page


def is_admin(page: Page) -> bool:
    """Whether the signed-in staff member administers this city."""
    return page.view is not None and access.manages_users(page.tenant, page.view)


async def admin_page(page: Annotated[Page, Depends(staff_page)]) -> Page:
    """An administrator's page; others get the 404 page."""
    if not is_admin(page):
        raise NotForYou(page)
    return page


async def checked_admin_page(page: Annotated[Page, Depends(checked_staff_page)]) -> Page:
    """An administrator's write, with the session's CSRF token (403 without it); others get the 404 page."""
    if not is_admin(page):
        raise NotForYou(page)
    return page


async def not_found(page: Page) -> HTMLResponse:
    """The one 404 page of the administration, for missing rows and for people who are not administrators."""
    t = translations(page.language)
    return await render(page, "error.html", 404, title=t.gettext("Not found"), current=None,
                        heading=t.gettext("Not found"),
                        message=t.gettext("There is no such page, or it is not for you."))


async def admin_entries(page: Page) -> list[nav.NavEntry]:
    """"Administracja" for administrators, nothing for others."""
    if not is_admin(page):
        return []
    return [nav.NavEntry("admin", translations(page.language).gettext("Administration"), "/staff/admin/users",
                         order=90)]


nav.add_provider(admin_entries)

AdminPage = Annotated[Page, Depends(admin_page)]
CheckedAdminPage = Annotated[Page, Depends(checked_admin_page)]


@router.api_route("/staff/admin/{rest:path}", methods=["GET", "POST"], response_class=HTMLResponse)
async def no_such_page(rest: str, page: StaffPage) -> HTMLResponse:
    """Any other address under `/staff/admin/`: the same 404 page, so no address says more than another."""
    return await not_found(page)
