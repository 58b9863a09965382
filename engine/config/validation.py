"""Validate merged YAML against the pydantic schema, with positions.

Each entry of a mapping section (one category, one process …) is validated
on its own, so a broken entry is reported and left out while the rest go on
to the compiler; the compiler then does not report references to entries
that failed here (they exist, they are just broken).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.base import Id, yaml_value

_ID: TypeAdapter[str] = TypeAdapter(Id)


@dataclass
class Validated:
    """What validation produced: models per section and the names that failed."""

    single: dict[str, BaseModel] = field(default_factory=dict)
    entries: dict[str, dict[str, BaseModel]] = field(default_factory=dict)
    broken: dict[str, set[str]] = field(default_factory=dict)

    def exists(self, section: str, name: str) -> bool:
        """Whether an entry was written, valid or not (for reference checks)."""
        return name in self.entries.get(section, {}) or name in self.broken.get(section, set())


def validate_model(
    model: type[BaseModel], value: Any, tree: Tree, at: Path_, errors: ErrorList
) -> BaseModel | None:
    """Validate one value; record every error at its YAML position."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        for detail in exc.errors():
            report_pydantic_error(detail, model, value, tree, at, errors)
        return None


def report_pydantic_error(
    detail: ErrorDetails, model: type[BaseModel], value: Any, tree: Tree, at: Path_, errors: ErrorList
) -> None:
    """Turn one pydantic error into a positioned, human message."""
    loc = _clean_loc(detail["loc"], value)
    kind = detail["type"]
    path = (*at, *loc)
    on_key = bool(detail["loc"]) and detail["loc"][-1] == "[key]"  # a mapping's key, not its value
    if kind == "missing":
        parent = path[:-1]
        errors.add(tree.where(parent, key=True), path, f"missing required key {loc[-1]!r}")
        return
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        allowed = _allowed_keys(model, loc[:-1])
        hint = ""
        if allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(allowed)}"
        indent = _indent_hint(value, loc, model)
        if "is it a key of" in indent:
            hint = ""  # the list of this level's keys would only mislead
        errors.add(tree.where(path, key=True), path, f"unknown key {key!r}{hint}{indent}")
        return
    message = _key_message(detail) if on_key else _message(detail)
    if kind in ("dict_type", "model_type", "model_attributes_type") and not on_key:
        needed = _allowed_keys(model, loc, required=True) if detail.get("input") is not None else []
        if needed and not isinstance(detail.get("input"), dict | list):
            # `days_off: [2026-05-02]`: show the mapping that was meant
            example = "{" + ", ".join(f"{k}: …" for k in needed) + "}"
            message = message.replace("a mapping (key: value)", f"a mapping such as {example}", 1)
        message += _indent_hint(value, loc, model)
    # a whole mapping is wrong: its key's line, not its first child's, says which
    errors.add(tree.where(path, key=on_key or isinstance(_value_at(value, loc), dict)), path, message)


def _indent_hint(value: Any, loc: Path_, model: type[BaseModel]) -> str:
    """`; check the indentation of the line above` when the key before this one was left empty.

    `sla:` with nothing after it, then `resolve: …` at the same indentation:
    the second line lost its indentation, and the mistake shows only here.
    """
    if not loc:
        return ""
    parent = _value_at(value, loc[:-1]) if len(loc) > 1 else value
    if not isinstance(parent, dict) or loc[-1] not in parent:
        return ""
    keys = list(parent)
    at = keys.index(loc[-1])
    if at == 0 or parent[keys[at - 1]] is not None:
        return ""
    above = keys[at - 1]
    if str(loc[-1]) in _allowed_keys(model, (*loc[:-1], above)):
        return f"; check the indentation: is it a key of {above!r} on the line above?"
    return "; check the indentation of the line above"


def _value_at(value: Any, loc: Path_) -> Any:
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def check_name(name: object, tree: Tree, path: Path_, errors: ErrorList) -> bool:
    """Check the name of a section entry (a unit, a category …) is a valid id."""
    try:
        _ID.validate_python(name)
    except ValidationError as exc:
        message = _message(exc.errors()[0])
        ascii_name = ascii_id(name)
        if ascii_name and ascii_name != name:
            message += f" (try {ascii_name!r})"
        # references to the entry depend on its name: the cause goes first
        errors.add(tree.where(path, key=True), path, message, first=True)
        return False
    return True


def ascii_id(name: object) -> str | None:
    """A valid id close to `name` (`Straż Miejska` → `straz_miejska`), or None."""
    if not isinstance(name, str):
        return None
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[^a-z0-9_]+", "_", plain).strip("_")
    try:
        return _ID.validate_python(plain)
    except ValidationError:
        return None


def _clean_loc(loc: tuple[int | str, ...], value: Any) -> Path_:
    """Keep the parts of a pydantic location that name keys or indices of the data."""
    out: list[str | int] = []
    data = value
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_dict or in_list:
            out.append(part)
            data = data[part]
        elif isinstance(data, dict) and isinstance(part, str) and "[" not in part and "-" not in part:
            out.append(part)  # a missing or unknown key
            data = None
        elif isinstance(data, dict) and isinstance(part, str) and part.endswith("_") and part[:-1] in data:
            out.append(part[:-1])
            data = data[part[:-1]]
    return tuple(out)


_TYPE_NAMES = {
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return yaml_value(value)


#: Patterns of the schema, described for people.
_PATTERNS = {
    r"^[a-z][a-z0-9_]*$": "is not a valid name: use lowercase letters, digits and '_', starting with a letter",
    r"^[A-Z]{2,4}$": "should be 2 to 4 capital letters (A–Z), e.g. ZG",
    r"^#[0-9a-fA-F]{6}$": "is not a colour: write #RRGGBB, e.g. #1f5fa8",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "is not an e-mail address",
}


def _key_message(detail: ErrorDetails) -> str:
    expected = str((detail.get("ctx") or {}).get("expected", ""))
    if detail["type"] == "literal_error" and "'*'" in expected:
        return (
            f"unknown locale {detail.get('input')!r}; give texts as {{pl: …, en: …}} "
            "or as one text for every locale"
        )
    return _message(detail)


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    given = detail.get("input")
    ctx = detail.get("ctx") or {}
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {_describe(given)}"
    if kind == "literal_error":
        return f"{yaml_value(given)} is not allowed; expected {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern in _PATTERNS:
            return f"{yaml_value(given)} {_PATTERNS[pattern]}"
        return f"{yaml_value(given)} does not have the expected form ({pattern})"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind == "assertion_error":
        return detail["msg"].removeprefix("Assertion failed, ")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{yaml_value(given)}: {detail['msg'].lower()}"
    if kind in ("too_short", "too_long"):
        return detail["msg"].replace("List", "list").replace("Dictionary", "mapping")
    return detail["msg"]


def _allowed_keys(model: type[BaseModel], loc: Path_, *, required: bool = False) -> list[str]:
    """The keys the model expects at `loc` (for did-you-mean hints); only the required ones if asked."""
    current: Any = model
    for part in loc:
        current = _descend(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items() if f.is_required() or not required]
    return []


def _descend(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, f in annotation.model_fields.items():
            if part in (name, f.alias):
                return _unwrap(f.annotation)
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    if origin is list and args:
        return _unwrap(args[0])
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
