"""Accounts and memberships: who exists in a city, with which roles in which units, in which language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from komunikator.engine.compiled import CITY_UNIT, CompiledTenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.accounts.passwords import check_password, hash_password
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import USER_KINDS, Membership, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """The e-mail as stored (trimmed, lower-cased); 422 if it does not look like one."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise invalid(f"{email!r} is not an e-mail address", "email")
    return cleaned

async def find_user(scope: TenantScope, email: str) -> User | None:
    """The user with this e-mail (any case), or None (also for text that is no e-mail)."""
    cleaned = email.strip().lower()
    return await scope.users().get_or_none(email=cleaned) if cleaned else None

async def get_user(scope: TenantScope, email: str) -> User:
    """The user with this e-mail; 404 otherwise."""
    user = await find_user(scope, email)
    if user is None:
        raise ServiceError(404, "not_found", f"no user {email.strip().lower()!r}", field="email")
    return user

async def list_users(scope: TenantScope) -> list[User]:
    """Every user of the tenant, by e-mail."""
    return await scope.users().order_by("email")

async def create_user(
    scope: TenantScope, email: str, display_name: str, password: str | None = None, kind: str = "staff",
    locale: str | None = None, *, temporary: bool = False,
) -> User:
    """A new account; without a password it cannot log in until one is set.

    `temporary`: the password was made for them to hand over (`must_change_password`): the staff
    pages ask them to choose their own before anything else.

    `locale`: the language of messages to them, checked by the caller against
    the tenant's (`check_locale`); None: the tenant's own. 409 if the e-mail
    (compared lower-cased) is taken in this tenant.
    """
    address = normalize_email(email)
    name = display_name.strip()
    if not name:
        raise invalid("the display name is empty", "display_name")
    if len(name) > 200:
        raise invalid("the display name is longer than 200 characters", "display_name")
    if kind not in USER_KINDS:
        raise invalid(f"unknown kind {kind!r}; use one of: {', '.join(USER_KINDS)}", "kind")
    if password is not None:
        check_password(password)
    if await scope.users().filter(email=address).exists():
        raise _taken(address)
    password_hash = await hash_password(password) if password is not None else None
    try:
        async with transaction():
            return await scope.create(User, email=address, display_name=name, kind=kind,
                                      password_hash=password_hash, locale=locale,
                                      must_change_password=temporary and password is not None)
    except Duplicate:  # created meanwhile
        raise _taken(address) from None

def _taken(address: str) -> ServiceError:
    return ServiceError(409, "conflict", f"a user with e-mail {address!r} already exists", field="email")

async def set_password(scope: TenantScope, user: User, password: str | None, *, temporary: bool = False) -> None:
    """Set (or, with None, remove) the user's password and end all their sessions.

    `temporary`: someone else chose it (an administrator's reset): they must change it
    (`must_change_password`); their own new password clears that.
    """
    if password is not None:
        check_password(password)
    user.password_hash = await hash_password(password) if password is not None else None
    user.must_change_password = temporary and password is not None
    await user.save(update_fields=["password_hash", "must_change_password", "updated_at"])
    await scope.sessions().filter(user_id=user.id).delete()

async def deactivate(scope: TenantScope, user: User, now: datetime) -> None:
    """Lock the user out: no login, their sessions ended and API tokens revoked."""
    user.active = False
    await user.save(update_fields=["active", "updated_at"])
    await scope.sessions().filter(user_id=user.id).delete()
    await scope.api_tokens().filter(user_id=user.id, revoked_at=None).update(revoked_at=now)

def check_membership(tenant: CompiledTenant, unit: str, role: str) -> None:
    """422 unless `unit` and `role` exist in the tenant's YAML and the unit has accounts.

    `city` (`CITY_UNIT`) is the whole office: a role granted there covers every unit.
    """
    if unit not in tenant.units and unit != CITY_UNIT:
        known = ", ".join([*tenant.units, f"{CITY_UNIT} (the whole office)"])
        raise invalid(f"unknown unit {unit!r}; known units: {known}", "unit")
    if role not in tenant.roles:
        raise invalid(f"unknown role {role!r}; known roles: {', '.join(tenant.roles)}", "role")
    if unit != CITY_UNIT and not tenant.units[unit].accounts:
        raise invalid(f"unit {unit!r} has no accounts (its tasks go to its e-mail)", "unit")

async def grant(scope: TenantScope, tenant: CompiledTenant, user: User, unit: str, role: str) -> Membership:
    """Give `user` `role` in `unit` (idempotent: an existing membership is returned)."""
    check_membership(tenant, unit, role)
    if user.kind != "staff":
        raise invalid(f"{user.email} is a {user.kind} account; only staff hold roles", "user")
    existing = await scope.memberships().get_or_none(user_id=user.id, unit=unit, role=role)
    if existing is not None:
        return existing
    try:
        async with transaction():
            return await scope.create(Membership, user_id=user.id, unit=unit, role=role)
    except Duplicate:  # granted meanwhile
        return await scope.get(Membership, user_id=user.id, unit=unit, role=role)

async def revoke(scope: TenantScope, user: User, unit: str, role: str) -> None:
    """Take `role` in `unit` away from `user`; 404 if they do not hold it."""
    removed = await scope.memberships().filter(user_id=user.id, unit=unit, role=role).delete()
    if not removed:
        raise ServiceError(404, "not_found", f"{user.email} holds no role {role!r} in unit {unit!r}")

async def memberships_of(scope: TenantScope, user: User) -> list[Membership]:
    """The user's memberships, by unit and role."""
    return await scope.memberships().filter(user_id=user.id).order_by("unit", "role")

def check_locale(tenant: CompiledTenant, locale: str | None) -> str | None:
    """`locale` if the tenant speaks it (None stays None: the tenant's own); a 422 otherwise."""
    if locale is not None and locale not in tenant.config.locales:
        raise invalid(f"locale {locale!r} is not one of this city's: {', '.join(tenant.config.locales)}",
                      "locale", "unsupported_locale")
    return locale

async def set_locale(scope: TenantScope, tenant: CompiledTenant, user: User, locale: str | None,
                     now: datetime | None = None) -> User:
    """Change the language of messages to `user` (None: the tenant's own), audited."""
    check_locale(tenant, locale)
    if user.locale == locale:
        return user
    async with transaction():
        before = user.locale
        await scope.users().filter(id=user.id).update(locale=locale)
        user.locale = locale
        await audit(scope, None, audit_actor(user), "user_locale", {"user": user.id, "locale": before},
                    {"user": user.id, "locale": locale}, now or datetime.now(UTC))
    return user

def audit_actor(user: User) -> UserView:
    """The user as the audit trail names them (who did it; their roles do not matter here)."""
    kind = "staff" if user.kind == "staff" else "resident"
    return UserView(str(user.id), (), kind, user.display_name)  # type: ignore[arg-type]
