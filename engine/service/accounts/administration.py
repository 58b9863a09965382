"""What a city's administrator does to staff accounts, each change audited with who did it.

The staff workspace's administration pages (`/staff/admin/users`) call these; the rules live
here, not in the pages:

- who is an administrator: `runtime.access.manages_users` (a role with `manages_users: true`);
- a new account gets its memberships in the same transaction (all of them or none), and a
  generated temporary password that is returned once and stored only as a hash;
- resetting a password replaces it with a new temporary one and ends the person's sessions;
- a temporary password marks the account `must_change_password`: the staff pages send the person
  to `/staff/password` until they choose their own (the API, with its tokens, is unaffected);
  deactivating ends their sessions and revokes their API tokens; reactivating lets them in again;
- an administrator cannot lock themselves out: not deactivate their own account, nor revoke
  the last membership that makes them an administrator.

Audit rows name the account by id (personal data referenced, not copied): `user_create`,
`user_deactivate`, `user_reactivate`, `user_password_reset`, `membership_grant`, `membership_revoke`.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import access
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.accounts.users import (
    check_locale,
    check_membership,
    create_user,
    deactivate,
    grant,
    revoke,
    set_password,
)
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.models import Membership, User
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: Letters and digits that cannot be mistaken for each other when read aloud or copied by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: A temporary password: four groups of four (about 79 bits), e.g. `k7wd-p3rm-x9ta-h4ne`.
TEMPORARY_GROUPS = 4
#: How many rows the keyset reads at a time while looking for matches of a search.
_BATCH = 200


def temporary_password() -> str:
    """A random password to hand over once (the person should change it)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(TEMPORARY_GROUPS))


def require_admin(tenant: CompiledTenant, actor: UserView) -> None:
    """404 unless `actor` administers the city (the same answer as for a page that does not exist)."""
    if not access.manages_users(tenant, actor):
        raise ServiceError(404, "not_found", "not found")


def _folded(text: str) -> str:
    """Lower case without diacritics (`Łukasz` → `lukasz`), the same on every database."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class StaffPage:
    """One page of staff accounts by e-mail, and the e-mail to continue after (None: the last page)."""

    users: list[User]
    next_after: str | None


async def staff_directory(scope: TenantScope, query: str = "", after: str | None = None,
                          limit: int = 25) -> StaffPage:
    """Staff accounts ordered by e-mail, `limit` per page after the e-mail `after` (keyset, never OFFSET).

    `query` keeps those whose e-mail or name contains every word of it, compared without case
    and diacritics in Python, so SQLite and PostgreSQL return the same accounts.
    """
    words = _folded(query).split()
    found: list[User] = []
    cursor = after
    while len(found) <= limit:
        rows = scope.users().filter(kind="staff")
        if cursor is not None:
            rows = rows.filter(email__gt=cursor)
        batch = await rows.order_by("email").limit(_BATCH)
        for user in batch:
            haystack = _folded(f"{user.email} {user.display_name}")
            if all(word in haystack for word in words):
                found.append(user)
        if len(batch) < _BATCH:
            break
        cursor = batch[-1].email
    more = len(found) > limit
    page = found[:limit]
    return StaffPage(page, page[-1].email if more and page else None)


async def staff_member(scope: TenantScope, user_id: int) -> User:
    """The staff account `user_id` of this city; 404 for an unknown id, a resident or another city's."""
    user = await scope.users().get_or_none(id=user_id, kind="staff")
    if user is None:
        raise ServiceError(404, "not_found", "no such staff account")
    return user


