"""The reporter's page: `/odpowiedz/{link}`, where a reporter acts on their report from the link in an e-mail.

It extends the resident portal's shell (web/portal/templates/base.html) and calls
`engine/service/reporter_links.py`, as the JSON API does (web/api_reporter_links.py).
"""

from __future__ import annotations

from fastapi import FastAPI

from komunikator.web.reporter_links import page


def install(app: FastAPI) -> None:
    """Add the reporter's page to `app`."""
    app.include_router(page.router)
