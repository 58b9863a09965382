"""The staff page benchmark runs end to end at a tiny size on SQLite (so it cannot rot unnoticed). Its ratio
is a figure for bench/README.md, not asserted here: a timed assertion would be a flaky unit test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_staff_page_benchmark_times_the_page_and_the_json() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "staff_page_bench.py"), "--runs", "5",
                           "--warmup", "1", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["database"] == "sqlite" and figures["runs"] == 5
    assert figures["page_median_ms"] > 0 and figures["json_median_ms"] > 0 and figures["ratio"] > 0
    # the statements the page runs are pinned by tests/web/test_staff_ticket_page.py; the benchmark's ticket
    # (verified, a task handed to another unit, notes, a photo) reads as many
    assert (figures["page_statements"], figures["json_statements"]) == (11, 8)
    assert figures["page_bytes"] > figures["json_bytes"] > 0
