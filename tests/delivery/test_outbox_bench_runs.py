"""The outbox benchmark runs end to end at a tiny size (so it cannot rot unnoticed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_outbox_benchmark_delivers_everything_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'bench.sqlite3'}"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "outbox_bench.py"), "--count", "40", "--rounds", "2", "--batch", "7",
         "--url", url, "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["delivered_exactly_once"] is True
    assert figures["report"] == {"claimed": 40, "sent": 40, "failed": 0, "retried": 0}
    assert figures["server_outbox"] == {"messages": 40, "distinct_ids": 40}
    assert len(figures["round_ratios"]) == 2
