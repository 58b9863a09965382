"""Who is looking at a resident page: the city, the language, the CSRF token and (signed in) the resident.

    @router.get("/zglos")
    async def form(page: PortalPage) -> HTMLResponse: ...      # anyone
    @router.post("/zglos")
    async def send(page: CheckedPortalPage) -> Response: ...  # a write: CSRF token + same origin, else 403

The language is `?lang=` (remembered in a cookie), else the cookie, else the
browser's `Accept-Language` among the city's languages, else the city's own.
A signed-in resident (a `kind="resident"` session from the accounts service)
gets a CSRF token derived from the session; anyone else a random token kept
in an HttpOnly cookie of the portal that every form repeats (double submit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.service import accounts
from komunikator.engine.store.models import User
from komunikator.engine.store.scope import TenantScope
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.deps import Now, Scope, preferred_locale
from komunikator.web.staff import security
from komunikator.web.staff.i18n import pick_language
from komunikator.web.staff.session import CsrfRefused, submitted_token
from komunikator.web.tenancy import Tenant

#: the anonymous visitor's form token (double submit), for the whole portal
CSRF_COOKIE = "komunikator_portal_csrf"
#: the language a visitor picked with `?lang=`
LANGUAGE_COOKIE = "komunikator_lang"


@dataclass
class PortalPage:
    """Everything a resident page handler and its template need about the request."""

    request: Request
    tenant: CompiledTenant
    scope: TenantScope
    now: datetime
    language: str
    csrf: str
    #: the signed-in resident, if any
    user: User | None = None
    #: cookies the response must set (name → value): a new form token, a picked language
    cookies: dict[str, str] = field(default_factory=dict)


async def portal_context(request: Request, tenant: Tenant, scope: Scope, now: Now) -> PortalPage:
    """The page's language, CSRF token and resident (if signed in)."""
    cookies: dict[str, str] = {}
    asked = request.query_params.get("lang")
    offered = tenant.config.locales
    if asked and asked in offered:
        cookies[LANGUAGE_COOKIE] = asked
    wanted = (asked if asked in offered else None) or request.cookies.get(LANGUAGE_COOKIE) or preferred_locale(
        tenant, request.headers.get("accept-language"))
    language = pick_language(wanted or tenant.config.locale, offered)
    raw = request.cookies.get(SESSION_COOKIE)
    user = await accounts.user_for_session(scope, raw, now) if raw else None
    if user is not None and user.kind == "resident" and raw:
        return PortalPage(request, tenant, scope, now, language, security.session_csrf_token(raw), user, cookies)
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = cookies[CSRF_COOKIE] = security.new_login_token()
    return PortalPage(request, tenant, scope, now, language, token, None, cookies)


async def checked_portal_page(page: Annotated[PortalPage, Depends(portal_context)]) -> PortalPage:
    """A resident write: the page's CSRF token and a same-origin request, else 403."""
    if page.cookies.get(CSRF_COOKIE) or not security.same_origin(page.request) or not security.token_matches(
            page.csrf, await submitted_token(page.request)):
        raise CsrfRefused()
    return page


PortalPage_ = Annotated[PortalPage, Depends(portal_context)]
CheckedPortalPage = Annotated[PortalPage, Depends(checked_portal_page)]
