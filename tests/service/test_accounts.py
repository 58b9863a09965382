"""Staff accounts in the service layer: passwords, memberships, sessions, API tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from argon2 import PasswordHasher

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.service.row_views import user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import User
from komunikator.engine.store.scope import TenantScope, create_tenant

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@cache
def compiled(slug: str) -> CompiledTenant:
    settings = Settings.from_env()
    return compile_tenant(settings.tenants_dir / slug, settings.definitions_dir)


@pytest.fixture
async def scopes(db: str) -> tuple[TenantScope, TenantScope]:
    """Zgierz and Nieporęt, empty."""
    return TenantScope((await create_tenant("zgierz")).id), TenantScope((await create_tenant("nieporet")).id)


@pytest.fixture
async def anna(scopes: tuple[TenantScope, TenantScope]) -> User:
    """A Zgierz dispatcher with a password."""
    return await accounts.create_user(scopes[0], "Anna.Nowak@Zgierz.pl ", "Anna Nowak", PASSWORD)


async def _refused(awaitable: object) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        await awaitable  # type: ignore[misc]
    return caught.value


# -- users and passwords ------------------------------------------------------------------------


async def test_passwords_are_argon2id_hashes(anna: User) -> None:
    assert anna.password_hash is not None
    assert anna.password_hash.startswith("$argon2id$")
    assert PASSWORD not in anna.password_hash
    assert PasswordHasher().verify(anna.password_hash, PASSWORD)


async def test_emails_are_lower_cased_and_unique_per_tenant(
    scopes: tuple[TenantScope, TenantScope], anna: User
) -> None:
    zgierz, nieporet = scopes
    assert anna.email == "anna.nowak@zgierz.pl"
    taken = await _refused(accounts.create_user(zgierz, "ANNA.NOWAK@zgierz.pl", "Other Anna"))
    assert (taken.status, taken.code, taken.field) == (409, "conflict", "email")
    assert "anna.nowak@zgierz.pl" in taken.message
    # another city may have an account with the same address
    other = await accounts.create_user(nieporet, "anna.nowak@zgierz.pl", "Anna in Nieporęt")
    assert other.tenant_id == nieporet.tenant_id  # type: ignore[attr-defined]
    assert [u.email for u in await accounts.list_users(zgierz)] == ["anna.nowak@zgierz.pl"]
    assert (await accounts.get_user(zgierz, " Anna.Nowak@ZGIERZ.pl")).id == anna.id


@pytest.mark.parametrize(
    ("email", "name", "password", "kind", "field"),
    [
        ("not-an-email", "X", None, "staff", "email"),
        ("x@zgierz.pl", "  ", None, "staff", "display_name"),
        ("x@zgierz.pl", "X", "short", "staff", "password"),
        ("x@zgierz.pl", "X", None, "robot", "kind"),
    ],
)
async def test_bad_account_input_is_refused(
    scopes: tuple[TenantScope, TenantScope], email: str, name: str, password: str | None, kind: str, field: str
) -> None:
    error = await _refused(accounts.create_user(scopes[0], email, name, password, kind))
    assert (error.status, error.code, error.field) == (422, "invalid_input", field)
    assert await accounts.list_users(scopes[0]) == []


# -- sessions -----------------------------------------------------------------------------------


async def test_login_session_round_trip(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, nieporet = scopes
    raw, session = await accounts.login(zgierz, "ANNA.NOWAK@zgierz.pl", PASSWORD, NOW)
    assert session.user_id == anna.id  # type: ignore[attr-defined]
    assert session.expires_at == NOW + accounts.SESSION_TTL
    # only the hash is stored
    assert session.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert len(raw) >= 43
    assert (await accounts.user_for_session(zgierz, raw, NOW + timedelta(hours=11, minutes=59))).id == anna.id
    # the session of one city means nothing in another
    assert await accounts.user_for_session(nieporet, raw, NOW) is None
    assert await accounts.user_for_session(zgierz, raw + "x", NOW) is None
    assert await accounts.logout(zgierz, raw) is True
    assert await accounts.user_for_session(zgierz, raw, NOW) is None
    assert await accounts.logout(zgierz, raw) is False


async def test_sessions_expire_at_a_fixed_time(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    raw, _ = await accounts.login(zgierz, anna.email, PASSWORD, NOW)
    # using it does not extend it
    assert await accounts.user_for_session(zgierz, raw, NOW + timedelta(hours=6)) is not None
    assert await accounts.user_for_session(zgierz, raw, NOW + accounts.SESSION_TTL) is None
    # the next login sweeps the user's expired sessions
    later = NOW + timedelta(days=2)
    await accounts.login(zgierz, anna.email, PASSWORD, later)
    assert [s.expires_at for s in await zgierz.sessions().filter(user_id=anna.id)] == [later + accounts.SESSION_TTL]


async def test_every_failed_login_looks_the_same(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, nieporet = scopes
    await accounts.create_user(zgierz, "nopass@zgierz.pl", "No Password")
    gone = await accounts.create_user(zgierz, "gone@zgierz.pl", "Gone", PASSWORD)
    await accounts.deactivate(zgierz, gone, NOW)
    attempts = [
        accounts.login(zgierz, anna.email, PASSWORD + "!", NOW),  # wrong password
        accounts.login(zgierz, "nobody@zgierz.pl", PASSWORD, NOW),  # unknown e-mail
        accounts.login(zgierz, "not an e-mail", PASSWORD, NOW),
        accounts.login(zgierz, "nopass@zgierz.pl", "", NOW),  # an account without a password
        accounts.login(zgierz, "gone@zgierz.pl", PASSWORD, NOW),  # deactivated
        accounts.login(nieporet, anna.email, PASSWORD, NOW),  # the right password on another city
    ]
    errors = [await _refused(attempt) for attempt in attempts]
    assert {(e.status, e.code, e.message, e.field) for e in errors} == {
        (401, "invalid_credentials", "wrong e-mail or password", None)
    }
    assert await zgierz.sessions().count() == 0


async def test_an_old_hash_is_upgraded_at_login(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    anna.password_hash = weak
    await anna.save(update_fields=["password_hash"])
    await accounts.login(zgierz, anna.email, PASSWORD, NOW)
    stored = (await accounts.get_user(zgierz, anna.email)).password_hash
    assert stored is not None and stored != weak and stored.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(stored)
    await accounts.login(zgierz, anna.email, PASSWORD, NOW)  # the new hash verifies


async def test_set_password_ends_sessions(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    raw, _ = await accounts.login(zgierz, anna.email, PASSWORD, NOW)
    with pytest.raises(ServiceError):
        await accounts.set_password(zgierz, anna, "short")
    assert await accounts.user_for_session(zgierz, raw, NOW) is not None  # a refused change changes nothing
    await accounts.set_password(zgierz, anna, "a brand new secret")
    assert await accounts.user_for_session(zgierz, raw, NOW) is None
    assert (await _refused(accounts.login(zgierz, anna.email, PASSWORD, NOW))).status == 401
    await accounts.login(zgierz, anna.email, "a brand new secret", NOW)


# -- API tokens ---------------------------------------------------------------------------------


async def test_token_round_trip_and_revocation(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, nieporet = scopes
    raw, token = await accounts.create_token(zgierz, anna, " nightly export ")
    assert token.name == "nightly export"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.last_used_at is None
    assert (await accounts.user_for_token(zgierz, raw, NOW)).id == anna.id
    assert (await accounts.tokens_of(zgierz, anna))[0].last_used_at == NOW
    assert await accounts.user_for_token(nieporet, raw, NOW) is None  # another city's token
    # someone else cannot revoke it
    bob = await accounts.create_user(zgierz, "bob@zgierz.pl", "Bob")
    assert (await _refused(accounts.revoke_token(zgierz, bob, token.id, NOW))).status == 404
    await accounts.revoke_token(zgierz, anna, token.id, NOW)
    assert await accounts.user_for_token(zgierz, raw, NOW) is None
    assert (await _refused(accounts.revoke_token(zgierz, anna, token.id, NOW))).status == 404
    assert (await accounts.tokens_of(zgierz, anna))[0].revoked_at == NOW
    assert (await _refused(accounts.create_token(zgierz, anna, "  "))).field == "name"


async def test_deactivation_locks_everything(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    session, _ = await accounts.login(zgierz, anna.email, PASSWORD, NOW)
    token, _ = await accounts.create_token(zgierz, anna, "script")
    await accounts.deactivate(zgierz, anna, NOW)
    assert await accounts.user_for_session(zgierz, session, NOW) is None
    assert await accounts.user_for_token(zgierz, token, NOW) is None
    assert (await accounts.tokens_of(zgierz, anna))[0].revoked_at == NOW


# -- memberships --------------------------------------------------------------------------------


async def test_grant_revoke_and_the_user_view(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    tenant = compiled("zgierz")
    await accounts.grant(zgierz, tenant, anna, "drogi", "worker")
    first = await accounts.grant(zgierz, tenant, anna, "bom", "dispatcher")
    again = await accounts.grant(zgierz, tenant, anna, "bom", "dispatcher")  # idempotent
    assert again.id == first.id
    assert [(m.unit, m.role) for m in await accounts.memberships_of(zgierz, anna)] == [
        ("bom", "dispatcher"), ("drogi", "worker"),
    ]
    view = await user_view(zgierz, anna)
    assert {(m.unit, m.role) for m in view.memberships} == {("bom", "dispatcher"), ("drogi", "worker")}
    await accounts.revoke(zgierz, anna, "drogi", "worker")
    assert [(m.unit, m.role) for m in await accounts.memberships_of(zgierz, anna)] == [("bom", "dispatcher")]
    missing = await _refused(accounts.revoke(zgierz, anna, "drogi", "worker"))
    assert missing.status == 404 and "drogi" in missing.message


async def test_grant_names_what_exists(scopes: tuple[TenantScope, TenantScope], anna: User) -> None:
    zgierz, _ = scopes
    tenant = compiled("zgierz")
    unit = await _refused(accounts.grant(zgierz, tenant, anna, "roads", "worker"))
    assert (unit.status, unit.code, unit.field) == (422, "invalid_input", "unit")
    assert unit.message.startswith("unknown unit 'roads'; known units: bom, ")
    assert "drogi" in unit.message
    role = await _refused(accounts.grant(zgierz, tenant, anna, "drogi", "boss"))
    assert role.field == "role"
    assert role.message == f"unknown role 'boss'; known roles: {', '.join(tenant.roles)}"
    # the city guard has no accounts: its tasks go to its e-mail
    guard = await _refused(accounts.grant(zgierz, tenant, anna, "straz_miejska", "external"))
    assert guard.field == "unit" and "no accounts" in guard.message
    # a unit of another city is unknown here
    assert "urzad" in compiled("nieporet").units
    assert (await _refused(accounts.grant(zgierz, tenant, anna, "urzad", "worker"))).field == "unit"
    resident = await accounts.create_user(zgierz, "jan@example.pl", "Jan", kind="resident")
    assert (await _refused(accounts.grant(zgierz, tenant, resident, "bom", "worker"))).status == 422
    assert await zgierz.memberships().count() == 0
