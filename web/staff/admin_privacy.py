"""Erasing a reporter's personal data on a request received by post (GDPR art. 17), from the administration.

    GET  /staff/admin/privacy                 the form: an e-mail address or a report's number
    POST /staff/admin/privacy                 what the erasure would do (counts), and the erase form
    POST /staff/admin/privacy/erase           the legal basis, the request's reference and a confirmation

The address is sent in a form, never in a URL (so it stays out of access logs and the browser's history).

It runs `gdpr.erase`, the function `komunikator gdpr erase` and `POST /api/v1/admin/gdpr/erase` run:
the reporter contacts found by the e-mail address (any case) or the report's number are blanked,
their reporter links revoked, mail waiting for them dropped, and an audit row per report names the
administrator and the legal basis (with the request's reference). The reports' own free text stays
for the office to review; the answer lists them. When the e-mail address is also a resident's account
on the portal, the account is deleted too, as the resident's own deletion deletes it
(`resident_privacy.erase_account`: comments anonymised, photos, follows, devices and sessions
removed; an `account_erase` audit row with the same legal basis). Administrators only: others get
the administration's one 404 page (`admin_access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import Translations
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.service import gdpr, resident_privacy
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.tickets import public_number
from komunikator.engine.store.models import User
from komunikator.web.api_attachments import media_storage
from komunikator.web.staff.admin_access import AdminPage, CheckedAdminPage
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import Page

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API

#: the longest request reference kept (the legal basis has `gdpr.MAX_LEGAL_BASIS` together with it)
MAX_REFERENCE = 200


def lookup(person: str) -> dict[str, str]:
    """The `gdpr` lookup for what was typed: a report's number, else an e-mail address."""
    number = public_number(person)
    return {"ticket": number} if number is not None else {"email": person.strip()}


def legal_basis(basis: str, reference: str) -> str:
    """What the audit trail records: the legal basis and the request it answers."""
    return f"{basis.strip()} — {reference.strip()}"


def _person_error(error: ServiceError, t: Translations) -> str:
    if error.status == 404:
        return t.gettext("No reporter was found with this e-mail address or report number")
    return t.gettext("Enter an e-mail address, like name@example.pl, or a report number, like ZG-2026-000123")


def _fields(t: Translations, values: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "person": {"name": "person", "label": t.gettext("E-mail address or report number"),
                   "hint": t.gettext("The address the person gave with their reports, or the number of one of "
                                     "them."), "value": values.get("person", ""), "autocomplete": "off"},
        "legal_basis": {"name": "legal_basis", "label": t.gettext("Legal basis"),
                        "hint": t.gettext("For example: art. 17(1)(a) RODO, the person's request."),
                        "value": values.get("legal_basis", "")},
        "reference": {"name": "reference", "label": t.gettext("Reference of the request"),
                      "hint": t.gettext("The letter's number and date as registered, for example KW.0123.4.2026 "
                                        "of 1.12.2026."), "value": values.get("reference", "")},
    }


@dataclass(frozen=True)
class Found:
    """What an erasure would touch: the reporter contacts (`gdpr.preview`) and a resident account."""

    contacts: gdpr.ErasurePreview
    account: User | None

    @property
    def anything(self) -> bool:
        """Whether there is anything left to erase."""
        return bool(self.contacts.contacts or self.account)


NOTHING = gdpr.ErasurePreview(0, 0, (), 0, 0)


async def _draw(page: Page, status_code: int = 200, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, found: Found | None = None,
                done: dict[str, Any] | None = None) -> HTMLResponse:
    t = translations(page.language)
    values = values or {}
    title = t.gettext("Personal data")
    return await render(page, "admin_privacy.html", status_code,
                        title=(t.gettext("Error") + ": " + title) if errors else title, current="admin",
                        section="privacy", fields=_fields(t, values), values=values, errors=errors or {},
                        found=found, done=done)


@router.get("/staff/admin/privacy", response_class=HTMLResponse)
async def privacy_page(page: AdminPage) -> Response:
    """The form that finds a reporter by e-mail address or report number."""
    return await _draw(page)


async def _preview(page: Page, values: dict[str, str]) -> Found | HTMLResponse:
    """What the erasure would do for the typed person, or the form again with the refusal."""
    person = lookup(values.get("person", ""))
    account = await resident_privacy.resident_account(page.scope, person["email"]) if "email" in person else None
    try:
        return Found(await gdpr.preview(page.scope, **person), account)
    except ServiceError as error:
        if error.status not in (404, 422):
            raise
        if error.status == 404 and account is not None:  # an account that never reported with a contact
            return Found(NOTHING, account)
        return await _draw(page, 404 if error.status == 404 else 422, values=values,
                           errors={"person": _person_error(error, translations(page.language))})


def _values(form: Any) -> dict[str, str]:
    values = {k: str(v)[:600] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    values["person"] = values.get("person", "").strip()[:254]
    return values


@router.post("/staff/admin/privacy", response_class=HTMLResponse)
async def find(page: CheckedAdminPage) -> Response:
    """What the erasure would do for the person (counts), and the form that runs it."""
    values = _values(await page.request.form())
    found = await _preview(page, values)
    if isinstance(found, HTMLResponse):
        return found
    return await _draw(page, values={"person": values["person"]}, found=found)


@router.post("/staff/admin/privacy/erase", response_class=HTMLResponse)
async def erase(page: CheckedAdminPage) -> Response:
    """Erase the person's contacts, once the legal basis, the reference and the confirmation are given."""
    assert page.view is not None  # noqa: S101  (an administrator is signed in)
    t = translations(page.language)
    values = _values(await page.request.form())
    person = values["person"]
    found = await _preview(page, values)
    if isinstance(found, HTMLResponse):
        return found
    errors: dict[str, str] = {}
    basis, reference = values.get("legal_basis", "").strip(), values.get("reference", "").strip()
    if not basis:
        errors["legal_basis"] = t.gettext("Enter the legal basis")
    if not reference:
        errors["reference"] = t.gettext("Enter the reference of the request")
    elif len(reference) > MAX_REFERENCE or len(legal_basis(basis, reference)) > gdpr.MAX_LEGAL_BASIS:
        errors["reference"] = t.gettext("The legal basis and the reference must have at most %(num)d characters "
                                        "together") % {"num": gdpr.MAX_LEGAL_BASIS}
    if values.get("confirm") != "yes":
        errors["confirm"] = t.gettext("Confirm that the personal data are to be erased")
    if errors:
        return await _draw(page, 422, values=values, errors=errors, found=found)
    basis_text = legal_basis(basis, reference)
    if found.account is not None:  # the account, its contacts and those of its reports
        done = await resident_privacy.erase_account(page.scope, page.tenant, found.account, page.view, basis_text,
                                                    page.now, media_storage(page.request))
    else:
        done = await gdpr.erase(page.scope, page.view, basis_text, page.now, **lookup(person))
    return await _draw(page, values={"person": person}, done=done)
