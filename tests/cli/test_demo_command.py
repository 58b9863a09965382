"""`komunikator demo` end to end: a subprocess serving both cities on a fresh SQLite file."""

from __future__ import annotations

import os
import socket
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
