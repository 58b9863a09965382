"""`komunikator user …` against a migrated database (SQLite, or PostgreSQL with KOMUNIKATOR_TEST_DB=postgres)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import Result
from typer.testing import CliRunner

from komunikator.cli import user_commands
from komunikator.cli.app import app
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.service import accounts
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.db import DATABASE_URL_ENV
from komunikator.engine.store.runner import run_sync
from komunikator.engine.store.scope import TenantScope

T = TypeVar("T")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@cache
def _check_tenant(folder: Path, definitions: Path | None) -> Any:
    return check_tenant(folder, definitions)


@pytest.fixture(autouse=True)
def compile_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command compiles its tenant; the tests compile each tenant once."""
    monkeypatch.setattr(user_commands, "check_tenant", _check_tenant)


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database, as the CLI finds it (KOMUNIKATOR_DATABASE_URL)."""
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    return database_url


def cli(*args: str, input: str | None = None) -> Result:  # noqa: A002 - as CliRunner.invoke names it
    return CliRunner().invoke(app, ["user", *args], input=input)


def in_tenant(url: str, slug: str, work: Callable[[TenantScope], Coroutine[Any, Any, T]]) -> T:
    """Run `work` on the tenant's scope in the test database."""

    async def main() -> T:
        return await work(await TenantScope.for_slug(slug))

    return run_sync(main, url)


def can_log_in(url: str, email: str, password: str) -> bool:
    async def work(scope: TenantScope) -> bool:
        try:
            await accounts.login(scope, email, password, NOW)
        except ServiceError:
            return False
        return True

    return in_tenant(url, "zgierz", work)


def must_change(url: str, email: str) -> bool:
    async def work(scope: TenantScope) -> bool:
        return bool((await accounts.get_user(scope, email)).must_change_password)

    return in_tenant(url, "zgierz", work)


def roles_of(url: str, email: str) -> list[tuple[str, str]]:
    async def work(scope: TenantScope) -> list[tuple[str, str]]:
        user = await accounts.get_user(scope, email)
        return [(m.unit, m.role) for m in await accounts.memberships_of(scope, user)]

    return in_tenant(url, "zgierz", work)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "Traceback" not in result.output


def test_create_list_grant_revoke(url: str) -> None:
    out = ok(cli("create", "zgierz", "Anna@Zgierz.pl", "--name", "Anna Nowak", "--password", PASSWORD,
                 "--grant", "bom:dispatcher", "--grant", "drogi:worker"))
    assert out.splitlines() == ["created anna@zgierz.pl (staff) in zgierz", "granted dispatcher in bom",
                                "granted worker in drogi"]
    assert can_log_in(url, "anna@zgierz.pl", PASSWORD)

    async def stored_hash(scope: TenantScope) -> str | None:
        return (await accounts.get_user(scope, "anna@zgierz.pl")).password_hash

    assert (in_tenant(url, "zgierz", stored_hash) or "").startswith("$argon2id$")

    ok(cli("create", "zgierz", "bob@zgierz.pl", "--name", "Bob", "--no-password"))
    listing = ok(cli("list", "zgierz")).splitlines()
    assert len(listing) == 2
    assert listing[0].split() == ["anna@zgierz.pl", "Anna", "Nowak", "staff", "bom:dispatcher,", "drogi:worker"]
    assert listing[1].split() == ["bob@zgierz.pl", "Bob", "staff", "-"]
    assert not can_log_in(url, "bob@zgierz.pl", "")

    # UNIT:ROLE as with create --grant; UNIT ROLE (two words) is still read
    assert ok(cli("grant", "zgierz", "BOB@zgierz.pl", "zielen:worker")) == "bob@zgierz.pl: worker in zielen\n"
    assert ok(cli("revoke", "zgierz", "anna@zgierz.pl", "drogi", "worker")).startswith("anna@zgierz.pl: no longer")
    assert roles_of(url, "anna@zgierz.pl") == [("bom", "dispatcher")]
    assert roles_of(url, "bob@zgierz.pl") == [("zielen", "worker")]
    # the other city knows nobody
    assert ok(cli("list", "nieporet")) == "no users in nieporet\n"


