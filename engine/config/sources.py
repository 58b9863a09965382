"""Read a tenant or library folder: every YAML file, merged by section.

A folder may split its configuration over any number of files (and
subfolders): each file is a mapping of sections (`units:`, `categories:` …),
and the entries of one section are gathered from all files. An entry defined
in two files is an error naming both places.
"""

from __future__ import annotations

import re
from pathlib import Path

from komunikator.engine.config.loader import Tree, load_file, yaml_files
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.base import yaml_value


def load_folder(folder: Path, errors: ErrorList) -> Tree:
    """Merge every YAML file below `folder` into one tree of sections.

    Files that fail to parse contribute nothing (their errors are recorded as
    causes, with the sections they seem to hold, so that errors following
    only from their absence are held back); the rest still load, so one run
    reports every file's mistakes.
    """
    merged = Tree(data={})
    for path in yaml_files(folder):
        before = len(errors.errors)
        tree = load_file(path, errors)
        if tree is None:
            errors.mark_unloaded(str(path), guess_sections(path), before)
            continue
        merge_file(merged, tree, errors)
    return merged


#: a top-level key: a line starting at column 0 with `name:`
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:", re.MULTILINE)


def guess_sections(path: Path) -> set[str]:
    """The sections a file that failed to load seems to define: its top-level keys and its name."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    return {*_TOP_KEY.findall(text), path.stem}


def merge_file(merged: Tree, tree: Tree, errors: ErrorList) -> None:
    """Add one file's sections to `merged`."""
    data = tree.data
    if data in (None, {}):
        return
    if not isinstance(data, dict):
        errors.add(tree.where(()), (), "a configuration file must be a mapping of sections (units:, categories: …)")
        return
    parts = tree.by_entry()  # grafting entry by entry from the whole file would be quadratic
    for section, value in data.items():
        if not isinstance(section, str):
            errors.add(tree.where((section,), key=True), (), f"section name must be text, got {yaml_value(section)}")
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.add(tree.where((section,)), (section,), "a section must be a mapping (name: value)")
            continue
        target = merged.data.setdefault(section, {})
        if (section,) not in merged.key_pos:
            merged.key_pos[(section,)] = tree.key_pos[(section,)]
            merged.pos[(section,)] = tree.pos[(section,)]
        for key, entry in value.items():
            if key in target:
                first = merged.where((section, key), key=True)
                errors.add(
                    tree.where((section, key), key=True),
                    (section, key),
                    f"defined twice: also at {first}",
                )
                merged.conflicts.add((section, key))  # which one was meant is unknown: check neither
                continue
            target[key] = entry
            part = parts.get((section, key))
            if part is not None:
                merged.graft((section, key), part, (section, key))
