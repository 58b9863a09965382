"""Administration of staff accounts: the list, a new account, one account's memberships, password and status.

Every write calls `engine/service/accounts/administration.py` (audited, with the rules: who is
an administrator, all memberships or none, no self-lockout); this module turns forms into
those calls and refusals into words next to the fields. A temporary password is shown once,
in the answer to the POST that made it (the pages are `no-store`), and never again.
"""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from komunikator.engine.compiled import CITY_UNIT, CompiledTenant
from komunikator.engine.service import accounts
from komunikator.engine.service.accounts import administration
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import User
from komunikator.web.staff.admin_access import AdminPage, CheckedAdminPage, not_found
from komunikator.web.staff.i18n import N_, localized, translations
from komunikator.web.staff.rendering import render
from komunikator.web.staff.session import Page

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API

PAGE_SIZE = 25
#: how many memberships the new-account form offers (more are added on the account's page)
NEW_MEMBERSHIPS = 3
#: messages of the `?done=` notice after a redirect
DONE = {
    "granted": N_("The role was granted."),
    "revoked": N_("The role was taken away."),
    "activated": N_("The account was reactivated."),
    "deactivated": N_("The account was deactivated: its sessions ended and its API tokens were revoked."),
}


def unit_choices(tenant: CompiledTenant, t: Translations, language: str) -> list[tuple[str, str]]:
    """Where a membership may be: the whole office first, then the units that have accounts, by name."""
    units = sorted(((name, localized(unit.name, language)) for name, unit in tenant.units.items()
                    if unit.accounts), key=lambda pair: pair[1])
    return [("", t.gettext("— choose —")), (CITY_UNIT, t.gettext("The whole office (every unit)")), *units]


def role_choices(tenant: CompiledTenant, t: Translations, language: str) -> list[tuple[str, str]]:
    """The tenant's roles by their names in `language`."""
    return [("", t.gettext("— choose —")),
            *((name, localized(role.name, language)) for name, role in tenant.roles.items())]


def unit_label(tenant: CompiledTenant, t: Translations, unit: str, language: str) -> str:
    """A membership's unit in words (`city`: the whole office)."""
    if unit == CITY_UNIT:
        return t.gettext("The whole office")
    return localized(tenant.units[unit].name, language) if unit in tenant.units else unit


def role_label(tenant: CompiledTenant, role: str, language: str) -> str:
    """A role's name in `language` (its id if the YAML no longer has it)."""
    return localized(tenant.roles[role].name, language) if role in tenant.roles else role


def message(error: ServiceError, t: Translations, value: str = "") -> str:
    """A refusal of the accounts service in the page's words."""
    if error.code == "conflict" and error.field == "email":
        return t.gettext("An account with this e-mail address already exists")
    if error.code == "self_lockout":
        return (t.gettext("You cannot deactivate your own account") if error.field == "active"
                else t.gettext("You cannot take away the role that makes you an administrator"))
    if error.field == "email":
        return t.gettext("Enter an e-mail address in the right format, like name@example.pl")
    if error.field == "display_name":
        return t.gettext("Enter the name") if not value.strip() else t.gettext(
            "The name must have at most 200 characters")
    if error.field == "unit":
        return t.gettext("Choose a unit that has accounts")
    if error.field == "role":
        return t.gettext("Choose a role")
    if error.field == "locale":
        return t.gettext("Choose one of the city's languages")
    if error.code == "not_found":
        return t.gettext("The account does not hold this role")
    return t.gettext("The change was refused.")


# -- the list ---------------------------------------------------------------------------


@router.get("/staff/admin/users", response_class=HTMLResponse)
async def user_list(page: AdminPage, q: str = "", after: str | None = None) -> Response:
    """Staff accounts by e-mail, searchable by e-mail or name, a page at a time (keyset)."""
    t = translations(page.language)
    query = q.strip()[:200]
    found = await administration.staff_directory(page.scope, query, (after or "")[:254] or None, PAGE_SIZE)
    held = await administration.memberships_by_user(page.scope, [u.id for u in found.users])
    rows = [{
        "user": user,
        "roles": [f"{role_label(page.tenant, m.role, page.language)} – "
                  f"{unit_label(page.tenant, t, m.unit, page.language)}" for m in held.get(user.id, [])],
    } for user in found.users]
    return await render(page, "admin_users.html", title=t.gettext("Users"), current="admin", section="users",
                        rows=rows, q=query, after=after, next_after=found.next_after)


