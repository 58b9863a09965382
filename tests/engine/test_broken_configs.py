"""Snapshot tests over a tree of broken tenant configurations.

Each folder under `fixtures/broken/` (except those starting with `_`) is one
mistake an implementer can make. It holds one tenant folder (named after the
slug it declares), optionally its own `definitions/` library (otherwise the
shared `_library/` is used) and `expected.txt`: the exact error lines
`check_tenant` must print, paths relative to the case folder (the shared
library shows as `../_library/`).

Run with `UPDATE_SNAPSHOTS=1` to rewrite every `expected.txt` from the
current output — then read each diff: a snapshot is only right if the message
is helpful and points at the line that holds the mistake.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from komunikator.engine.config.builtins import builtin_registry
from komunikator.engine.config.compiler import check_tenant

BROKEN = Path(__file__).parent / "fixtures" / "broken"
LIBRARY = (BROKEN / "_library").resolve()
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
#: `FILE.yaml:LINE:COL: dotted.path: message` (the path is absent for file-level errors)
LINE_FORM = re.compile(r"^(?P<file>[^:\s]+\.(?:ya?ml|geojson)):(?P<line>\d+):(?P<col>\d+): \S.*$")

# The fixtures must not depend on which plugins happen to be installed.
REGISTRY = builtin_registry()


def _tenant_and_library(case: Path) -> tuple[Path, Path]:
    folders = [p for p in case.iterdir() if p.is_dir() and p.name != "definitions"]
    assert len(folders) == 1, f"{case.name}: expected exactly one tenant folder, found {folders}"
    own = case / "definitions"
    return folders[0].resolve(), own.resolve() if own.is_dir() else LIBRARY


def _check(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, str]:
    """Compile a case from inside its folder; return the result and the rendered errors."""
    tenant, library = _tenant_and_library(case)
    monkeypatch.chdir(case)
    compiled, errors = check_tenant(tenant, library, REGISTRY)
    rendered = errors.render().replace(f"{LIBRARY}{os.sep}", "../_library/")
    return compiled, rendered


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 45


def test_baseline_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tenant every case starts from is valid, so each case's errors are its own."""
    compiled, rendered = _check(BROKEN / "_baseline", monkeypatch)
    assert rendered == ""
    assert compiled is not None


@pytest.mark.parametrize("name", CASES)
def test_broken_config(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = BROKEN / name
    compiled, rendered = _check(case, monkeypatch)
    expected_file = case / "expected.txt"
    if UPDATE:
        expected_file.write_text(rendered + "\n", encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert rendered + "\n" == expected
    assert compiled is None
    assert rendered, "a broken case must report at least one error"


@pytest.mark.parametrize("name", CASES)
def test_expected_lines_point_into_the_case(name: str) -> None:
    """Every snapshot line has the documented form and names a line that exists."""
    case = BROKEN / name
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        match = LINE_FORM.match(line)
        assert match, f"not FILE:LINE:COL: …: {line!r}"
        source = (case / match["file"]).resolve()
        if not source.exists():
            # only the "no tenant section" error may name the file that should exist
            assert "no `tenant:` section" in line, line
            continue
        assert int(match["line"]) <= len(source.read_bytes().splitlines()), line
