"""Who is looking at a staff page: the session cookie (set by the same code as `/api/v1/auth/login`).

    @router.get("/staff/")
    async def inbox(page: StaffPage) -> HTMLResponse:   # signed-in staff, else a redirect to sign-in
        page.user, page.view, page.scope, page.language, page.csrf

A person whose account holds a temporary password (`User.must_change_password`, set by an
administrator's create or reset) is sent to `/staff/password` (303) from every staff page but
that one, signing out and the language choice, until they choose their own.

`CheckedStaffPage` also requires the CSRF token (form field `csrf_token` or the
`X-CSRF-Token` header htmx sends) and a same-origin request; without them: 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import User
from komunikator.engine.store.scope import TenantScope
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.deps import Now, Scope, preferred_locale
from komunikator.web.staff import security
from komunikator.web.staff.i18n import pick_language
from komunikator.web.tenancy import Tenant


@dataclass
class Page:
    """Everything a page handler and its template need about the request."""

    request: Request
    tenant: CompiledTenant
    scope: TenantScope
    now: datetime
    language: str
    csrf: str
    user: User | None = None
    view: UserView | None = None
    #: a new sign-in form token the response must set as a cookie
    new_login_token: str | None = None


class LoginRequired(Exception):
    """No signed-in staff member: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """The signed-in person still has a temporary password: the page answers with a redirect to change it."""


#: The pages a person with a temporary password may still use.
PASSWORD_CHANGE_PATHS = frozenset({"/staff/password", "/staff/logout", "/staff/language"})


class CsrfRefused(Exception):
    """A write without this session's CSRF token, or from another site's page."""


def login_url(next_path: str) -> str:
    """The sign-in form that comes back to `next_path` afterwards."""
    return "/staff/login?next=" + quote(next_path, safe="/")


async def page_context(request: Request, tenant: Tenant, scope: Scope, now: Now) -> Page:
    """The page's user (if signed in as staff), language and CSRF token."""
    raw = request.cookies.get(SESSION_COOKIE)
    user = await accounts.user_for_session(scope, raw, now) if raw else None
    if user is not None and user.kind == "staff" and raw:
        language = pick_language(user.locale or tenant.config.locale, tenant.config.locales)
        return Page(request, tenant, scope, now, language, security.session_csrf_token(raw), user,
                    await user_view(scope, user))
    wanted = request.query_params.get("lang") or preferred_locale(tenant, request.headers.get("accept-language"))
    language = pick_language(wanted or tenant.config.locale, tenant.config.locales)
    token = request.cookies.get(security.LOGIN_CSRF_COOKIE)
    fresh = None
    if not token:
        token = fresh = security.new_login_token()
    return Page(request, tenant, scope, now, language, token, new_login_token=fresh)


async def staff_page(page: Annotated[Page, Depends(page_context)]) -> Page:
    """A signed-in staff member's page; others are sent to the sign-in form, a temporary password to change it."""
    if page.user is None:
        target = page.request.url.path
        if page.request.method != "GET":
            target = "/staff/"
        elif page.request.url.query:
            target += "?" + page.request.url.query
        raise LoginRequired(target)
    if page.user.must_change_password and page.request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return page


async def submitted_token(request: Request) -> str | None:
    """The CSRF token a write carries: the htmx header, else the form field."""
    header = request.headers.get(security.CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(security.CSRF_FIELD)
    return value if isinstance(value, str) else None


async def checked_staff_page(page: Annotated[Page, Depends(staff_page)]) -> Page:
    """A staff write: the session's CSRF token and a same-origin request, else 403."""
    if not security.same_origin(page.request) or not security.token_matches(
        page.csrf, await submitted_token(page.request)
    ):
        raise CsrfRefused()
    return page


AnyPage = Annotated[Page, Depends(page_context)]
StaffPage = Annotated[Page, Depends(staff_page)]
CheckedStaffPage = Annotated[Page, Depends(checked_staff_page)]
