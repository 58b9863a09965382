"""The link that confirms a reporter's or a follower's e-mail address, as a page for people.

    GET  /potwierdz-adres/{token}    a button to confirm (a GET changes nothing: mail scanners open links)
    POST /potwierdz-adres/{token}    confirm; the page says which report the address will hear about

The e-mail (`email_confirmation`, `follow_confirmation`) links here; the JSON
twin for applications is `GET /api/v1/public/email-confirmations/{token}`.
Both go through `intake.confirm_email`. A token of another city, used or
unknown is the same 404 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.service import intake
from komunikator.engine.service.errors import ServiceError
from komunikator.web.portal.context import CheckedPortalPage, PortalPage_
from komunikator.web.portal.rendering import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TEMPLATE = "account/confirm_link.html"


@router.get("/potwierdz-adres/{token}", response_class=HTMLResponse)
async def confirm_form(page: PortalPage_, token: Token) -> Response:
    """The confirmation link: a button that confirms."""
    live = await intake.confirmation_pending(page.scope, token)
    return await render(page, TEMPLATE, 200 if live else 404, live=live, action=f"/potwierdz-adres/{token}",
                        purpose="address")


@router.post("/potwierdz-adres/{token}", response_class=HTMLResponse)
async def confirm(page: CheckedPortalPage, token: Token) -> Response:
    """Confirm the address; the report it will hear about."""
    try:
        ticket = await intake.confirm_email(page.scope, token, page.now)
    except ServiceError as error:
        if error.status != 404:
            raise
        return await render(page, TEMPLATE, 404, live=False, action="", purpose="address")
    return await render(page, "account/address_confirmed.html", number=ticket.number)
