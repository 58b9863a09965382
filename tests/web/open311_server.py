"""`komunikator serve` in its own process on the test database, for the Open311 tests with real clients.

The shipped cities, copied, with one change each: Zgierz also answers on
`localhost`, Nieporęt on `127.0.0.1` — names that resolve to this machine
without touching /etc/hosts, so an unmodified client (`georeport`, the
Open311 client half) reaches each city by URL alone. `extra_zgierz` is YAML
added to Zgierz (e.g. a unit with an `open311:` endpoint).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from definition_helpers import changed_config

from komunikator.engine.settings import Settings


@dataclass(frozen=True)
class Served:
    """Where the server listens; the configuration it runs (the tests compile the same)."""

    port: int
    settings: Settings

    @property
    def zgierz(self) -> str:
        return f"http://localhost:{self.port}/open311/v2"

    @property
    def nieporet(self) -> str:
        return f"http://127.0.0.1:{self.port}/open311/v2"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def loopback_config(root: Path, extra_zgierz: str | None = None) -> Settings:
    """The shipped cities under `root`, Zgierz on `localhost` and Nieporęt on `127.0.0.1` too."""
    settings = changed_config(root, extra_zgierz)
    for slug, host in (("zgierz", "localhost"), ("nieporet", "127.0.0.1")):
        path = settings.tenants_dir / slug / "tenant.yaml"
        text = path.read_text(encoding="utf-8")
        assert "  hosts: [" in text
        path.write_text(text.replace("  hosts: [", f"  hosts: [{host}, ", 1), encoding="utf-8")
    return settings


@contextmanager
def serving(database_url: str, settings: Settings, log: Path, port: int | None = None,
            env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """Run the server until the block ends; fail with its log if it does not start (or logged a traceback)."""
    port = port or free_port()
    environment = {**os.environ, "KOMUNIKATOR_DATABASE_URL": database_url, "KOMUNIKATOR_JOBS": "off",
                   "KOMUNIKATOR_TENANTS": str(settings.tenants_dir),
                   "KOMUNIKATOR_DEFINITIONS": str(settings.definitions_dir), **(env or {})}
    with log.open("a") as out:
        server = subprocess.Popen([sys.executable, "-m", "komunikator.cli.main", "serve", "--port", str(port)],
                                  env=environment, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/open311/v2/discovery.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start:\n" + log.read_text())
                time.sleep(0.2)
            yield Served(port, settings)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    assert "Traceback" not in log.read_text(), log.read_text()