def test_an_office_wide_role_is_granted_at_the_city_level(url: str) -> None:
    out = ok(cli("create", "zgierz", "prezydent@zgierz.pl", "--name", "Prezydent", "--no-password",
                 "--grant", "city:management"))
    assert out.splitlines() == ["created prezydent@zgierz.pl (staff) in zgierz", "granted management in city"]
    assert roles_of(url, "prezydent@zgierz.pl") == [("city", "management")]
    refused(cli("grant", "zgierz", "prezydent@zgierz.pl", "miasto:management"), 1,
            "known units: bom, gospodarka_komunalna")
    assert ok(cli("revoke", "zgierz", "prezydent@zgierz.pl", "city:management")).startswith("prezydent@zgierz.pl")
    assert roles_of(url, "prezydent@zgierz.pl") == []


def test_create_asks_for_the_password(url: str) -> None:
    result = cli("create", "zgierz", "anna@zgierz.pl", "--name", "Anna", input=f"{PASSWORD}\n{PASSWORD}\n")
    ok(result)
    assert PASSWORD not in result.stdout
    assert can_log_in(url, "anna@zgierz.pl", PASSWORD)
    mismatch = cli("create", "zgierz", "bob@zgierz.pl", "--name", "Bob", input="one password\nanother one\n"
                   "correct password\ncorrect password\n")
    ok(mismatch)  # typer asks again until both match
    assert can_log_in(url, "bob@zgierz.pl", "correct password")


def test_reset_password(url: str) -> None:
    ok(cli("create", "zgierz", "anna@zgierz.pl", "--name", "Anna", "--password", PASSWORD))
    refused(cli("reset-password", "zgierz", "anna@zgierz.pl", "--password", "short"), 1, "at least 8 characters")
    assert can_log_in(url, "anna@zgierz.pl", PASSWORD)
    ok(cli("reset-password", "zgierz", "anna@zgierz.pl", input="a new secret\na new secret\n"))
    assert not can_log_in(url, "anna@zgierz.pl", PASSWORD)
    assert can_log_in(url, "anna@zgierz.pl", "a new secret")
    assert must_change(url, "anna@zgierz.pl")  # a temporary password: the staff pages ask for their own first
    out = ok(cli("reset-password", "zgierz", "anna@zgierz.pl", "--password", "kept for good", "--permanent"))
    assert "must choose" not in out and not must_change(url, "anna@zgierz.pl")
    refused(cli("reset-password", "zgierz", "nobody@zgierz.pl", "--password", PASSWORD), 1,
            "no user 'nobody@zgierz.pl'")


def test_token_prints_a_working_token(url: str) -> None:
    ok(cli("create", "zgierz", "anna@zgierz.pl", "--name", "Anna", "--no-password"))
    result = cli("token", "zgierz", "anna@zgierz.pl", "--name", "nightly export")
    raw = ok(result).strip()
    assert len(raw.splitlines()) == 1 and len(raw) >= 43  # stdout holds the token only
    assert "not shown again" in result.stderr

    async def owner(scope: TenantScope) -> tuple[str | None, list[str]]:
        user = await accounts.user_for_token(scope, raw, NOW)
        tokens = await accounts.tokens_of(scope, await accounts.get_user(scope, "anna@zgierz.pl"))
        return (user.email if user else None), [t.name for t in tokens]

    assert in_tenant(url, "zgierz", owner) == ("anna@zgierz.pl", ["nightly export"])
    refused(cli("token", "zgierz", "nobody@zgierz.pl", "--name", "x"), 1, "no user")


