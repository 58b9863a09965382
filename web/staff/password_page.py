"""Changing one's own password (`/staff/password`): what a person does after an administrator
gave them a temporary one. The rules are `accounts.own_password.change_own_password`; the page
adds only the typing check (the new password twice) and keeps them signed in with the new session."""

from __future__ import annotations

import math

from babel.support import Translations
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.service import accounts
from komunikator.engine.service.accounts.own_password import change_own_password
from komunikator.engine.service.errors import ServiceError
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import CheckedStaffPage, Page, StaffPage

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API
FIELDS = ("current_password", "new_password", "new_password_again")


def _fields(t: Translations) -> list[dict[str, str]]:
    return [
        {"name": "current_password", "label": t.gettext("Current password"), "type": "password",
         "autocomplete": "current-password"},
        {"name": "new_password", "label": t.gettext("New password"), "type": "password",
         "autocomplete": "new-password",
         "hint": t.gettext("At least %(num)d characters.") % {"num": accounts.MIN_PASSWORD_LENGTH}},
        {"name": "new_password_again", "label": t.gettext("New password again"), "type": "password",
         "autocomplete": "new-password"},
    ]


async def _draw(page: Page, status_code: int = 200, errors: dict[str, str] | None = None,
                done: bool = False, throttled: int | None = None) -> HTMLResponse:
    t = translations(page.language)
    title = t.gettext("Change your password")
    return await render(page, "password.html", status_code, title=(t.gettext("Error") + ": " + title) if errors
                        else title, current=None, fields=_fields(t), errors=errors or {}, done=done,
                        throttled=throttled, must_change=page.user is not None and page.user.must_change_password)


@router.get("/staff/password", response_class=HTMLResponse)
async def password_form(page: StaffPage, done: str | None = None) -> Response:
    """The form: the current password and the new one twice."""
    return await _draw(page, done=done == "1")


def _message(error: ServiceError, t: Translations) -> tuple[str, str]:
    if error.code == "wrong_password":
        return "current_password", t.gettext("The current password is wrong")
    if error.code == "same_password":
        return "new_password", t.gettext("Choose a password different from the current one")
    return "new_password", t.gettext("The password must have between %(min)d and %(max)d characters") % {
        "min": accounts.MIN_PASSWORD_LENGTH, "max": accounts.MAX_PASSWORD_LENGTH}


@router.post("/staff/password", response_class=HTMLResponse)
async def change_password(page: CheckedStaffPage) -> Response:
    """Change it; every other session ends, this browser gets a new one (429 past the login throttling)."""
    assert page.user is not None  # noqa: S101  (CheckedStaffPage guarantees it)
    t = translations(page.language)
    form = await page.request.form()
    values = {name: str(form.get(name) or "")[: accounts.MAX_PASSWORD_LENGTH + 1] for name in FIELDS}
    errors: dict[str, str] = {}
    if not values["current_password"]:
        errors["current_password"] = t.gettext("Enter your current password")
    if values["new_password"] != values["new_password_again"]:
        errors["new_password_again"] = t.gettext("The two new passwords are not the same")
    if not errors:
        address = page.request.client.host if page.request.client is not None else None
        try:
            raw = await change_own_password(page.scope, page.user, values["current_password"],
                                            values["new_password"], page.now, address=address)
        except ServiceError as error:
            if error.status == 429:  # wrong current passwords count like refused logins: the sign-in's message
                throttled = max(1, math.ceil(int(error.details["retry_after"]) / 60))
                response = await _draw(page, 429, throttled=throttled)
                response.headers["Retry-After"] = str(throttled * 60)
                return response
            if error.status != 422:
                raise
            field, message = _message(error, t)
            errors[field] = message
        else:
            moved = RedirectResponse("/staff/password?done=1", status_code=303)
            moved.set_cookie(SESSION_COOKIE, raw, max_age=int(accounts.SESSION_TTL.total_seconds()), path="/",
                             httponly=True, samesite="lax", secure=page.request.url.scheme == "https")
            return moved
    return await _draw(page, 422, {name: errors[name] for name in FIELDS if name in errors})
