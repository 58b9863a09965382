"""The inbox page (`/staff/`) and its navigation entries with counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.web.staff import inbox as inbox_data
from komunikator.web.staff import nav
from komunikator.web.staff.i18n import localized, translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API


async def inbox_of(page: Page) -> inbox_data.Inbox:
    """The user's inbox, built once per request (the navigation counts and the page share it)."""
    cached = getattr(page.request.state, "staff_inbox", None)
    if cached is None:
        assert page.view is not None  # noqa: S101  (only for signed-in staff)
        cached = await inbox_data.build(page.scope, page.tenant, page.view, page.now)
        page.request.state.staff_inbox = cached
    return cached


async def inbox_entries(page: Page) -> list[nav.NavEntry]:
    """"Skrzynka" (its count comes from `inbox_count`)."""
    return [nav.NavEntry("inbox", translations(page.language).gettext("Inbox"), "/staff/", order=10)]


async def inbox_count(page: Page) -> nav.NavCount:
    """How many things wait for the user, and how many of them are overdue."""
    t = translations(page.language)
    box = await inbox_of(page)
    waiting = len(box.mine) + len(box.unit) + len(box.verify)
    late = box.overdue()
    label = t.ngettext("%(num)d waiting", "%(num)d waiting", waiting) % {"num": waiting}
    if late:
        label += ", " + t.ngettext("%(num)d overdue", "%(num)d overdue", late) % {"num": late}
    return nav.NavCount(waiting, label)


nav.add_provider(inbox_entries)
nav.add_counter("inbox", inbox_count)


@router.get("/staff/", response_class=HTMLResponse)
async def inbox(page: StaffPage) -> Response:
    """My tasks, my units' tasks to take, reports to verify."""
    t = translations(page.language)
    box = await inbox_of(page)
    sections = [
        ("mine", t.gettext("My tasks"), box.mine, t.gettext("You have no open tasks.")),
        ("unit", t.gettext("To take in my units"), box.unit, t.gettext("No task is waiting in your units.")),
        ("verify", t.gettext("Reports to verify"), box.verify, t.gettext("No report is waiting for verification.")),
    ]
    tenant = page.tenant

    def tenant_state(ticket: Any) -> str:
        process = tenant.processes.get(ticket.process)
        state = process.states.get(ticket.state) if process else None
        return localized(state.label, page.language) if state else str(ticket.state)

    def category_name(name: str) -> str:
        return localized(tenant.categories[name].spec.name, page.language) if name in tenant.categories \
            else name

    def unit_name(name: str) -> str:
        return localized(tenant.units[name].name, page.language) if name in tenant.units else name

    return await render(page, "inbox.html", title=t.gettext("Inbox"), current="inbox", sections=sections,
                        nav_counts=True,
                        tenant_state=tenant_state, category_name=category_name, unit_name=unit_name)