def test_mistakes_get_clear_messages_and_exit_codes(url: str) -> None:
    ok(cli("create", "zgierz", "anna@zgierz.pl", "--name", "Anna", "--password", PASSWORD))
    refused(cli("create", "warszawa", "x@w.pl", "--name", "X", "--password", PASSWORD), 2,
            "unknown tenant 'warszawa'; known tenants: nieporet, zgierz")
    refused(cli("create", "zgierz", "x@zgierz.pl", "--name", "X", "--password", PASSWORD, "--grant", "bom"), 2,
            "use UNIT:ROLE")
    refused(cli("create", "zgierz", "x@zgierz.pl", "--name", "X", "--password", PASSWORD, "--grant", "bom:boss"), 1,
            "unknown role 'boss'; known roles: dispatcher, worker")
    refused(cli("create", "zgierz", "ANNA@zgierz.pl", "--name", "Anna 2", "--password", PASSWORD), 1,
            "a user with e-mail 'anna@zgierz.pl' already exists")
    refused(cli("create", "zgierz", "not-an-email", "--name", "X", "--no-password"), 1, "is not an e-mail address")
    refused(cli("grant", "zgierz", "anna@zgierz.pl", "roads", "worker"), 1, "unknown unit 'roads'; known units: bom")
    refused(cli("grant", "zgierz", "anna@zgierz.pl", "straz_miejska", "external"), 1, "has no accounts")
    refused(cli("revoke", "zgierz", "anna@zgierz.pl", "bom", "dispatcher"), 1, "holds no role 'dispatcher'")
    refused(cli("grant", "zgierz", "nobody@zgierz.pl", "bom", "worker"), 1, "no user 'nobody@zgierz.pl'")
    refused(cli("grant", "zgierz", "anna@zgierz.pl", "bom"), 2, "use UNIT:ROLE")
    refused(cli("revoke", "zgierz", "anna@zgierz.pl", "bom:boss"), 1, "holds no role 'boss'")
    # nothing was half-written: one user, no roles
    listing = ok(cli("list", "zgierz")).splitlines()
    assert [line.split()[0] for line in listing] == ["anna@zgierz.pl"] and listing[0].endswith("-")


def test_an_unmigrated_database_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite://{tmp_path / 'new.sqlite3'}")
    refused(cli("list", "zgierz"), 1, "komunikator db upgrade")


def test_create_with_a_language_of_the_city(url: str) -> None:
    ok(cli("create", "zgierz", "john@zgierz.pl", "--name", "John Smith", "--no-password", "--locale", "en"))

    async def locale(scope: TenantScope) -> str | None:
        return (await accounts.get_user(scope, "john@zgierz.pl")).locale

    assert in_tenant(url, "zgierz", locale) == "en"
    result = cli("create", "nieporet", "john@nieporet.pl", "--name", "John", "--no-password", "--locale", "en")
    assert result.exit_code == 2
    assert "--locale 'en' is not one of nieporet's: pl" in result.stderr
    assert ok(cli("list", "nieporet")) == "no users in nieporet\n"


def test_every_change_is_audited_as_the_operator(url: str) -> None:
    """create, grant, revoke, reset-password and token write the administration pages' audit rows, by the system."""
    ok(cli("create", "zgierz", "anna@zgierz.pl", "--name", "Anna", "--password", PASSWORD, "--grant", "drogi:worker"))
    ok(cli("grant", "zgierz", "anna@zgierz.pl", "drogi:unit_head"))
    ok(cli("grant", "zgierz", "anna@zgierz.pl", "drogi:unit_head"))  # held already: nothing changes, no row
    ok(cli("revoke", "zgierz", "anna@zgierz.pl", "drogi", "worker"))
    ok(cli("reset-password", "zgierz", "anna@zgierz.pl", "--password", "a new secret"))
    ok(cli("token", "zgierz", "anna@zgierz.pl", "--name", "nightly export"))
    refused(cli("revoke", "zgierz", "anna@zgierz.pl", "drogi:worker"), 1, "holds no role")  # refused: no row

    async def history(scope: TenantScope) -> tuple[int, list[tuple[str, str, int | None, Any, Any]]]:
        user = await accounts.get_user(scope, "anna@zgierz.pl")
        rows = [(e.action, e.actor_kind, e.actor_user_id, e.before, e.after)  # type: ignore[attr-defined]
                for e in await scope.audit_events().order_by("id")]
        return int(user.id), rows

    user_id, rows = in_tenant(url, "zgierz", history)
    token_id = rows[-1][4]["token"]
    assert rows == [
        ("user_create", "system", None, {"user": None},
         {"user": user_id, "kind": "staff", "memberships": ["drogi:worker"]}),
        ("membership_grant", "system", None, {"user": user_id, "membership": None},
         {"user": user_id, "membership": "drogi:unit_head"}),
        ("membership_revoke", "system", None, {"user": user_id, "membership": "drogi:worker"},
         {"user": user_id, "membership": None}),
        ("user_password_reset", "system", None, {"user": user_id}, {"user": user_id}),
        ("token_create", "system", None, {"token": None}, {"token": token_id, "name": "nightly export"}),
    ]
