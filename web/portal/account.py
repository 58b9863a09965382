"""The residents' accounts in the portal: `install(app)` adds the `/konto` pages, the sign-in redirect and the
navigation entry ("Moje konto" for a signed-in resident, "Zaloguj się" for others).

Pages: `account_pages.py` (sign up, verify, sign in/out, passwords, e-mail change, claiming a report),
`account_settings.py` (channels, push devices, privacy: export and delete); shared helpers in
`account_forms.py`; templates in `templates/account/`; the browser side in `static/account.js` (push
subscription after a click) and `static/sw-push.js` (the service worker's push handler).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from komunikator.web.portal import account_pages, account_settings, nav
from komunikator.web.portal.account_forms import SignInRequired, sign_in_url
from komunikator.web.portal.context import PortalPage
from komunikator.web.staff import security
from komunikator.web.staff.i18n import N_, translations

ACCOUNT = N_("My account")
SIGN_IN = N_("Sign in")


async def account_entry(page: PortalPage) -> list[nav.NavEntry]:
    """"My account" when signed in, else "Sign in"."""
    gettext = translations(page.language).gettext
    if page.user is not None:
        return [nav.NavEntry("account", gettext(ACCOUNT), "/konto", 90)]
    return [nav.NavEntry("account", gettext(SIGN_IN), "/konto/logowanie", 90)]


def install(app: FastAPI) -> None:
    """Add the account pages to `app`."""
    app.include_router(account_pages.router)
    app.include_router(account_settings.router)
    nav.add_provider(account_entry)

    @app.exception_handler(SignInRequired)
    async def _sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": sign_in_url(exc.next_path)})
        return security.protect(RedirectResponse(sign_in_url(exc.next_path), status_code=303), request)