# -- a new account ------------------------------------------------------------------------


def _new_form(page: Page, values: dict[str, str]) -> dict[str, Any]:
    t = translations(page.language)
    languages = [("", t.gettext("The city's language"))] + [
        (lang, {"pl": "polski", "en": "English"}.get(lang, lang)) for lang in page.tenant.config.locales]
    rows = []
    for i in range(1, NEW_MEMBERSHIPS + 1):
        rows.append([
            {"name": f"unit_{i}", "id": f"unit_{i}", "label": t.gettext("Unit"), "type": "select",
             "options": unit_choices(page.tenant, t, page.language), "value": values.get(f"unit_{i}", "")},
            {"name": f"role_{i}", "id": f"role_{i}", "label": t.gettext("Role"), "type": "select",
             "options": role_choices(page.tenant, t, page.language), "value": values.get(f"role_{i}", "")},
        ])
    return {
        "email": {"name": "email", "label": t.gettext("E-mail address"), "type": "email",
                  "value": values.get("email", ""), "autocomplete": "off"},
        "display_name": {"name": "display_name", "label": t.gettext("Name shown to colleagues"),
                         "value": values.get("display_name", "")},
        "locale": {"name": "locale", "label": t.gettext("Language of e-mails and pages"), "type": "select",
                   "options": languages, "value": values.get("locale", "")},
        "memberships": rows,
    }


@router.get("/staff/admin/users/new", response_class=HTMLResponse)
async def new_user_form(page: AdminPage) -> Response:
    """The form for a new staff account and its first memberships."""
    t = translations(page.language)
    return await render(page, "admin_user_new.html", title=t.gettext("New account"), current="admin",
                        section="users", form=_new_form(page, {}), errors={})


