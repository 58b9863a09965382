"""The libyaml fast path must read every file exactly as the pure-Python parser does."""

from __future__ import annotations

from pathlib import Path

import pytest

from komunikator.engine.config import loader as yaml_loader
from komunikator.engine.errors import ErrorList

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    p for p in [*ROOT.glob("definitions/**/*.yaml"), *ROOT.glob("tenants/**/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
    if ".venv" not in p.parts
)


def test_the_c_parser_is_available() -> None:
    from ruamel.yaml import YAML

    assert "CParser" in YAML(typ="safe", pure=False).Parser.__name__, "install ruamel.yaml.clib"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_and_pure_paths_agree(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (a broken-config fixture)")
    errors = ErrorList()
    pure = yaml_loader._pure_load(text, str(path), errors)
    fast = yaml_loader._fast_load(text, str(path))
    if fast is None:
        return  # libyaml refused it: the pure parser's answer is used, nothing to compare
    assert pure is not None, f"libyaml accepted a file the pure parser rejects: {errors.render()}"
    assert fast.data == pure.data
    assert fast.pos == pure.pos
    assert fast.key_pos == pure.key_pos


def test_most_shipped_files_take_the_fast_path() -> None:
    shipped = [p for p in FILES if "tests" not in p.relative_to(ROOT).parts]
    fast = [p for p in shipped if yaml_loader._fast_load(p.read_text("utf-8"), str(p)) is not None]
    assert len(fast) >= len(shipped) // 2
