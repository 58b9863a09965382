"""Tooling is part of the tests: ruff, mypy --strict, and the compile benchmark's generator.

ruff and mypy read their configuration from pyproject.toml. mypy cannot
follow setuptools' editable-install import hook nor map `komunikator.engine`
to the folder `engine/`, so it is run over a link tree (`komunikator/engine`
→ `engine/`, built from `[tool.setuptools.package-dir]`) given as MYPYPATH;
its messages are rewritten to name the real files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: Where the link tree lives: inside mypy's own (git-ignored) cache, so it is stable between runs.
LINKS = REPO / ".mypy_cache" / "komunikator-links"


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=REPO, capture_output=True, text=True, check=False, env=env, timeout=900
    )


def _link_tree() -> dict[Path, str]:
    """Make `LINKS/komunikator/<name>` point at each top-level package folder; return link → folder."""
    package_dir = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-dir"
    ]
    root = LINKS / "komunikator"
    root.mkdir(parents=True, exist_ok=True)
    links: dict[Path, str] = {}
    for package, folder in package_dir.items():
        namespace, _, name = package.partition(".")
        if namespace != "komunikator" or "." in name:
            continue  # subpackages live inside their parent's folder
        link = root / name
        if not link.is_symlink():
            with contextlib.suppress(FileExistsError):  # made by a concurrent run
                link.symlink_to(REPO / folder, target_is_directory=True)
        links[link] = folder
    return links


def test_ruff_is_clean() -> None:
    done = _run(BIN / "ruff", "check", ".")
    assert done.returncode == 0, f"ruff check . found problems:\n{done.stdout}{done.stderr}"


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    links = _link_tree()
    env = {**os.environ, "MYPYPATH": str(LINKS)}
    done = _run(BIN / "mypy", env=env)
    output = done.stdout + done.stderr
    for link, folder in links.items():
        # mypy names files by the path it found them at (possibly a cached, older link tree)
        output = re.sub(rf"\S*komunikator[/\\]{link.name}[/\\]", f"{folder}/", output)
    assert done.returncode == 0, f"mypy (strict, see [tool.mypy]) found problems:\n{output}"


@pytest.mark.slow
def test_benchmark_tenant_compiles() -> None:
    """The benchmark generates a tenant that compiles with no error (so the benchmark cannot rot)."""
    done = _run(
        sys.executable, REPO / "bench" / "compile_bench.py",
        "--categories", "20", "--units", "10", "--processes", "4", "--repeat", "1", "--check-runs", "0", "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout)
    assert figures["compiled"]["categories"] == 20
    assert figures["compiled"]["units"] == 10
    assert figures["compiled"]["processes"] == 4
    assert figures["compiled"]["templates"] == 4 * 5
    assert figures["median_s"]["c_overlay_validate_compile"] > 0
