"""Sign in, sign out and the interface language: the same accounts service as `/api/v1/auth`."""

from __future__ import annotations

import contextlib
import math

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.staff import security
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import AnyPage, CheckedStaffPage, CsrfRefused

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a staff page of this host, never another site."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/"


@router.get("/staff/login", response_class=HTMLResponse)
async def login_form(page: AnyPage, next: str = "/staff/") -> Response:  # noqa: A002  (the query's name)
    """The sign-in form (a signed-in user goes straight on)."""
    if page.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return await render(page, "login.html", title=translations(page.language).gettext("Sign in"),
                        next=safe_next(next), email="", errors={}, throttled=None)


@router.post("/staff/login", response_class=HTMLResponse)
async def login(page: AnyPage) -> Response:
    """Check the password; on success set the session cookie and go on."""
    form = await page.request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[: accounts.MAX_PASSWORD_LENGTH]
    target = safe_next(str(form.get("next") or ""))
    t = translations(page.language)
    if not security.same_origin(page.request) or not security.token_matches(
        page.request.cookies.get(security.LOGIN_CSRF_COOKIE), str(form.get(security.CSRF_FIELD) or "")
    ):
        raise CsrfRefused()
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = t.gettext("Enter your e-mail address")
    if not password:
        errors["password"] = t.gettext("Enter your password")
    throttled = None
    if not errors:
        address = page.request.client.host if page.request.client is not None else None
        try:
            raw, _session = await accounts.login(page.scope, email, password, page.now, address=address)
        except ServiceError as error:
            if error.status == 429:
                throttled = max(1, math.ceil(int(error.details["retry_after"]) / 60))
            elif error.status == 401:
                errors["email"] = t.gettext("The e-mail address or the password is wrong")
            else:
                raise
        else:
            user = await accounts.user_for_session(page.scope, raw, page.now)
            if user is None or user.kind != "staff":
                await accounts.logout(page.scope, raw, page.now)
                errors["email"] = t.gettext("This account cannot use the staff workspace")
            else:
                moved = RedirectResponse(target, status_code=303)
                moved.set_cookie(
                    SESSION_COOKIE, raw, max_age=int(accounts.SESSION_TTL.total_seconds()), path="/",
                    httponly=True, samesite="lax", secure=page.request.url.scheme == "https",
                )
                moved.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/staff")
                return moved
    status = 429 if throttled else 422
    response = await render(page, "login.html", status, title=t.gettext("Sign in"), next=target, email=email,
                            errors=errors, throttled=throttled)
    if throttled:
        response.headers["Retry-After"] = str(throttled * 60)
    return response


@router.post("/staff/logout")
async def logout(page: CheckedStaffPage) -> Response:
    """End the session and go back to the sign-in form."""
    raw = page.request.cookies.get(SESSION_COOKIE)
    if raw:
        await accounts.logout(page.scope, raw, page.now)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=page.request.url.scheme == "https")
    return security.protect(response, page.request)


@router.post("/staff/language")
async def choose_language(page: CheckedStaffPage) -> Response:
    """Remember the interface language on the account (the same setting as `PATCH /api/v1/auth/me`)."""
    form = await page.request.form()
    wanted = str(form.get("language") or "")
    assert page.user is not None  # noqa: S101  (CheckedStaffPage guarantees it)
    with contextlib.suppress(ServiceError):  # a language the city does not offer: nothing changes
        await accounts.set_locale(page.scope, page.tenant, page.user, wanted, page.now)
    return RedirectResponse(safe_next(str(form.get("back") or "")), status_code=303)
