"""The lists benchmark runs end to end at a tiny size on PostgreSQL (so it cannot rot unnoticed)."""

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
                    reason="the lists benchmark runs on PostgreSQL (KOMUNIKATOR_TEST_DB=postgres)")
def test_the_lists_benchmark_times_a_deep_page_and_an_export() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "lists_bench.py"), "--tickets", "3000", "--repeat", "2",
         "--export-rows", "500", "--admin-url", POSTGRES, "--json"],
        capture_output=True, text=True, timeout=600, cwd=REPO, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["tickets"] == 3000 and figures["same_rows"] is True
    assert figures["page_ms"]["engine"] > 0 and figures["page_ms"]["hand"] > 0
    # whole days of the newest tickets: about 500 rows, the same in both files
    assert figures["export_rows"]["engine"] == figures["export_rows"]["bare"] > 400