@router.post("/staff/admin/users", response_class=HTMLResponse)
async def create_user(page: CheckedAdminPage) -> Response:
    """Create the account with its memberships; show its temporary password once."""
    assert page.view is not None  # noqa: S101  (an administrator is signed in)
    t = translations(page.language)
    form = await page.request.form()
    values = {k: str(v)[:300] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for i in range(1, NEW_MEMBERSHIPS + 1):
        unit, role = values.get(f"unit_{i}", ""), values.get(f"role_{i}", "")
        if not unit and not role:
            continue
        if not unit or not role:
            errors[f"unit_{i}" if not unit else f"role_{i}"] = t.gettext("Choose both a unit and a role")
            continue
        try:
            accounts.check_membership(page.tenant, unit, role)
        except ServiceError as error:
            errors[f"{error.field or 'unit'}_{i}"] = message(error, t)
            continue
        pairs.append((unit, role))
    if not errors:
        try:
            user, password = await administration.create_staff(
                page.scope, page.tenant, page.view, values.get("email", ""), values.get("display_name", ""),
                pairs, page.now, values.get("locale") or None)
        except ServiceError as error:
            if error.status not in (409, 422):
                raise
            field = error.field if error.field in ("email", "display_name", "locale") else "email"
            errors[field] = message(error, t, values.get(field, ""))
        else:
            return await _draw_user(page, user, status_code=201, password=password, created=True)
    ordered = {key: errors[key] for key in ["email", "display_name", "locale",
                                            *(f"{p}_{i}" for i in range(1, NEW_MEMBERSHIPS + 1)
                                              for p in ("unit", "role"))] if key in errors}
    return await render(page, "admin_user_new.html", 422, title=t.gettext("Error") + ": " + t.gettext("New account"),
                        current="admin", section="users", form=_new_form(page, values), errors=ordered)


# -- one account ------------------------------------------------------------------------------


async def _draw_user(page: Page, user: User, status_code: int = 200, *, password: str | None = None,
                     created: bool = False, errors: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, done: str | None = None) -> HTMLResponse:
    t = translations(page.language)
    held = await accounts.memberships_of(page.scope, user)
    memberships = [{"unit": m.unit, "role": m.role, "unit_name": unit_label(page.tenant, t, m.unit, page.language),
                    "role_name": role_label(page.tenant, m.role, page.language)} for m in held]
    values = values or {}
    grant_fields = [
        {"name": "unit", "id": "unit", "key": "unit", "label": t.gettext("Unit"), "type": "select",
         "options": unit_choices(page.tenant, t, page.language), "value": values.get("unit", "")},
        {"name": "role", "id": "role", "key": "role", "label": t.gettext("Role"), "type": "select",
         "options": role_choices(page.tenant, t, page.language), "value": values.get("role", "")},
    ]
    name = user.display_name or user.email
    title = (t.gettext("Error") + ": " + name) if errors else name
    return await render(page, "admin_user.html", status_code, title=title, current="admin", section="users",
                        account=user, memberships=memberships, grant_fields=grant_fields, errors=errors or {},
                        password=password, created=created, done=t.gettext(DONE[done]) if done in DONE else None,
                        is_self=page.view is not None and page.view.id == str(user.id))


async def _member(page: Page, user_id: int) -> User | None:
    try:
        return await administration.staff_member(page.scope, user_id)
    except ServiceError:
        return None


@router.get("/staff/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(user_id: int, page: AdminPage, done: str | None = None) -> Response:
    """One account: its memberships, status and password."""
    user = await _member(page, user_id)
    return await _draw_user(page, user, done=done) if user is not None else await not_found(page)


async def _change(page: Page, user_id: int, run: Any, done: str, field: str) -> Response:
    """Run one change to an account; back to its page, or the page with the refusal next to `field`."""
    user = await _member(page, user_id)
    if user is None:
        return await not_found(page)
    form = await page.request.form()
    values = {k: str(v)[:100] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        await run(user, values)
    except ServiceError as error:
        if error.status not in (404, 409, 422):
            raise
        key = error.field if error.field in ("unit", "role") and field == "unit" else field
        return await _draw_user(page, user, 422 if error.status == 422 else 409,
                                errors={key: message(error, translations(page.language))}, values=values)
    return RedirectResponse(f"/staff/admin/users/{user.id}?done={done}", status_code=303)


@router.post("/staff/admin/users/{user_id}/memberships", response_class=HTMLResponse)
async def grant(user_id: int, page: CheckedAdminPage) -> Response:
    """Grant a role in a unit (or in the whole office)."""
    assert page.view is not None  # noqa: S101
    view = page.view

    async def run(user: User, values: dict[str, str]) -> None:
        if not values.get("unit"):
            raise ServiceError(422, "invalid_input", "no unit", field="unit")
        if not values.get("role"):
            raise ServiceError(422, "invalid_input", "no role", field="role")
        await administration.grant_membership(page.scope, page.tenant, view, user, values["unit"],
                                              values["role"], page.now)

    return await _change(page, user_id, run, "granted", "unit")


@router.post("/staff/admin/users/{user_id}/memberships/revoke", response_class=HTMLResponse)
async def revoke(user_id: int, page: CheckedAdminPage) -> Response:
    """Take a role in a unit away."""
    assert page.view is not None  # noqa: S101
    view = page.view

    async def run(user: User, values: dict[str, str]) -> None:
        await administration.revoke_membership(page.scope, page.tenant, view, user, values.get("unit", ""),
                                               values.get("role", ""), page.now)

    return await _change(page, user_id, run, "revoked", "memberships")


@router.post("/staff/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(user_id: int, page: CheckedAdminPage) -> Response:
    """Deactivate (sessions end, tokens revoked) or reactivate the account."""
    assert page.view is not None  # noqa: S101
    view = page.view
    form = await page.request.form()
    active = form.get("active") == "1"

    async def run(user: User, _values: dict[str, str]) -> None:
        await administration.set_active(page.scope, page.tenant, view, user, active, page.now)

    return await _change(page, user_id, run, "activated" if active else "deactivated", "active")


@router.post("/staff/admin/users/{user_id}/password", response_class=HTMLResponse)
async def reset_password(user_id: int, page: CheckedAdminPage) -> Response:
    """A new temporary password, shown once; the person's sessions end."""
    assert page.view is not None  # noqa: S101
    user = await _member(page, user_id)
    if user is None:
        return await not_found(page)
    password = await administration.reset_password(page.scope, page.tenant, page.view, user, page.now)
    return await _draw_user(page, user, password=password)
