"""`komunikator demo` end to end: a subprocess serving both cities on a fresh SQLite file."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KOMUNIKATOR = Path(sys.executable).with_name("komunikator")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMUNIKATOR_DATABASE")}
    process = subprocess.Popen(
        [str(KOMUNIKATOR), "demo", "--port", str(port), "--database", str(tmp_path / "demo.sqlite3"),
         "--tickets", "12"],  # a small seeded city keeps the start quick
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"demo exited early:\n{process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/api/v1/health", headers={"Host": "zgierz.localhost"}, timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("demo did not start within 90 s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_demo_serves_both_cities_with_staff_accounts(demo: str) -> None:
    with httpx.Client(base_url=demo, headers={"Host": "zgierz.localhost"}, timeout=10) as zgierz:
        assert zgierz.get("/api/v1/tenant").json()["slug"] == "zgierz"
        login = zgierz.post("/api/v1/auth/login", json={"email": "dyspozytor@zgierz.localhost", "password": "demo1234"})
        assert login.status_code == 200, login.text
        report = {"category": "pothole", "description": "Dziura", "lat": 51.85, "lon": 19.40,
                  "attributes": {"size": "small"}}
        created = zgierz.post("/api/v1/tickets", json=report)
        assert created.status_code == 201, created.text
        listed = zgierz.get("/api/v1/tickets")  # the session cookie rides along
        numbers = [t["number"] for t in listed.json()["items"]]
        assert numbers[0] == created.json()["number"]  # the newest, after the seeded tickets
        assert len(numbers) > 1
    with httpx.Client(base_url=demo, headers={"Host": "nieporet.localhost"}, timeout=10) as nieporet:
        login = nieporet.post("/api/v1/auth/login", json={"email": "urzednik@nieporet.localhost",
                                                         "password": "demo1234"})
        assert login.status_code == 200, login.text
        assert nieporet.get("/api/v1/tickets").json()["items"]  # seeded
    unknown = httpx.get(f"{demo}/api/v1/tenant", headers={"Host": "elsewhere.localhost"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_host"


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "KOMUNIKATOR_DATABASE_URL": f"sqlite://{tmp_path / 'x.sqlite3'}"}
    result = subprocess.run([str(KOMUNIKATOR), "serve", "--workers", "2"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "SQLite serves one process only" in result.stderr


# -- a seeding that fails: the cause, how to reproduce it, and the demo still serves -------------------

MOMENT = "2026-12-04T21:28:00Z"


def _komunikator(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMUNIKATOR_DATABASE")}
    env["KOMUNIKATOR_MEDIA_DIR"] = str(cwd / "media")
    return subprocess.run([str(KOMUNIKATOR), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def _conflicting_seed_key(database: Path, tmp_path: Path) -> None:
    """Seed 12 Zgierz tickets, then re-label one's Idempotency-Key as a later plan's, half-finished.

    This is what a database seeded by another version of the seeder can hold: the later plan's
    submission finds its key taken by another body (422 `idempotency_key_reused`), a real refusal.
    """
    url = f"sqlite://{database}"
    assert _komunikator("db", "upgrade", "--url", url, cwd=tmp_path).returncode == 0
    first = _komunikator("seed", "zgierz", "-n", "12", "--no-photos", "--now", MOMENT, "--url", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(database) as connection:
        changed = connection.execute("UPDATE idempotency_keys SET key = 'seed:zgierz:1:20', response = NULL "
                                     "WHERE key = 'seed:zgierz:1:11'").rowcount
    assert changed == 1


def test_seed_takes_a_moment_and_rejects_a_malformed_one(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'seed.sqlite3'}"
    assert _komunikator("db", "upgrade", "--url", url, cwd=tmp_path).returncode == 0
    bad = _komunikator("seed", "nieporet", "--now", "yesterday", "--url", url, cwd=tmp_path)
    assert bad.returncode == 2
    assert "--now: 'yesterday' is not a moment; write it as 2026-12-04T21:28:00Z" in bad.stderr
    good = _komunikator("seed", "nieporet", "-n", "15", "--no-photos", "--now", "2026-03-29 03:00+02:00", "--url",
                        url, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "nieporet: 15 ticket(s) seeded" in good.stdout
    with sqlite3.connect(tmp_path / "seed.sqlite3") as connection:
        latest = connection.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    assert latest < "2026-03-29 01:00"  # everything happened before the given moment (01:00 UTC)


def test_a_failed_seeding_names_the_command_that_reproduces_it(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    _conflicting_seed_key(database, tmp_path)
    result = _komunikator("seed", "zgierz", "-n", "30", "--no-photos", "--now", MOMENT, "--url",
                          f"sqlite://{database}", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "seeding failed: zgierz: ticket 20" in result.stderr
    assert "idempotency" in result.stderr.lower()
    assert (f"the same tickets are planned again by: komunikator seed zgierz --seed 1 --now {MOMENT} --no-photos "
            f"--url sqlite://{database}") in result.stderr


def test_the_demo_serves_when_its_seeding_fails(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    _conflicting_seed_key(database, tmp_path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMUNIKATOR_DATABASE")}
    process = subprocess.Popen(
        [str(KOMUNIKATOR), "demo", "--port", str(port), "--database", str(database), "--tickets", "30",
         "--now", MOMENT], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"demo exited:\n{process.stdout.read() if process.stdout else ''}"
            try:
                if httpx.get(f"{base}/api/v1/health", headers={"Host": "zgierz.localhost"}, timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo did not start within 90 s"
            time.sleep(0.3)
        with httpx.Client(base_url=base, headers={"Host": "zgierz.localhost"}, timeout=10) as zgierz:
            login = zgierz.post("/api/v1/auth/login", json={"email": "dyspozytor@zgierz.localhost",
                                                           "password": "demo1234"})
            assert login.status_code == 200, login.text
            assert len(zgierz.get("/api/v1/tickets", params={"limit": 100}).json()["items"]) >= 12
        with httpx.Client(base_url=base, headers={"Host": "nieporet.localhost"}, timeout=10) as nieporet:
            nieporet.post("/api/v1/auth/login", json={"email": "urzednik@nieporet.localhost", "password": "demo1234"})
            assert len(nieporet.get("/api/v1/tickets", params={"limit": 100}).json()["items"]) == 30  # unharmed
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert "Traceback" not in output
    assert "WARNING: seeding failed: zgierz: ticket 20" in output
    assert f"komunikator seed zgierz --seed 1 --now {MOMENT}" in output
    assert "were seeded before the failure; the demo serves them" in output
