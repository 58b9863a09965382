"""`GET /staff/nav/counts`: the navigation's counts, fetched by the shell after a page has loaded.

Counting waiting work reads the database (the inbox's three lists); no page waits for it. The
answer is a fragment of out-of-band swaps (htmx): each counted entry's figure, by its id.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import StaffPage

router = APIRouter(include_in_schema=False)  # an HTML fragment, not the JSON API


@router.get("/staff/nav/counts", response_class=HTMLResponse)
async def nav_counts(page: StaffPage) -> Response:
    """Every counted navigation entry's figure for this user, now."""
    return await render(page, "nav_counts.html", nav_counts=True)
