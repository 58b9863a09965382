"""Who is asking: session cookies and API tokens, as FastAPI dependencies, plus `/api/v1/auth`.

Credentials belong to the tenant the Host header names (`web/deps.py` scope):
a token or cookie of one city is unknown on another city's host (401),
exactly like a token that never existed. The cookie is host-only (no
`Domain`), HttpOnly, SameSite=Lax, and Secure when the request came over
https.

    @router.get("/api/v1/tickets")
    async def tickets(me: Staff) -> …:          # 401 without credentials, 403 for residents
        me.user, me.view, me.scope               # the row, the engine's UserView, the tenant scope

A request with `Authorization: Bearer <token>` is judged by the token alone:
a bad one is a 401 even if a good cookie came along. An expired or unknown
session cookie counts as no credentials (routes open to everyone still work).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.row_views import user_view
from komunikator.engine.store.models import ApiToken, User
from komunikator.engine.store.scope import TenantScope
from komunikator.web.deps import DbId, Now, Scope
from komunikator.web.errors import ApiError
from komunikator.web.openapi import ERROR_RESPONSES
from komunikator.web.tenancy import Tenant

SESSION_COOKIE = "komunikator_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="komunikator"'}

_bearer = HTTPBearer(auto_error=False, description="an API token from POST /api/v1/auth/tokens")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="the session cookie set by POST /api/v1/auth/login"
)


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user: User
    view: UserView
    scope: TenantScope
    via: Literal["session", "token"]


async def current_user(
    request: Request,
    scope: Scope,
    now: Now,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_cookie)],
) -> Principal | None:
    """The user behind the request's API token or session cookie, or None without credentials.

    401 `invalid_token` for a bearer token that is unknown (in this tenant), revoked
    or belongs to a deactivated user; 403 `cross_origin` for a write carrying the
    session cookie from a page of another origin (sibling city subdomains are
    "same-site", so SameSite=Lax alone would let them through).
    """
    if bearer is not None:
        user = await accounts.user_for_token(scope, bearer.credentials, now)
        if user is None:
            raise ApiError(
                401, "invalid_token", "the API token is invalid or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="komunikator", error="invalid_token"'},
            )
        via: Literal["session", "token"] = "token"
    elif session:
        _check_origin(request)
        user = await accounts.user_for_session(scope, session, now)
        if user is None:
            return None
        via = "session"
    else:
        return None
    return Principal(user, await user_view(scope, user), scope, via)


def _check_origin(request: Request) -> None:
    """Refuse a cookie-authenticated write whose `Origin` is not the request's own scheme, host and port."""
    origin = request.headers.get("origin")
    if request.method in _SAFE_METHODS or origin is None:
        return  # non-browser clients send no Origin; browsers send it on every POST/PATCH/DELETE
    parts = urlsplit(origin)
    own = (request.url.scheme, (request.headers.get("host") or "").lower())
    if (parts.scheme.lower(), parts.netloc.lower()) != own:  # the scheme too: http:// pages may not write to https
        raise ApiError(403, "cross_origin", "a page of another site may not act with this session")


async def require_user(principal: Annotated[Principal | None, Depends(current_user)]) -> Principal:
    """The authenticated user; 401 (with `WWW-Authenticate`) without credentials."""
    if principal is None:
        raise ApiError(401, "unauthorized", "log in or send an API token", headers=_CHALLENGE)
    return principal


async def require_staff(principal: Annotated[Principal, Depends(require_user)]) -> Principal:
    """An authenticated staff member; 401 without credentials, 403 for a resident account."""
    if principal.user.kind != "staff":
        raise ApiError(403, "forbidden", "staff only")
    return principal


CurrentUser = Annotated[Principal, Depends(require_user)]
Staff = Annotated[Principal, Depends(require_staff)]


# -- the /api/v1/auth routes ------------------------------------------------------------------


