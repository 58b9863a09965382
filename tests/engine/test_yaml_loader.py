"""The positioned YAML loader: plain data, where each value and key was written, refusals."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from komunikator.engine.config import loader as yaml_loader
from komunikator.engine.config.loader import (
    MAX_DEPTH,
    MAX_NODES,
    Tree,
    load_file,
    load_text,
    yaml_files,
)
from komunikator.engine.errors import ErrorList, Position


def load(text: str) -> tuple[Tree | None, ErrorList]:
    errors = ErrorList()
    return load_text(text, "f.yaml", errors), errors


def loaded(text: str) -> Tree:
    tree, errors = load(text)
    assert not errors, errors.render()
    assert tree is not None
    return tree


def at(line: int, column: int) -> Position:
    return Position("f.yaml", line, column)


# -- positions ------------------------------------------------------------------

DOC = """\
units:
  roads:
    name: Drogi
    tags: [a, b]
  parks: {name: Zieleń, parent: roads}
list:
  - first
  - {x: 1}
"""


def test_positions_of_values_count_from_one() -> None:
    tree = loaded(DOC)
    assert tree.pos[("units", "roads", "name")] == at(3, 11)
    assert tree.pos[("units", "roads", "tags", 1)] == at(4, 15)
    assert tree.pos[("units", "parks", "parent")] == at(5, 33)
    assert tree.pos[("list", 0)] == at(7, 5)
    assert tree.pos[("list", 1, "x")] == at(8, 9)


def test_positions_of_keys() -> None:
    tree = loaded(DOC)
    assert tree.key_pos[("units",)] == at(1, 1)
    assert tree.key_pos[("units", "roads")] == at(2, 3)
    assert tree.key_pos[("units", "roads", "tags")] == at(4, 5)
    assert tree.key_pos[("units", "parks", "parent")] == at(5, 25)
    assert ("list", 0) not in tree.key_pos  # list items have no key


def test_where_prefers_the_key_when_asked_and_falls_back_to_ancestors() -> None:
    tree = loaded(DOC)
    assert tree.where(("units", "roads"), key=True) == at(2, 3)
    assert tree.where(("units", "roads")) == at(3, 5)  # a block mapping starts at its first key
    assert tree.where(("units", "roads", "missing", "deeper")) == at(3, 5)
    assert tree.where(("nowhere",)) == at(1, 1)  # the document itself


def test_plain_data_comes_out() -> None:
    assert loaded(DOC).data == {
        "units": {
            "roads": {"name": "Drogi", "tags": ["a", "b"]},
            "parks": {"name": "Zieleń", "parent": "roads"},
        },
        "list": ["first", {"x": 1}],
    }


def test_an_empty_file_is_an_empty_mapping() -> None:
    assert loaded("# only a comment\n").data == {}


# -- YAML 1.2 ---------------------------------------------------------------------


def test_yaml_1_2_keeps_yes_no_on_off_as_text() -> None:
    tree = loaded("a: yes\nb: no\nc: on\nd: off\ne: true\nf: false\ng: ~\n")
    assert tree.data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": None}


def test_yaml_1_2_numbers() -> None:
    tree = loaded("octal: 0o17\nleading_zero: 017\nfloat: 1.5\nsexagesimal: 1:30\n")
    assert tree.data == {"octal": 15, "leading_zero": 17, "float": 1.5, "sexagesimal": "1:30"}


def test_standard_tags_are_accepted() -> None:
    assert loaded("a: !!str 123\nb: !!int '7'\n").data == {"a": "123", "b": 7}


# -- merge keys -------------------------------------------------------------------


def test_merge_key_fills_in_missing_keys_and_own_keys_win() -> None:
    tree = loaded("base: &b {x: 1, y: {z: 2}}\nk:\n  <<: *b\n  y: 3\n")
    assert tree.data["k"] == {"x": 1, "y": 3}
    # own key: its own place; merged key: where the anchor wrote it
    assert tree.key_pos[("k", "y")] == at(4, 3)
    assert tree.pos[("k", "y")] == at(4, 6)
    assert tree.pos[("k", "x")] == at(1, 14)
    assert ("k", "y", "z") not in tree.pos  # the overridden value's children left no trace


def test_merge_of_a_list_of_mappings_takes_the_first_one_first() -> None:
    tree = loaded("a: &a {k: 1}\nb: &b {k: 2, j: 2}\nc: {<<: [*a, *b], m: 3}\n")
    assert tree.data["c"] == {"k": 1, "j": 2, "m": 3}


def test_merge_of_something_else_than_a_mapping_is_refused() -> None:
    tree, errors = load("a: &a [1]\nb: {<<: *a}\n")
    assert tree is None
    assert errors.render() == "f.yaml:2:5: b: '<<' merges only mappings"


def test_a_mapping_merged_into_itself_is_refused() -> None:
    tree, errors = load("a: &x\n  k: 1\n  <<: [*x]\n")
    assert tree is None
    assert errors.render() == "f.yaml:3:3: a: '<<' merges a mapping into itself"


# -- encoding ---------------------------------------------------------------------


def test_utf8_bom_is_skipped_and_positions_are_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: Zieleń\nother: x\n".encode())
    errors = ErrorList()
    tree = load_file(path, errors)
    assert not errors
    assert tree is not None
    assert tree.data == {"name": "Zieleń", "other": "x"}
    assert tree.key_pos[("name",)] == Position(str(path), 1, 1)
    assert tree.pos[("other",)] == Position(str(path), 2, 8)


def test_a_file_that_is_not_utf8_names_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin2.yaml"
    path.write_bytes("a: 1\nname: Urząd\n".encode("iso8859_2"))
    errors = ErrorList()
    assert load_file(path, errors) is None
    assert [str(e) for e in errors] == [f"{path}:2:10: file is not valid UTF-8 (byte 0xb1); save it as UTF-8"]


# -- refusals ---------------------------------------------------------------------


def test_duplicate_key_names_both_lines() -> None:
    tree, errors = load("units:\n  a: 1\n  b: 2\n  a: 3\n")
    assert tree is None
    assert errors.render() == "f.yaml:4:3: units.a: duplicate key 'a' (first defined at line 2)"


def test_alias_bomb_is_refused_within_a_bound() -> None:
    levels = "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
        for prev, name in zip("abcdefghi", "bcdefghij", strict=True)
    )
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + levels  # 10**10 values
    started = time.perf_counter()
    tree, errors = load(text)
    took = time.perf_counter() - started
    assert tree is None
    assert took < 2.0, f"took {took:.1f} s"
    # the first anchor whose expansion alone is too big
    assert errors.render() == (
        f"f.yaml:6:4: f: aliases here expand to more than {MAX_NODES} values "
        "(a 'billion laughs' document?); write the values out or nest fewer aliases"
    )


def test_honest_aliases_are_expanded() -> None:
    tree = loaded("a: &a [1, 2]\nb: [*a, *a]\n")
    assert tree.data == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
    assert tree.pos[("b", 1, 0)] == at(1, 8)  # where the value was written


def test_self_referencing_alias_is_refused_at_the_key_holding_it() -> None:
    tree, errors = load("units:\n  parks: &p\n    name: x\n    parent: *p\n")
    assert tree is None
    assert errors.render() == (
        "f.yaml:4:5: units.parks.parent: alias refers to itself (the anchor contains its own alias)"
    )


def test_unknown_tag_is_refused() -> None:
    tree, errors = load("units: !include more.yaml\n")
    assert tree is None
    assert errors.render() == "f.yaml:1:8: units: unknown tag '!include': only plain YAML is accepted"


@pytest.mark.parametrize(
    "text",
    ["a: " + "[" * 2000 + "]" * 2000 + "\n", "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300))],
    ids=["flow", "block"],
)
def test_deep_nesting_is_refused_quickly(text: str) -> None:
    started = time.perf_counter()
    tree, errors = load(text)
    assert time.perf_counter() - started < 2.0
    assert tree is None
    assert [e.message for e in errors] == [f"nested deeper than {MAX_DEPTH} levels"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "units:\n  roads:\n\tname: x\n",
            "f.yaml:3:1: YAML syntax error: tab character: indent YAML with spaces, not tabs",
        ),
        (
            "a:\n  b:\n    c: 1\n   d: 2\n",
            "f.yaml:4:4: YAML syntax error: this line's indentation does not match the lines above it",
        ),
        ("a: x: y\n", "f.yaml:1:5: YAML syntax error: unexpected ':'; put a value that contains ': ' in quotes"),
        ("a: 1\nb\nc: 2\n", "f.yaml:2:1: YAML syntax error: a line in a mapping without 'key: value'"),
        ('a: "open\nb: 1\n', "f.yaml:1:4: YAML syntax error: a quoted value is never closed"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1: YAML syntax error: one document per file: remove the '---' line"),
        ("a: *nowhere\n", "f.yaml:1:4: YAML syntax error: found undefined alias 'nowhere'"),
    ],
    ids=["tab", "indentation", "colon", "no-colon", "open-quote", "two-documents", "undefined-alias"],
)
def test_syntax_errors_are_explained(text: str, expected: str) -> None:
    tree, errors = load(text)
    assert tree is None
    assert errors.render() == expected


def test_keys_must_be_plain_values() -> None:
    tree, errors = load("[a, b]: 1\n")
    assert tree is None
    assert errors.render() == "f.yaml:1:1: a key must be a plain value, not a list or mapping"


def test_a_big_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_loader, "MAX_FILE_BYTES", 3 * 1024 * 1024)
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (3 * 1024 * 1024) + b"\n")
    errors = ErrorList()
    assert load_file(path, errors) is None
    assert [e.message for e in errors] == ["file is larger than 3 MB"]


def test_an_unreadable_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    errors = ErrorList()
    assert load_file(tmp_path / "missing.yaml", errors) is None
    assert [e.message for e in errors] == ["cannot read file: No such file or directory"]


# -- folders and trees ------------------------------------------------------------


def test_yaml_files_are_sorted_and_hidden_folders_skipped(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "sub/c.yaml", ".git/x.yaml", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    assert [p.relative_to(tmp_path).as_posix() for p in yaml_files(tmp_path)] == ["a.yml", "b.yaml", "sub/c.yaml"]


def test_graft_and_drop_move_positions_between_trees() -> None:
    source = loaded("lib:\n  x: {a: 1}\n")
    target = Tree(data={})
    target.graft(("mine",), source, ("lib", "x"))
    assert target.pos[("mine", "a")] == at(2, 10)
    assert target.key_pos[("mine", "a")] == at(2, 7)
    target.drop(("mine",))
    assert target.where(("mine", "a")) is None
