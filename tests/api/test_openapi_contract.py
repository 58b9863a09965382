"""The whole API against its own OpenAPI document, with schemathesis, on a real server process.

Every documented operation gets generated requests — anonymous and as a
dispatcher — against `komunikator serve` on a fresh database (SQLite, or
PostgreSQL when the run is on it). No answer may be a 5xx, and every answer
must be one the document declares: its status, its content type and its
body's schema. Examples are bounded so the run takes about a minute.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from db_fixtures import Postgres
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

KOMUNIKATOR = Path(sys.executable).with_name("komunikator")
HOST = {"Host": "zgierz.localhost"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = [pytest.mark.slow, pytest.mark.db]  # on SQLite and on PostgreSQL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database(tmp: Path, postgres: Postgres | None) -> Iterator[str]:
    """A fresh database for this module: the run's PostgreSQL when it is on it, else a SQLite file."""
    if postgres is None:
        yield f"sqlite://{tmp / 'contract.sqlite3'}"
        return
    url = postgres.create("komunikator_contract")
    try:
        yield url
    finally:
        postgres.drop(url)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, postgres: Postgres | None) -> Iterator[tuple[str, dict[str, str]]]:
    """`komunikator serve` on a fresh database; its base URL and a dispatcher's token header."""
    tmp = tmp_path_factory.mktemp("contract")
    for url in _database(tmp, postgres):
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("KOMUNIKATOR_DATABASE")},
               "KOMUNIKATOR_DATABASE_URL": url, "KOMUNIKATOR_JOBS": "off",
               "KOMUNIKATOR_MEDIA_DIR": str(tmp / "media"),
               # the run fires thousands of requests from one address: the guessing limits are not its subject
               "KOMUNIKATOR_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}

        def run(*args: str, env: dict[str, str] = env) -> str:
            done = subprocess.run([str(KOMUNIKATOR), *args], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout

        run("db", "upgrade")
        run("user", "create", "zgierz", "bom@zgierz.example.pl", "--name", "Dyspozytor", "--no-password",
            "--grant", "bom:dispatcher")
        token = re.findall(r"\S{30,}", run("user", "token", "zgierz", "bom@zgierz.example.pl", "--name", "contract"))
        assert token, "no token printed"
        port = _free_port()
        process = subprocess.Popen([str(KOMUNIKATOR), "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", headers=HOST, timeout=1).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield base, {"Authorization": f"Bearer {token[-1]}"}
        finally:
            process.terminate()
            process.wait(timeout=15)


SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("who", ["anyone", "dispatcher"])
def test_every_operation_keeps_its_contract(server: tuple[str, dict[str, str]], who: str) -> None:
    """Each documented operation, generated requests from its schema, every answer checked against the document."""
    base, staff = server
    headers = {**HOST, **(staff if who == "dispatcher" else {})}
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json", headers=HOST)
    # the JSON API (the staff workspace's pages are HTML for browsers: tests/browser)
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if op.path.startswith("/api/")]
    assert len(operations) > 20
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @SETTINGS
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    assert failures == [], "\n\n".join(failures)
