"""Hiding a ticket's photo from the public (a reason required) and showing it again, from the ticket page.

The same service as the API's `/attachments/{id}/hide|unhide` (`attachments.hide`/`unhide`): who may is
`capabilities.hide_photos`; both are audited and shown in the timeline.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.service import attachments
from komunikator.engine.service.errors import ServiceError
from komunikator.web.staff.session import CheckedStaffPage
from komunikator.web.staff.ticket_page import submit

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API


def _photo_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise ServiceError(404, "not_found", "attachment not found")
    return int(raw)


@router.post("/staff/tickets/{number}/photos/{photo}/hide", response_class=HTMLResponse)
async def hide(number: str, photo: str, page: CheckedStaffPage) -> Response:
    """Hide a photo from the public, saying why."""

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101  (CheckedStaffPage guarantees it)
        await attachments.hide(page.scope, page.tenant, number, _photo_id(photo), page.view,
                               values.get("reason", ""), page.now)

    return await submit(page, number, f"photo-{photo}-hide", run)


@router.post("/staff/tickets/{number}/photos/{photo}/restore", response_class=HTMLResponse)
async def restore(number: str, photo: str, page: CheckedStaffPage) -> Response:
    """Show a hidden photo again (a reason may be given)."""

    async def run(values: dict[str, str]) -> None:
        assert page.view is not None  # noqa: S101
        await attachments.unhide(page.scope, page.tenant, number, _photo_id(photo), page.view,
                                 values.get("reason") or None, page.now)

    return await submit(page, number, f"photo-{photo}-restore", run)
