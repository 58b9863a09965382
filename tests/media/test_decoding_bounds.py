"""Image decoding bounded per submission and per process, off the event loop (issue #12, 2).

Five blank 6300×6300 PNGs are a few hundred KB but each passes the
40-megapixel limit; decoding them all cost 7.6 s of CPU and gigabytes. The
headers are added up first and the submission refused before any decoding;
what is decoded goes through a small dedicated pool.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from media_helpers import MediaApi, jpeg, report
from PIL import Image

from komunikator.engine.media import pool
from komunikator.engine.media.images import header_pixels
from komunikator.engine.media.settings import MediaLimits
from komunikator.engine.store.scope import TenantScope, ensure_tenant

ZG = "zgierz"


def _blank_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (side, side), 255).save(out, "PNG")
    return out.getvalue()


def _submission(body: dict[str, Any], *photos: bytes) -> dict[str, Any]:
    return {"files": [("report", (None, json.dumps(body))),
                      *(("photos", (f"IMG_{i}.png", data, "image/png")) for i, data in enumerate(photos))]}


@pytest.fixture
def fresh_pool() -> Iterator[None]:
    pool.reset_pool()
    try:
        yield
    finally:
        pool.reset_pool()


async def test_five_blank_40_megapixel_pngs_are_refused_before_decoding(media_api: MediaApi) -> None:
    blank = _blank_png(6300)  # 39.7 MP each: every one passes the per-photo limit
    assert len(blank) < 200_000
    started = time.process_time()
    r = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), *[blank] * 5))
    cpu = time.process_time() - started
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "too_many_pixels" and r.json()["field"] == "photos"
    assert r.json()["details"] == {"max_submission_pixels": MediaLimits().max_submission_pixels}
    assert cpu < 2.0, f"{cpu:.1f} s of CPU: the photos were decoded"
    scope = TenantScope((await ensure_tenant(ZG)).id)
    assert await scope.tickets().count() == 0
    assert media_api.files() == []


async def test_photos_within_the_submission_budget_are_accepted(media_api: MediaApi) -> None:
    r = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg(), jpeg((800, 600))))
    assert r.status_code == 201, r.text
    assert r.json()["photos"] == 2


async def test_the_submission_budget_is_a_setting(media_api: MediaApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_MEDIA_MAX_SUBMISSION_PIXELS", "500000")
    media_api.app.state.media_limits = None  # read the environment again
    r = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg(), jpeg()))  # 2 × 307 200
    assert r.status_code == 422 and r.json()["error"] == "too_many_pixels", r.text
    one = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg()))
    assert one.status_code == 201, one.text


def test_header_pixels_reads_the_header_only() -> None:
    assert header_pixels(_blank_png(6300), MediaLimits()) == 6300 * 6300


@pytest.mark.anyio
async def test_decoding_runs_in_a_bounded_pool_off_the_loop(fresh_pool: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMUNIKATOR_MEDIA_WORKERS", "2")
    lock = threading.Lock()
    running = 0
    most = 0
    names: set[str] = set()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            names.add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            running -= 1

    loop_thread = threading.current_thread().name
    await asyncio.gather(*(pool.run_in_pool(work) for _ in range(8)))
    assert most == 2
    assert loop_thread not in names
    assert all(name.startswith("komunikator-media") for name in names), names


async def test_photos_are_processed_in_the_pool(fresh_pool: None, media_api: MediaApi,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The real upload path goes through the pool (not the loop's default executor)."""
    seen: list[str] = []
    real = pool._run_and_release

    def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(pool, "_run_and_release", spy)
    r = await media_api.client(ZG).post("/api/v1/tickets", **_submission(report(), jpeg()))
    assert r.status_code == 201, r.text
    assert len(seen) == 1 and seen[0].startswith("komunikator-media")


_MEMORY_PROBE = """
import asyncio, io
from PIL import Image
from komunikator.engine.media import images, pool
from komunikator.engine.media.settings import MediaLimits

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def png(side):
    out = io.BytesIO()
    Image.new("L", (side, side), 255).save(out, "PNG")
    return out.getvalue()

async def main():
    await pool.run_in_pool(images.process, png(64), MediaLimits())  # warm up: code, pool threads
    data = png(5000)
    before = rss()
    await asyncio.gather(*(pool.run_in_pool(images.process, data, MediaLimits()) for _ in range(4)))
    print((rss() - before) // (1024 * 1024))

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the resident size from /proc")
def test_memory_goes_back_after_a_burst_of_big_photos() -> None:
    """Four 25-megapixel photos decoded two at a time: the process does not keep its peak afterwards.

    Measured in a fresh process (its own resident size). Without handing freed
    memory back (`pool.release_memory`), glibc kept about 380 MB here.
    """
    env = {**os.environ, "KOMUNIKATOR_MEDIA_WORKERS": "2"}
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    grown_mb = int(out.stdout.strip())
    assert grown_mb < 100, f"the process kept {grown_mb} MB after the photos were done"
