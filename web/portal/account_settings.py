"""A resident's settings and privacy pages: channels, push devices, topics and areas; export and delete.

    GET  /konto/ustawienia, POST              channels (e-mail, push) — stored by `resident_settings`
    POST /konto/push                          a browser's subscription (JSON from `account.js`, CSRF header)
    POST /konto/push/{id}/usun                forget a device
    GET  /konto/prywatnosc                    what is kept, export, delete
    POST /konto/prywatnosc/eksport            download: `format=json` (data) or `zip` (data + photos)
    POST /konto/prywatnosc/usun               delete the account (the password confirms it)

Topics and areas are stored for plugins (`resident_settings.set_topics`,
`set_areas`); the page lists them and lets the resident clear them, each
plugin draws its own choices on its pages.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, JSONResponse, Response

from komunikator.engine.delivery.push import VapidKeys
from komunikator.engine.media.storage import LocalStorage, Storage
from komunikator.engine.service import accounts, push_subscriptions, resident_privacy, resident_settings
from komunikator.engine.service.errors import ServiceError
from komunikator.web.portal.account_forms import (
    CheckedResidentPage,
    ResidentPage,
    form_page,
    gettext,
    me,
    see_other,
    without_session,
)
from komunikator.web.portal.context import PortalPage
from komunikator.web.portal.rendering import finish, render

router = APIRouter(include_in_schema=False)
DeviceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_IOS = re.compile(r"iPhone|iPad|iPod")


def _public_key() -> str | None:
    """The VAPID public key browsers subscribe with, or None when the deployment has no key (no push)."""
    try:
        keys = VapidKeys.from_env()
    except ValueError:
        return None
    return keys.public_key if keys is not None else None


def _storage(page: PortalPage) -> Storage:
    storage: Storage | None = getattr(page.request.app.state, "media_storage", None)
    if storage is None:
        storage = page.request.app.state.media_storage = LocalStorage.from_env()
    return storage


async def _settings_page(page: PortalPage, status: int = 200, errors: dict[str, str] | None = None,
                         saved: bool = False) -> HTMLResponse:
    user = me(page)
    prefs = await resident_settings.get(page.scope, user.id)
    devices = await push_subscriptions.of_user(page.scope, user.id)
    agent = page.request.headers.get("user-agent", "")
    return await render(page, "account/settings.html", status, errors=errors or {}, prefs=prefs, devices=devices,
                        vapid_key=_public_key(), ios=bool(_IOS.search(agent)), saved=saved, current="account")


@router.get("/konto/ustawienia", response_class=HTMLResponse)
async def settings(page: ResidentPage) -> Response:
    """Channels, devices, topics and areas."""
    return await _settings_page(page, saved=page.request.query_params.get("zapisano") == "1")


@router.post("/konto/ustawienia", response_class=HTMLResponse)
async def save_settings(page: CheckedResidentPage) -> Response:
    """Switch channels on or off; clear the plugins' topics and areas if asked."""
    form = await page.request.form()
    user = me(page)
    wanted = {channel: form.get(f"channel_{channel}") == "on" for channel in resident_settings.CHANNELS}
    await resident_settings.set_channels(page.scope, user.id, wanted)
    if form.get("clear_topics") == "on":
        for owner in {t.split(":", 1)[0] for t in (await resident_settings.get(page.scope, user.id)).topics}:
            await resident_settings.set_topics(page.scope, user.id, owner, [])
    if form.get("clear_areas") == "on":
        await resident_settings.set_areas(page.scope, user.id, [])
    return see_other(page, "/konto/ustawienia?zapisano=1")


@router.post("/konto/push")
async def subscribe(page: CheckedResidentPage) -> Response:
    """Store the subscription the browser made after the resident's click (JSON: subscription, label)."""
    try:
        body: Any = json.loads(await page.request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("subscription"), dict):
        return finish(page, JSONResponse({"error": "send {subscription, label}"}, status_code=422))
    try:
        row = await push_subscriptions.subscribe(page.scope, me(page), body["subscription"],
                                                 str(body.get("label") or "")[:200], page.now)
    except ServiceError as error:
        return finish(page, JSONResponse({"error": error.message, "field": error.field}, status_code=error.status))
    return finish(page, JSONResponse({"id": row.id, "label": row.label}, status_code=201))


@router.post("/konto/push/{device}/usun")
async def forget_device(page: CheckedResidentPage, device: DeviceId) -> Response:
    """Stop pushing to one device."""
    try:
        await push_subscriptions.remove(page.scope, me(page), device, page.now)
    except ServiceError as error:
        if error.status != 404:
            raise
        return await _settings_page(page, 404, {"devices": gettext(page).gettext("There is no such device")})
    return see_other(page, "/konto/ustawienia?zapisano=1")


# -- privacy --------------------------------------------------------------------------------------


@router.get("/konto/prywatnosc", response_class=HTMLResponse)
async def privacy(page: ResidentPage) -> Response:
    """What the city keeps, download it, delete the account."""
    return await form_page(page, "account/privacy.html", current="account")


@router.post("/konto/prywatnosc/eksport")
async def export(page: CheckedResidentPage) -> Response:
    """The resident's data: JSON, or a ZIP with the photos they sent."""
    form = await page.request.form()
    user = me(page)
    name = f"moje-dane-{page.tenant.slug}-{page.now.strftime('%Y-%m-%d')}"
    if form.get("format") == "zip":
        blob = await resident_privacy.export_zip(page.scope, page.tenant, user, page.now, _storage(page))
        response = Response(blob, media_type="application/zip",
                            headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})
    else:
        data = await resident_privacy.export(page.scope, page.tenant, user, page.now)
        response = Response(json.dumps(data, ensure_ascii=False, indent=2, default=str),
                            media_type="application/json",
                            headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return finish(page, response)


@router.post("/konto/prywatnosc/usun", response_class=HTMLResponse)
async def delete(page: CheckedResidentPage) -> Response:
    """Delete the account (the password confirms it); then the home page says it is gone."""
    form = await page.request.form()
    password = str(form.get("password") or "")[: accounts.MAX_PASSWORD_LENGTH]
    t = gettext(page)
    if form.get("confirm") != "on":
        return await form_page(page, "account/privacy.html",
                               {"confirm": t.gettext("Tick the box to confirm that the account should be deleted")},
                               current="account")
    try:
        await resident_privacy.delete_account(page.scope, page.tenant, me(page), password, page.now, _storage(page))
    except ServiceError as error:
        if error.status != 401:
            raise
        return await form_page(page, "account/privacy.html", {"password": t.gettext("The password is wrong")},
                               current="account")
    page.user = None
    response = await render(page, "account/deleted.html", current="account")
    return without_session(page, response)