class LoginRequest(BaseModel):
    """E-mail and password."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=accounts.MAX_PASSWORD_LENGTH)


class MembershipOut(BaseModel):
    """A role in a unit."""

    unit: str
    role: str


class UserOut(BaseModel):
    """An account and its memberships."""

    id: int
    email: str
    display_name: str
    kind: str
    #: the language of messages to them; null: the city's own
    locale: str | None
    memberships: list[MembershipOut]


class LoginResponse(BaseModel):
    """The logged-in user and when the session ends."""

    user: UserOut
    expires_at: datetime


class TokenRequest(BaseModel):
    """A name that says where the token is used."""

    name: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    """An API token (without its secret)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A new API token; `token` is shown this once and never again."""

    token: str


def _user_out(user: User, view: UserView) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, display_name=user.display_name, kind=user.kind, locale=user.locale,
        memberships=[MembershipOut(unit=m.unit, role=m.role) for m in view.memberships],
    )


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(id=token.id, name=token.name, created_at=token.created_at, last_used_at=token.last_used_at,
                    revoked_at=token.revoked_at)


auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


@auth_router.post("/login", response_model=LoginResponse)
async def login(body: LoginRequest, request: Request, response: Response, scope: Scope, now: Now) -> LoginResponse:
    """Log in with e-mail and password: sets the session cookie.

    After repeated failures for one e-mail or from one address: 429 with
    `Retry-After` (seconds), even for the right password, until it passes.
    """
    address = request.client.host if request.client is not None else None
    try:
        raw, session = await accounts.login(scope, body.email, body.password, now, address=address)
    except ServiceError as error:
        if error.status == 429:
            raise ApiError(429, error.code, error.message, details=error.details,
                           headers={"Retry-After": str(error.details["retry_after"])}) from None
        if error.status != 401:
            raise
        raise ApiError(401, error.code, error.message, headers=_CHALLENGE) from None
    user = await scope.get(User, id=session.user_id)  # type: ignore[attr-defined]
    response.set_cookie(
        SESSION_COOKIE, raw, max_age=int(accounts.SESSION_TTL.total_seconds()), path="/", httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )
    return LoginResponse(user=_user_out(user, await user_view(scope, user)), expires_at=session.expires_at)


@auth_router.post("/logout", status_code=204)
async def logout(
    request: Request, response: Response, scope: Scope, now: Now,
    session: Annotated[str | None, Depends(_cookie)],
) -> None:
    """End the browser session (if any) and clear its cookie; 403 `cross_origin` from another site's page."""
    if session:
        _check_origin(request)  # a foreign page must not log the user out either
        await accounts.logout(scope, session, now)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


@auth_router.get("/me", response_model=UserOut)
async def me(principal: CurrentUser) -> UserOut:
    """The logged-in user with their memberships."""
    return _user_out(principal.user, principal.view)


class ProfileEdit(BaseModel):
    """What a user changes about themselves."""

    model_config = ConfigDict(extra="forbid")

    #: one of the city's locales (`GET /api/v1/tenant`), or null for the city's own
    locale: str | None = Field(max_length=16)


@auth_router.patch("/me", response_model=UserOut)
async def edit_me(body: ProfileEdit, principal: CurrentUser, tenant: Tenant, now: Now) -> UserOut:
    """Choose the language of the e-mails you get (`{"locale": "en"}`; null: the city's own)."""
    await accounts.set_locale(principal.scope, tenant, principal.user, body.locale, now)
    return _user_out(principal.user, principal.view)


@auth_router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(principal: Staff) -> list[TokenOut]:
    """Your API tokens (revoked ones too), without their secrets."""
    return [_token_out(t) for t in await accounts.tokens_of(principal.scope, principal.user)]


@auth_router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(body: TokenRequest, principal: Staff, now: Now) -> TokenCreated:
    """Create an API token for yourself, from a logged-in session; its secret is in this answer only.

    403 `session_required` when asked with an API token: a stolen token must
    not be able to make itself a new, longer-lived one.
    """
    if principal.via != "session":
        raise ApiError(403, "session_required", "log in to create API tokens (a token cannot create tokens)")
    raw, token = await accounts.create_token(principal.scope, principal.user, body.name, now)
    return TokenCreated(**_token_out(token).model_dump(), token=raw)


@auth_router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: DbId, principal: Staff, now: Now) -> None:
    """Revoke one of your API tokens."""
    await accounts.revoke_token(principal.scope, principal.user, token_id, now)