async def create_staff(
    scope: TenantScope, tenant: CompiledTenant, actor: UserView, email: str, display_name: str,
    memberships: Sequence[tuple[str, str]], now: datetime, locale: str | None = None,
) -> tuple[User, str]:
    """A new staff account with its memberships, and its temporary password (returned once).

    Every membership is checked against the tenant before anything is written; 409 if the
    e-mail is taken, 422 for a bad e-mail, name, unit, role or locale (with the field).
    """
    require_admin(tenant, actor)
    for unit, role in memberships:
        check_membership(tenant, unit, role)
    check_locale(tenant, locale)
    password = temporary_password()
    async with transaction():
        user = await create_user(scope, email, display_name, password, "staff", locale, temporary=True)
        granted = []
        for unit, role in dict.fromkeys(memberships):
            await grant(scope, tenant, user, unit, role)
            granted.append(f"{unit}:{role}")
        await audit(scope, None, actor, "user_create", {"user": None},
                    {"user": user.id, "kind": "staff", "memberships": granted}, now)
    return user, password


async def reset_password(scope: TenantScope, tenant: CompiledTenant, actor: UserView, user: User,
                         now: datetime) -> str:
    """A new temporary password for `user` (returned once); their sessions end."""
    require_admin(tenant, actor)
    password = temporary_password()
    async with transaction():
        await set_password(scope, user, password, temporary=True)
        await audit(scope, None, actor, "user_password_reset", {"user": user.id}, {"user": user.id}, now)
    return password


async def set_active(scope: TenantScope, tenant: CompiledTenant, actor: UserView, user: User, active: bool,
                     now: datetime) -> None:
    """Deactivate (sessions ended, tokens revoked) or reactivate `user`; nothing happens if already so.

    409 `self_lockout` when an administrator deactivates their own account.
    """
    require_admin(tenant, actor)
    if user.active == active:
        return
    if not active and str(user.id) == actor.id:
        raise ServiceError(409, "self_lockout", "you cannot deactivate your own account", field="active")
    async with transaction():
        if active:
            user.active = True
            await user.save(update_fields=["active", "updated_at"])
        else:
            await deactivate(scope, user, now)
        await audit(scope, None, actor, "user_reactivate" if active else "user_deactivate",
                    {"user": user.id, "active": not active}, {"user": user.id, "active": active}, now)


async def grant_membership(scope: TenantScope, tenant: CompiledTenant, actor: UserView, user: User, unit: str,
                           role: str, now: datetime) -> None:
    """Give `user` `role` in `unit` (`city`: the whole office), audited; holding it already changes nothing."""
    require_admin(tenant, actor)
    check_membership(tenant, unit, role)
    async with transaction():
        held = await scope.memberships().filter(user_id=user.id, unit=unit, role=role).exists()
        await grant(scope, tenant, user, unit, role)
        if not held:
            await audit(scope, None, actor, "membership_grant", {"user": user.id, "membership": None},
                        {"user": user.id, "membership": f"{unit}:{role}"}, now)


async def revoke_membership(scope: TenantScope, tenant: CompiledTenant, actor: UserView, user: User, unit: str,
                            role: str, now: datetime) -> None:
    """Take `role` in `unit` from `user`, audited; 404 if not held.

    409 `self_lockout` when it is the administrator's own last membership that makes them one.
    """
    require_admin(tenant, actor)
    if str(user.id) == actor.id:
        rest = tuple(m for m in actor.memberships if (m.unit, m.role) != (unit, role))
        if not access.manages_users(tenant, UserView(actor.id, rest, actor.kind, actor.name)):
            raise ServiceError(409, "self_lockout", "you would no longer be an administrator", field="membership")
    async with transaction():
        await revoke(scope, user, unit, role)
        await audit(scope, None, actor, "membership_revoke", {"user": user.id, "membership": f"{unit}:{role}"},
                    {"user": user.id, "membership": None}, now)



async def memberships_by_user(scope: TenantScope, user_ids: Sequence[int]) -> dict[int, list[Membership]]:
    """The memberships of several accounts at once (one query), by unit and role."""
    if not user_ids:
        return {}
    out: dict[int, list[Membership]] = {}
    for row in await scope.memberships().filter(user_id__in=list(user_ids)).order_by("unit", "role"):
        out.setdefault(row.user_id, []).append(row)  # type: ignore[attr-defined]  # the FK column
    return out
