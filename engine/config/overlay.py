"""Lay a tenant's configuration over the shared library.

The library (`definitions/`) offers processes, categories, category groups,
roles, templates and notification rules. A tenant:

- uses every library process, group, role, template and notification rule as
  it is, or overrides it by defining an entry of the same name: mappings are
  merged key by key (recursively), lists and plain values are replaced;
- picks library categories by naming them (`pothole: {unit: roads}` takes the
  library's `pothole` and sets its unit), or copies one under another name
  with `extends: pothole`; a category the tenant does not name is not used;
- removes anything it inherits with `disabled: true` — a whole entry, or a
  named part of one (a state, a transition, an attribute).

Every value keeps the position of the file that wrote it, so an error in a
merged entry points at the library or at the tenant, whichever caused it.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.errors import ErrorList, Position
from komunikator.engine.schema.document import LIBRARY_SECTIONS

#: Library sections a tenant inherits entirely; categories are picked by name.
INHERITED = tuple(s for s in LIBRARY_SECTIONS if s != "categories")


def overlay(library: Tree, tenant: Tree, errors: ErrorList) -> tuple[Tree, dict[Path_, tuple[str, ...]]]:
    """Merge `tenant` over `library`; return the tree and each entry's source files."""
    result = Tree(data={}, conflicts=library.conflicts | tenant.conflicts)
    origin: dict[Path_, tuple[str, ...]] = {}
    # Positions are moved entry by entry: from each source's per-entry trees
    # into one small tree per result entry, joined at the end. (Grafting and
    # dropping on the whole trees scans them each time: quadratic.)
    lib_parts, ten_parts = library.by_entry(), tenant.by_entry()
    slots: dict[Path_, Tree] = {}
    for section in library.data:
        if section not in LIBRARY_SECTIONS:
            errors.add(
                library.where((section,), key=True),
                (section,),
                f"section {section!r} belongs in a tenant folder, not in the shared library",
            )
    for section in INHERITED:
        entries = library.data.get(section) or {}
        if not entries:
            continue
        result.data[section] = {}
        _copy_section_head(result, library, section)
        for name, value in entries.items():
            result.data[section][name] = copy.deepcopy(value)
            _graft(slots, result, (section, name), lib_parts, (section, name))
            origin[(section, name)] = (_file(library, (section, name)),)
    for section, entries in tenant.data.items():
        target = result.data.setdefault(section, {})
        if (section,) not in result.key_pos:
            _copy_section_head(result, tenant, section)
        for name, value in entries.items():
            path = (section, name)
            here = _file(tenant, path)
            base_name = name
            if isinstance(value, dict) and "extends" in value:
                base_name = value["extends"]
            if section in LIBRARY_SECTIONS and isinstance(value, dict):
                base = _library_base(library, section, name, base_name, value, tenant, errors)
                if base is None and "extends" in value:
                    continue  # reported; validating the rest would only add noise
                if base is None and _not_a_pick(library, section, name, value, tenant, errors):
                    continue
            else:
                base = None
                if isinstance(value, dict) and "extends" in value:
                    errors.add(
                        tenant.where((*path, "extends"), key=True),
                        (*path, "extends"),
                        f"`extends` copies an entry of the shared library, which has no {section}",
                    )
                    continue
            if isinstance(value, dict) and value.get("disabled") is True:
                if name in target or base is not None:
                    target.pop(name, None)
                    slots.pop(path, None)
                    origin.pop(path, None)
                else:
                    errors.add_unless_unloaded(section, tenant.where(path, key=True), path,
                                               f"nothing named {name!r} to disable in {section}")
                continue
            if base is not None and name not in target:
                target[name] = copy.deepcopy(base[0])
                _graft(slots, result, path, lib_parts, (section, base[1]))
                origin[path] = (_file(library, (section, base[1])),)
            if name in target and isinstance(target[name], dict) and isinstance(value, dict):
                _merge(_slot(slots, result, path), path, value, ten_parts.get(path) or Tree(data=None), path)
                origin[path] = (*origin.get(path, ()), here)
            else:
                slots.pop(path, None)
                target[name] = _strip(copy.deepcopy(value))
                _graft(slots, result, path, ten_parts, path)
                origin[path] = (here,)
            entry = _slot(slots, result, path)
            entry.key_pos[path] = tenant.key_pos.get(path, entry.key_pos.get(path))  # type: ignore[assignment]
    for entry in slots.values():
        result.pos.update(entry.pos)
        result.key_pos.update(entry.key_pos)
    return result, origin


