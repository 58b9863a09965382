"""The dashboard benchmark runs end to end at a tiny size on PostgreSQL (so it cannot rot unnoticed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("KOMUNIKATOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KOMUNIKATOR_TEST_DB") != "postgres",
                    reason="the dashboard benchmark runs on PostgreSQL (KOMUNIKATOR_TEST_DB=postgres)")
def test_the_dashboard_benchmark_seeds_and_times_the_page() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "dashboard_bench.py"), "--tickets", "3000", "--repeat", "1",
         "--admin-url", POSTGRES, "--json"],
        capture_output=True, text=True, timeout=600, cwd=REPO, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["rows"]["tickets"] == 3000
    assert figures["rows"]["tasks"] > 2500 and figures["rows"]["audit_events"] > 6000
    assert figures["page_ms"] > 0 and figures["baseline_ms"] > 0 and figures["map_markers"] > 10
    assert set(figures["per_tile_ms"]) >= {"open_by_unit", "durations_by_unit", "open_map"}
