"""The staff workspace in the browser: server-rendered pages under `/staff` on each tenant's host.

`install(app)` adds the pages, the static files and the page-level error handling to the
FastAPI app. The pages call the same service layer as the API; see `session.py` (who is
looking), `rendering.py` (templates and headers), `nav.py` (navigation entries) and
`offers.py` (what the engine offers, the one question about permissions).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware

from komunikator.web.staff import (
    assets,
    auth_pages,
    exports_page,
    inbox_page,
    nav_counts,
    security,
    ticket_page,
    ticket_photos,
)
from komunikator.web.staff.admin_access import NotForYou, not_found
from komunikator.web.staff.admin_access import router as admin_fallback_router
from komunikator.web.staff.admin_config import router as admin_config_router
from komunikator.web.staff.admin_privacy import router as admin_privacy_router
from komunikator.web.staff.admin_users import router as admin_users_router
from komunikator.web.staff.lists_page import router as lists_router
from komunikator.web.staff.password_page import router as password_router
from komunikator.web.staff.reports_pages import router as reports_router
from komunikator.web.staff.session import CsrfRefused, LoginRequired, PasswordChangeRequired, login_url


def install(app: FastAPI) -> None:
    """Add the staff pages to `app`."""
    app.include_router(assets.router)
    app.include_router(auth_pages.router)
    app.include_router(inbox_page.router)
    app.include_router(nav_counts.router)
    app.include_router(ticket_page.router)
    app.include_router(admin_users_router)
    app.include_router(admin_config_router)
    app.include_router(admin_privacy_router)
    app.include_router(password_router)
    app.include_router(admin_fallback_router)  # last: after every real page under /staff/admin/
    app.include_router(reports_router)
    app.include_router(lists_router)
    app.include_router(exports_page.router)
    app.include_router(ticket_photos.router)
    # compressed on the way out (Leaflet and htmx are a third of their size gzipped)
    app.mount("/staff/static", GZipMiddleware(assets.static_files(), minimum_size=1024), name="staff-static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":  # htmx: reload the whole page at the sign-in form
            return Response(status_code=204, headers={"HX-Redirect": login_url(exc.next_path)})
        return security.protect(RedirectResponse(login_url(exc.next_path), status_code=303), request)

    @app.exception_handler(PasswordChangeRequired)
    async def _password_change_required(request: Request, exc: PasswordChangeRequired) -> Response:
        if request.headers.get("hx-request") == "true":  # htmx: reload the whole page at the password form
            return Response(status_code=204, headers={"HX-Redirect": "/staff/password"})
        return security.protect(RedirectResponse("/staff/password", status_code=303), request)

    @app.exception_handler(NotForYou)
    async def _not_for_you(request: Request, exc: NotForYou) -> Response:
        return await not_found(exc.page)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        body = ("<!DOCTYPE html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>Błąd / Error</title></head>"
                "<body><main><h1>Formularz wygasł</h1><p>Odśwież stronę i spróbuj ponownie.</p>"
                "<p lang=\"en\">The form has expired. Reload the page and try again.</p>"
                "<p><a href=\"/staff/\">Skrzynka / Inbox</a></p></main></body></html>")
        return security.protect(Response(body, status_code=403, media_type="text/html"), request)