def _slot(slots: dict[Path_, Tree], result: Tree, path: Path_) -> Tree:
    """The positions of the result's entry at `path` (sharing the result's data, for `_merge`)."""
    entry = slots.get(path)
    if entry is None:
        entry = slots[path] = Tree(data=result.data)
    return entry


def _graft(slots: dict[Path_, Tree], result: Tree, path: Path_, parts: dict[Path_, Tree], source: Path_) -> None:
    """Copy the positions of the source entry `source` (from its per-entry trees) to the entry at `path`."""
    part = parts.get(source)
    if part is not None:
        _slot(slots, result, path).graft(path, part, source)


def _copy_section_head(result: Tree, source: Tree, section: str) -> None:
    if (section,) in source.key_pos:
        result.key_pos[(section,)] = source.key_pos[(section,)]
    if (section,) in source.pos:
        result.pos[(section,)] = source.pos[(section,)]


def _file(tree: Tree, path: Path_) -> str:
    where: Position | None = tree.where(path, key=True)
    return where.file if where else "<unknown>"


def _library_base(
    library: Tree,
    section: str,
    name: str,
    base_name: Any,
    value: dict[str, Any],
    tenant: Tree,
    errors: ErrorList,
) -> tuple[Any, str] | None:
    entries = library.data.get(section) or {}
    if "extends" in value:
        if not isinstance(base_name, str) or base_name not in entries:
            known = ", ".join(sorted(entries)) or "none"
            errors.add_unless_unloaded(
                section,
                tenant.where((section, name, "extends")),
                (section, name, "extends"),
                f"the library has no {section} entry {base_name!r} to extend (it has: {known})",
            )
            return None
        return entries[base_name], base_name
    if name in entries:
        return entries[name], name
    return None


def _not_a_pick(
    library: Tree, section: str, name: Any, value: dict[str, Any], tenant: Tree, errors: ErrorList
) -> bool:
    """Report a category meant as a pick from the library that the library lacks (a typo).

    A category without `name` cannot be new: it picks a library category by
    name. Say which name was probably meant instead of "missing required key".
    """
    if section != "categories" or "name" in value or value.get("disabled") is True:
        return False
    if (section, name) in tenant.conflicts:  # "defined twice" is the error to fix first
        return False
    entries = library.data.get(section) or {}
    close = difflib.get_close_matches(str(name), [str(n) for n in entries], n=1)
    path = (section, name)
    if close:
        message = f"{name!r} is not in the library; did you mean {close[0]!r}?"
    elif entries:
        message = (f"{name!r} is not in the library (it has: {', '.join(sorted(map(str, entries)))}); "
                   "a new category needs at least `name`, `process` and `unit`")
    elif section in errors.unloaded:
        message = f"{name!r} is not in the library"  # held back until the library's file loads
    else:
        return False
    errors.add_unless_unloaded(section, tenant.where(path, key=True), path, message)
    return True


def _strip(value: Any) -> Any:
    """Remove overlay directives from a tenant-only entry."""
    if isinstance(value, dict):
        value.pop("extends", None)
        if value.get("disabled") is False:
            value.pop("disabled")
    return value


def _merge(result: Tree, path: Path_, over: dict[str, Any], tenant: Tree, tpath: Path_) -> None:
    """Merge tenant mapping `over` into the result's mapping at `path`."""
    target = _get(result.data, path)
    for key, value in over.items():
        if key == "extends" and len(path) == 2:
            continue
        if key == "disabled" and isinstance(value, bool):
            continue
        sub, tsub = (*path, key), (*tpath, key)
        if isinstance(value, dict) and value.get("disabled") is True:
            target.pop(key, None)
            result.drop(sub)
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            if tsub in tenant.key_pos:
                result.key_pos[sub] = tenant.key_pos[tsub]
            _merge(result, sub, value, tenant, tsub)
            continue
        result.drop(sub)
        target[key] = copy.deepcopy(value)
        result.graft(sub, tenant, tsub)


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data
