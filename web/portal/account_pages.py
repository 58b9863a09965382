"""A resident's account pages under `/konto`: sign up, verify, sign in and out, reset the password, change the
e-mail, claim a report made without an account. What they do is `engine/service/resident_accounts.py`.

    GET  /konto                               the account's start page (signed in)
    GET  /konto/rejestracja, POST             sign up (then: "check your mail")
    GET  /konto/potwierdz/{token}, POST       the verification link: a button confirms (link scanners only GET)
    GET  /konto/logowanie, POST               sign in
    POST /konto/wyloguj                       sign out here
    POST /konto/wyloguj-wszedzie              sign out on every device
    GET  /konto/haslo, POST                   ask for a reset link
    GET  /konto/haslo/nowe/{token}, POST      set a new password with it
    GET  /konto/email, POST                   ask to change the e-mail (password confirms it)
    GET  /konto/email/potwierdz/{token}, POST the link sent to the new address
    POST /konto/przypisz                      ask to claim a report (the link goes to the report's e-mail)
    GET  /konto/przypisz/{token}, POST        the claim link (signed in as the account that asked)

Every form carries the CSRF token; sign-up, sign-in, reset and every e-mail
with a link are rate-limited (429 with `Retry-After`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.service import accounts, resident_accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.web.auth import SESSION_COOKIE
from komunikator.web.portal.account_forms import (
    CheckedResidentPage,
    ResidentPage,
    client_address,
    form_page,
    form_values,
    gettext,
    me,
    safe_next,
    see_other,
    too_many,
    with_session,
    without_session,
)
from komunikator.web.portal.context import CheckedPortalPage, PortalPage, PortalPage_
from komunikator.web.portal.rendering import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _base_domain(page: PortalPage) -> str:
    return str(page.request.app.state.tenants.base_domain)


@router.get("/konto", response_class=HTMLResponse)
async def account_home(page: ResidentPage) -> Response:
    """What the account holds: reports, settings, privacy; sign out."""
    user = me(page)
    reports = await page.scope.tickets().filter(reporter_user_id=user.id).order_by("-id").limit(50)
    follows = await page.scope.followers().filter(user_id=user.id).count()
    return await render(page, "account/home.html", reports=reports, follows=follows, current="account",
                        claimed=page.request.query_params.get("przypisano"),
                        asked=page.request.query_params.get("wyslano"))


# -- signing up -----------------------------------------------------------------------------------


@router.get("/konto/rejestracja", response_class=HTMLResponse)
async def sign_up_form(page: PortalPage_) -> Response:
    """The sign-up form."""
    if page.user is not None:
        return see_other(page, "/konto")
    return await form_page(page, "account/sign_up.html", values={}, current="account")


@router.post("/konto/rejestracja", response_class=HTMLResponse)
async def sign_up(page: CheckedPortalPage) -> Response:
    """Make the account and mail the verification link; the same answer whether or not the address had one."""
    values = await form_values(page, "email", "display_name", "password", "password_again")
    t = gettext(page)
    errors: dict[str, str] = {}
    if not values["email"].strip():
        errors["email"] = t.gettext("Enter your e-mail address")
    if not values["display_name"].strip():
        errors["display_name"] = t.gettext("Enter your name")
    if len(values["password"]) < accounts.MIN_PASSWORD_LENGTH:
        errors["password"] = t.gettext("The password must have at least %(num)d characters") % {
            "num": accounts.MIN_PASSWORD_LENGTH}
    elif values["password"] != values["password_again"]:
        errors["password_again"] = t.gettext("The passwords are not the same")
    shown = {k: v for k, v in values.items() if not k.startswith("password")}
    if errors:
        return await form_page(page, "account/sign_up.html", errors, values=shown, current="account")
    try:
        await resident_accounts.sign_up(page.scope, page.tenant, _base_domain(page), values["email"],
                                        values["display_name"], values["password"], page.now,
                                        locale=page.language, address=client_address(page))
    except ServiceError as error:
        if error.status == 429:
            return await too_many(page, "account/sign_up.html", error, values=shown, current="account")
        if error.status == 422 and error.field in ("email", "display_name", "password"):
            errors[error.field] = t.gettext("Enter a valid e-mail address") if error.field == "email" else \
                t.gettext("Check this field")
            return await form_page(page, "account/sign_up.html", errors, values=shown, current="account")
        raise
    return await render(page, "account/check_mail.html", email=values["email"].strip().lower(), current="account")


@router.get("/konto/potwierdz/{token}", response_class=HTMLResponse)
async def verify_form(page: PortalPage_, token: Token) -> Response:
    """The verification link: a button to confirm (a GET changes nothing)."""
    live = await resident_accounts.peek(page.scope, token, "verify", page.now)
    return await render(page, "account/confirm_link.html", 200 if live else 404, live=live is not None,
                        action=f"/konto/potwierdz/{token}", purpose="verify", current="account")


@router.post("/konto/potwierdz/{token}", response_class=HTMLResponse)
async def verify(page: CheckedPortalPage, token: Token) -> Response:
    """Verify the address and sign in."""
    try:
        user = await resident_accounts.verify_email(page.scope, token, page.now)
    except ServiceError as error:
        if error.status != 404:
            raise
        return await render(page, "account/confirm_link.html", 404, live=False, action="", purpose="verify",
                            current="account")
    return await render(page, "account/verified.html", email=user.email, current="account")


# -- signing in and out ---------------------------------------------------------------------------


@router.get("/konto/logowanie", response_class=HTMLResponse)
async def sign_in_form(page: PortalPage_, next: str = "/konto") -> Response:  # noqa: A002 - the query's name
    """The sign-in form (a signed-in resident goes straight on)."""
    if page.user is not None:
        return see_other(page, safe_next(next))
    return await form_page(page, "account/sign_in.html", values={}, next=safe_next(next), current="account")


@router.post("/konto/logowanie", response_class=HTMLResponse)
async def sign_in(page: CheckedPortalPage) -> Response:
    """Check the password; on success set the session cookie and go on."""
    values = await form_values(page, "email", "next")
    password = (await form_values(page, "password", limit=accounts.MAX_PASSWORD_LENGTH))["password"]
    target = safe_next(values["next"])
    t = gettext(page)
    errors: dict[str, str] = {}
    if not values["email"].strip():
        errors["email"] = t.gettext("Enter your e-mail address")
    if not password:
        errors["password"] = t.gettext("Enter your password")
    context: dict[str, Any] = {"values": {"email": values["email"]}, "next": target, "current": "account"}
    if errors:
        return await form_page(page, "account/sign_in.html", errors, **context)
    try:
        raw, _ = await resident_accounts.sign_in(page.scope, values["email"], password, page.now,
                                                 address=client_address(page))
    except ServiceError as error:
        if error.status == 429:
            return await too_many(page, "account/sign_in.html", error, **context)
        if error.status == 403:
            errors["email"] = t.gettext("Open the link in the e-mail we sent to confirm the address first")
        elif error.status == 401:
            errors["email"] = t.gettext("The e-mail address or the password is wrong")
        else:
            raise
        return await form_page(page, "account/sign_in.html", errors, **context)
    return with_session(page, see_other(page, target), raw)


@router.post("/konto/wyloguj")
async def sign_out(page: CheckedResidentPage) -> Response:
    """End this session."""
    raw = page.request.cookies.get(SESSION_COOKIE)
    if raw:
        await accounts.logout(page.scope, raw, page.now)
    return without_session(page, see_other(page, "/"))


@router.post("/konto/wyloguj-wszedzie")
async def sign_out_everywhere(page: CheckedResidentPage) -> Response:
    """End every session of the account, this one too."""
    await resident_accounts.sign_out_everywhere(page.scope, me(page), page.now)
    return without_session(page, see_other(page, "/konto/logowanie?wylogowano=1"))


# -- passwords ------------------------------------------------------------------------------------


@router.get("/konto/haslo", response_class=HTMLResponse)
async def reset_form(page: PortalPage_) -> Response:
    """Ask for a password reset link."""
    return await form_page(page, "account/reset_ask.html", values={}, current="account")


@router.post("/konto/haslo", response_class=HTMLResponse)
async def ask_reset(page: CheckedPortalPage) -> Response:
    """Mail a reset link (the same answer whether or not the address has an account)."""
    values = await form_values(page, "email")
    t = gettext(page)
    if not values["email"].strip():
        return await form_page(page, "account/reset_ask.html", {"email": t.gettext("Enter your e-mail address")},
                               values=values, current="account")
    try:
        await resident_accounts.request_reset(page.scope, page.tenant, _base_domain(page), values["email"],
                                              page.now, address=client_address(page))
    except ServiceError as error:
        if error.status == 429:
            return await too_many(page, "account/reset_ask.html", error, values=values, current="account")
        raise
    return await render(page, "account/check_mail.html", email=values["email"].strip().lower(), reset=True,
                        current="account")


@router.get("/konto/haslo/nowe/{token}", response_class=HTMLResponse)
async def new_password_form(page: PortalPage_, token: Token) -> Response:
    """Choose a new password (the link's page)."""
    live = await resident_accounts.peek(page.scope, token, "reset", page.now)
    return await form_page(page, "account/reset_set.html", status=200 if live else 404, live=live is not None,
                           token=token, current="account")


@router.post("/konto/haslo/nowe/{token}", response_class=HTMLResponse)
async def set_new_password(page: CheckedPortalPage, token: Token) -> Response:
    """Set the new password: every session ends; then sign in."""
    values = await form_values(page, "password", "password_again", limit=accounts.MAX_PASSWORD_LENGTH)
    t = gettext(page)
    errors: dict[str, str] = {}
    if len(values["password"]) < accounts.MIN_PASSWORD_LENGTH:
        errors["password"] = t.gettext("The password must have at least %(num)d characters") % {
            "num": accounts.MIN_PASSWORD_LENGTH}
    elif values["password"] != values["password_again"]:
        errors["password_again"] = t.gettext("The passwords are not the same")
    if errors:
        return await form_page(page, "account/reset_set.html", errors, live=True, token=token, current="account")
    try:
        await resident_accounts.reset_password(page.scope, token, values["password"], page.now)
    except ServiceError as error:
        if error.status != 404:
            raise
        return await form_page(page, "account/reset_set.html", status=404, live=False, token=token,
                               current="account")
    return without_session(page, see_other(page, "/konto/logowanie?haslo=1"))


# -- changing the e-mail --------------------------------------------------------------------------


@router.get("/konto/email", response_class=HTMLResponse)
async def email_form(page: ResidentPage) -> Response:
    """Ask to change the account's e-mail."""
    return await form_page(page, "account/email_change.html", values={}, current="account")


@router.post("/konto/email", response_class=HTMLResponse)
async def ask_email_change(page: CheckedResidentPage) -> Response:
    """Mail a confirmation link to the new address."""
    values = await form_values(page, "email")
    password = (await form_values(page, "password", limit=accounts.MAX_PASSWORD_LENGTH))["password"]
    t = gettext(page)
    context: dict[str, Any] = {"values": values, "current": "account"}
    if not values["email"].strip():
        return await form_page(page, "account/email_change.html", {"email": t.gettext("Enter the new address")},
                               **context)
    try:
        await resident_accounts.request_email_change(page.scope, page.tenant, _base_domain(page), me(page),
                                                     values["email"], password, page.now,
                                                     address=client_address(page))
    except ServiceError as error:
        if error.status == 429:
            return await too_many(page, "account/email_change.html", error, **context)
        messages = {401: ("password", t.gettext("The password is wrong")),
                    409: ("email", t.gettext("Another account has this address")),
                    422: ("email", t.gettext("Enter a valid e-mail address that is not the current one"))}
        if error.status not in messages:
            raise
        field, message = messages[error.status]
        return await form_page(page, "account/email_change.html", {field: message}, **context)
    return await render(page, "account/check_mail.html", email=values["email"].strip().lower(), change=True,
                        current="account")


@router.get("/konto/email/potwierdz/{token}", response_class=HTMLResponse)
async def email_confirm_form(page: PortalPage_, token: Token) -> Response:
    """The link sent to the new address: a button confirms."""
    live = await resident_accounts.peek(page.scope, token, "email", page.now)
    return await render(page, "account/confirm_link.html", 200 if live else 404, live=live is not None,
                        action=f"/konto/email/potwierdz/{token}", purpose="email", current="account")


@router.post("/konto/email/potwierdz/{token}", response_class=HTMLResponse)
async def email_confirm(page: CheckedPortalPage, token: Token) -> Response:
    """Change the address."""
    try:
        user = await resident_accounts.confirm_email_change(page.scope, token, page.now)
    except ServiceError as error:
        if error.status not in (404, 409):
            raise
        return await render(page, "account/confirm_link.html", error.status, live=False, action="",
                            purpose="email", current="account")
    return await render(page, "account/verified.html", email=user.email, changed=True, current="account")


# -- claiming a report ----------------------------------------------------------------------------


@router.post("/konto/przypisz", response_class=HTMLResponse)
async def ask_claim(page: CheckedResidentPage) -> Response:
    """Mail a claim link to the address the report was made with (if any; the answer does not say)."""
    values = await form_values(page, "number", limit=32)
    t = gettext(page)
    if not values["number"].strip():
        return await form_page(page, "account/claim_ask.html", {"number": t.gettext("Enter the report's number")},
                               values=values, current="account")
    try:
        await resident_accounts.request_claim(page.scope, page.tenant, _base_domain(page), me(page),
                                              values["number"], page.now, address=client_address(page))
    except ServiceError as error:
        if error.status == 429:
            return await too_many(page, "account/claim_ask.html", error, values=values, current="account")
        raise
    return see_other(page, "/konto?wyslano=1")


@router.get("/konto/przypisz", response_class=HTMLResponse)
async def claim_form(page: ResidentPage) -> Response:
    """Ask to claim a report made without an account."""
    return await form_page(page, "account/claim_ask.html", values={}, current="account")


@router.get("/konto/przypisz/{token}", response_class=HTMLResponse)
async def claim_link(page: ResidentPage, token: Token) -> Response:
    """The claim link: a button attaches the report to the signed-in account."""
    live = await resident_accounts.peek(page.scope, token, "claim", page.now)
    mine = live is not None and live.user_id == me(page).id  # type: ignore[attr-defined]
    return await render(page, "account/confirm_link.html", 200 if mine else 404, live=mine,
                        action=f"/konto/przypisz/{token}", purpose="claim", current="account")


@router.post("/konto/przypisz/{token}", response_class=HTMLResponse)
async def claim(page: CheckedResidentPage, token: Token) -> Response:
    """Attach the report to the account."""
    try:
        ticket = await resident_accounts.claim(page.scope, me(page), token, page.now)
    except ServiceError as error:
        if error.status not in (404, 409):
            raise
        return await render(page, "account/confirm_link.html", error.status, live=False, action="",
                            purpose="claim", current="account")
    return see_other(page, f"/konto?przypisano={ticket.number}")
