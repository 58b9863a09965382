"""The filter builder of the list pages, without a script: a GET form ↔ the JSON filter document.

Every node of the filter has a path (`r` the root group, `r.0` its first
item, `r.0.1` …). A group sends `m:<path>` (all / any); a condition sends
`f:<path>` (field), `o:<path>` (operator), `v:<path>` (value; several for
`in` / `not_in`) and `w:<path>` (the upper bound of `between`). The buttons
`add`, `addgroup` and `remove` name the path they act on. The values are
typed by the field (numbers, days, true/false, users' ids), and what cannot
be typed is passed on as written, so the engine's check names the mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.filters import text_in
from komunikator.engine.lists.spec import OPERATORS, Column, ListField, ListSpec

ROOT = "r"
NO_VALUE = ("is_empty", "is_not_empty")


def _typed(f: ListField, op: str, text: str) -> Any:
    text = text.strip()
    if op == "last_n_days":
        return int(text) if text.isdigit() and len(text) < 9 else text
    if f.type == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    if f.type == "bool":
        return {"true": True, "false": False}.get(text, text)
    if f.type == "reference" and f.choices is None:
        return int(text) if text.isdigit() and len(text) < 16 else text
    return text


def _condition(spec: ListSpec, form: Mapping[str, list[str]], path: str) -> dict[str, Any]:
    name = (form.get(f"f:{path}") or [""])[0]
    f = spec.field(name) or spec.fields[0]
    op = (form.get(f"o:{path}") or [""])[0]
    if op not in OPERATORS[f.type]:  # the field changed: start it over
        return {"field": f.name, "op": "is_not_empty"}
    if op in NO_VALUE:
        return {"field": f.name, "op": op}
    values = [v for v in form.get(f"v:{path}", []) if v.strip()]
    if op in ("in", "not_in"):
        parts = [p for v in values for p in v.split(",") if p.strip()]
        return {"field": f.name, "op": op, "value": [_typed(f, op, p) for p in parts]}
    first = values[0] if values else ""
    if op == "between":
        second = (form.get(f"w:{path}") or [""])[0]
        return {"field": f.name, "op": op, "value": [_typed(f, op, first), _typed(f, op, second)]}
    return {"field": f.name, "op": op, "value": _typed(f, op, first)}


def _children(paths: Sequence[str], parent: str) -> list[str]:
    mine = [p for p in paths if p.rsplit(".", 1)[0] == parent and p != parent]
    return sorted(mine, key=lambda p: int(p.rsplit(".", 1)[1]) if p.rsplit(".", 1)[1].isdigit() else 10**6)


def document(spec: ListSpec, form: Mapping[str, list[str]]) -> dict[str, Any]:
    """The filter document the builder's form describes, after its button (add, add a group, remove)."""
    groups = [k[2:] for k in form if k.startswith("m:")]
    conditions = [k[2:] for k in form if k.startswith("f:")]
    paths = [p for p in groups + conditions if p == ROOT or p.startswith(ROOT + ".")]
    removed = (form.get("remove") or [""])[0]
    add = (form.get("add") or [""])[0]
    add_group = (form.get("addgroup") or [""])[0]
    blank = {"field": spec.fields[0].name, "op": "is_not_empty"}

    def build(path: str) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for child in _children(paths, path):
            if child == removed or (removed and child.startswith(removed + ".")):
                continue
            items.append(build(child) if child in groups else _condition(spec, form, child))
        if add == path:
            items.append(dict(blank))
        if add_group == path:
            items.append({"match": "any", "conditions": [dict(blank)]})
        match = (form.get(f"m:{path}") or ["all"])[0]
        return {"match": "any" if match == "any" else "all", "conditions": items}

    out = build(ROOT)
    q = (form.get("q") or [""])[0].strip()
    if q:
        out["q"] = q
    return out if out["conditions"] or q else {}


def chosen_columns(spec: ListSpec, form: Mapping[str, list[str]]) -> list[str]:
    """The ticked columns in the order their position fields give (the declared order breaks ties)."""
    ticked = set(form.get("col", []))

    def position(n_column: tuple[int, Column]) -> tuple[float, int]:
        n, column = n_column
        raw = (form.get(f"pos:{column.key}") or [""])[0].strip()
        try:
            return float(raw), n
        except ValueError:
            return 1e9, n

    return [c.key for _, c in sorted(enumerate(spec.columns), key=position) if c.key in ticked]


def chosen_sort(form: Mapping[str, list[str]]) -> str:
    """`s1`/`d1` … `s4`/`d4` as the sort parameter (`-priority,due_at`)."""
    keys = []
    for n in range(1, 5):
        key = (form.get(f"s{n}") or [""])[0]
        if key:
            keys.append(("-" if (form.get(f"d{n}") or [""])[0] == "desc" else "") + key)
    return ",".join(keys)


# -- the builder as the template draws it -------------------------------------------------------


@dataclass
class Node:
    """A group or a condition of the builder, with what its controls offer."""

    path: str
    depth: int
    group: bool
    match: str = "all"
    items: list[Node] = default(default_factory=list)
    field: ListField | None = None
    op: str = ""
    values: list[str] = default(default_factory=list)
    upper: str = ""
    operators: tuple[str, ...] = ()
    options: list[tuple[str, str]] = default(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def nodes(spec: ListSpec, tenant: CompiledTenant, raw: Any, language: str, path: str = ROOT, depth: int = 1) -> Node:
    """The builder's tree for a (possibly faulty) filter document, as far as it can be read."""
    node = Node(path, depth, True, match="any" if isinstance(raw, dict) and raw.get("match") == "any" else "all")
    items = raw.get("conditions") if isinstance(raw, dict) else None
    for n, item in enumerate(items if isinstance(items, list) else []):
        child = f"{path}.{n}"
        if isinstance(item, dict) and "conditions" in item:
            node.items.append(nodes(spec, tenant, item, language, child, depth + 1))
            continue
        if not isinstance(item, dict):
            continue
        f = spec.field(str(item.get("field"))) or spec.fields[0]
        value = item.get("value")
        values = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
        options = [(code, text_in(label, language)) for code, label in f.choices(tenant).items()] if f.choices else []
        if f.type == "bool":
            options = [("true", "tak" if language == "pl" else "yes"), ("false", "nie" if language == "pl" else "no")]
        op = str(item.get("op", ""))
        node.items.append(Node(child, depth + 1, False, field=f, op=op,
                               values=values[:1] if op == "between" else values,
                               upper=values[1] if op == "between" and len(values) > 1 else "",
                               operators=OPERATORS[f.type], options=options))
    return node


__all__ = ["Node", "chosen_columns", "chosen_sort", "document", "nodes"]
