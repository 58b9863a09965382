"""What the account pages share: the signed-in resident, form fields, errors, the session cookie, 429 answers.

    @router.get("/konto/ustawienia")
    async def settings(page: ResidentPage) -> Response: ...       # signed-in resident, else to the sign-in form
    @router.post("/konto/ustawienia")
    async def save(page: CheckedResidentPage) -> Response: ...    # + the CSRF token, else 403

A staff session is no resident: the account pages send it to the sign-in
form like anyone else (and the staff workspace refuses residents).
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import User
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.portal.context import PortalPage, checked_portal_page, portal_context
from komunikator.web.portal.rendering import finish, render
from komunikator.web.staff.i18n import translations


class SignInRequired(Exception):
    """No signed-in resident: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    """The sign-in form that comes back to `next_path` afterwards."""
    return "/konto/logowanie?next=" + quote(next_path, safe="/")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a portal page of this host (never the staff workspace or another site)."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not target.startswith(("/staff", "/api"))):
        return target
    return "/konto"


async def resident_page(page: Annotated[PortalPage, Depends(portal_context)]) -> PortalPage:
    """A signed-in resident's page; others are sent to the sign-in form."""
    if page.user is None:
        target = page.request.url.path if page.request.method == "GET" else "/konto"
        if page.request.method == "GET" and page.request.url.query:
            target += "?" + page.request.url.query
        raise SignInRequired(target)
    return page


async def checked_resident_page(page: Annotated[PortalPage, Depends(checked_portal_page)]) -> PortalPage:
    """A signed-in resident's write (CSRF token and same origin checked first)."""
    return await resident_page(page)


ResidentPage = Annotated[PortalPage, Depends(resident_page)]
CheckedResidentPage = Annotated[PortalPage, Depends(checked_resident_page)]


def me(page: PortalPage) -> User:
    """The signed-in resident (the dependency guarantees one)."""
    if page.user is None:
        raise SignInRequired("/konto")
    return page.user


def client_address(page: PortalPage) -> str | None:
    """The client's IP address (what rate limits count per)."""
    return page.request.client.host if page.request.client is not None else None


async def form_values(page: PortalPage, *names: str, limit: int = 254) -> dict[str, str]:
    """The named fields of the posted form as text (missing: empty), each cut to `limit` characters."""
    form = await page.request.form()
    return {name: str(form.get(name) or "")[:limit] for name in names}


def gettext(page: PortalPage) -> Any:
    """The page language's translations (`.gettext`, `.ngettext`)."""
    return translations(page.language)


async def form_page(page: PortalPage, template: str, errors: dict[str, str] | None = None, *,
                    status: int | None = None, **context: Any) -> HTMLResponse:
    """A form page; with errors 422 (or `status`) and the error summary."""
    errors = errors or {}
    code = status or (422 if errors else 200)
    return await render(page, template, code, errors=errors, **context)


async def too_many(page: PortalPage, template: str, error: ServiceError, **context: Any) -> HTMLResponse:
    """The form again, 429, saying when to try again (`Retry-After`)."""
    wait = int((error.details or {}).get("retry_after", 60))
    minutes = max(1, math.ceil(wait / 60))
    t = gettext(page)
    message = t.ngettext("Too many attempts. Try again in %(num)d minute.",
                         "Too many attempts. Try again in %(num)d minutes.", minutes) % {"num": minutes}
    response = await render(page, template, 429, errors={"form": message}, **context)
    response.headers["Retry-After"] = str(wait)
    return response


def see_other(page: PortalPage, target: str) -> RedirectResponse:
    """Redirect after a POST (303), with the page headers."""
    return finish(page, RedirectResponse(target, status_code=303))


def with_session(page: PortalPage, response: Response, raw: str) -> Response:
    """Set the session cookie (host-only, HttpOnly, SameSite=Lax, Secure over https)."""
    response.set_cookie(SESSION_COOKIE, raw, max_age=int(accounts.SESSION_TTL.total_seconds()), path="/",
                        httponly=True, samesite="lax", secure=page.request.url.scheme == "https")
    return response


def without_session(page: PortalPage, response: Response) -> Response:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=page.request.url.scheme == "https")
    return response
