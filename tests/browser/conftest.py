"""Browser tests of the staff pages: Playwright for Python driving Debian's Chromium against a real server.

- Chromium is `/usr/bin/chromium` (`apt-get install chromium`); Playwright never downloads a
  browser. Without it the tests SKIP with a message — except in CI (`CI`/`KOMUNIKATOR_CI`),
  where `.ci/run` installs it and a missing browser FAILS.
- The server is `komunikator serve` in its own process on the test database (SQLite, or
  PostgreSQL with `KOMUNIKATOR_TEST_DB=postgres`), seeded through the service layer.
- Screenshots go to `tests/browser/screenshots/` (git-ignored), desktop and phone sized.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, HOSTILE, HOSTILE_FILE, PASSWORD, World
from PIL import Image

from komunikator.engine.media.storage import LocalStorage
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, attachments, intake
from komunikator.engine.service.row_views import user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry


def _in_ci() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("KOMUNIKATOR_CI"))


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a skip (a failure in CI) with what to install."""
    message = "the browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(message + " — .ci/run installs it; it is missing in CI")
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        if _in_ci():
            pytest.fail("playwright is not installed (pip install -e '.[dev]')")
        pytest.skip("the browser tests need the playwright package (pip install -e '.[dev]')")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _staff(scope: TenantScope, registry: TenantRegistry, slug: str, email: str, name: str,
                 *memberships: str, locale: str | None = None) -> None:
    user = await accounts.create_user(scope, email, name, password=PASSWORD, locale=locale)
    for membership in memberships:
        unit, role = membership.split(":")
        await accounts.grant(scope, registry.tenants[slug], user, unit, role)


async def _report(scope: TenantScope, registry: TenantRegistry, category: str, description: str,
                  **extra: Any) -> str:
    body = intake.Submission(category=category, description=description, lat=51.8561, lon=19.4062,
                             reporter=intake.ReporterIn(name="Jan Kowalski", email="jan@example.pl"), **extra)
    ticket, _ = await intake.submit(scope, registry.tenants["zgierz"], body, channel="public",
                                    actor=UserView("anonymous", (), "resident", ""), reporter_user_id=None,
                                    now=datetime.now(UTC))
    assert isinstance(ticket, Ticket)
    return ticket.number


@pytest.fixture
async def world(db: str, chromium: Path, tmp_path: Path) -> AsyncIterator[World]:
    """Zgierz with a dispatcher, road workers, a head and tickets; a server process on the same database."""
    registry = TenantRegistry.load(Settings.from_env())
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    other = TenantScope((await ensure_tenant("nieporet")).id)
    port = _free_port()
    made = World(f"http://zgierz.localhost:{port}", f"http://nieporet.localhost:{port}", scope=scope,
                 other_scope=other, registry=registry, media=tmp_path / "media")
    for key, email, name, memberships in [
        ("dispatcher", "dyspozytor@zgierz.localhost", "Anna Dyspozytorka", ["bom:dispatcher"]),
        ("worker", "drogi@zgierz.localhost", "Piotr Drogowiec", ["drogi:worker"]),
        ("worker2", "drogi2@zgierz.localhost", "Ewa Drogowa", ["drogi:worker"]),
        ("greenery", "zielen@zgierz.localhost", "Olga Zielińska", ["zielen:worker"]),
        ("head", "kierownik@zgierz.localhost", "Marek Kierownik", ["drogi:unit_head"]),
    ]:
        made.emails[key] = email
        await _staff(scope, registry, "zgierz", email, name, *memberships)
    await _staff(other, registry, "nieporet", "admin@nieporet.localhost", "Admin Nieporętu", "urzad:admin")
    made.emails["other_admin"] = "admin@nieporet.localhost"
    made.tickets["pothole"] = await _report(scope, registry, "pothole", "Dziura na ul. Długiej przy przystanku.",
                                            attributes={"size": "medium"}, address="ul. Długa 5")
    made.tickets["hostile"] = await _report(scope, registry, "construction_noise", HOSTILE,
                                            attributes={"hours": HOSTILE}, address=HOSTILE[:300])
    # a photo whose file name is hostile too, added by the dispatcher (the server reads the same folder)
    dispatcher = await accounts.get_user(scope, made.emails["dispatcher"])
    picture = io.BytesIO()
    Image.new("RGB", (160, 120), (180, 40, 40)).save(picture, "JPEG")
    await attachments.add(scope, registry.tenants["zgierz"], made.tickets["hostile"],
                          await user_view(scope, dispatcher), attachments.Upload(picture.getvalue(), HOSTILE_FILE),
                          storage=LocalStorage(tmp_path / "media"), now=datetime.now(UTC))
    env = {**os.environ, "KOMUNIKATOR_DATABASE_URL": db, "KOMUNIKATOR_JOBS": "off",
           "KOMUNIKATOR_MEDIA_DIR": str(tmp_path / "media")}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "komunikator.cli.main", "serve", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", headers={"Host": "zgierz.localhost"},
                             timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield made
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        errors = (tmp_path / "server.log").read_text()
        assert "Traceback" not in errors, errors


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    """Headless Chromium (`--no-sandbox` only as root, where the sandbox cannot start)."""
    from playwright.async_api import async_playwright

    args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(chromium), headless=True, args=args)
        try:
            yield launched
        finally:
            await launched.close()
