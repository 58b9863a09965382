"""The filter document of a list: a small JSON document, its schema, its checks and its chips.

    {"match": "all", "q": "dziura",
     "conditions": [
        {"field": "unit", "op": "eq", "value": "drogi"},
        {"match": "any", "conditions": [
            {"field": "priority", "op": "in", "value": ["high", "urgent"]},
            {"field": "overdue", "op": "eq", "value": true}]}]}

A group matches `all` (AND) or `any` (OR) of its conditions and groups;
groups nest up to `MAX_DEPTH` levels (the root counts), with at most
`MAX_CONDITIONS` conditions in all and `MAX_TEXT` characters of JSON. `q` (the
root's only) is the full-text query (`service/search.py`).

Operators by field type (`spec.OPERATORS`), values:

- choice, reference: `eq`/`ne` one code, `in`/`not_in` a list of codes (known
  codes only where the list declares its options; a user is their id);
  `ne`/`not_in` keep rows without a value;
- text: `contains`, `starts_with`, `eq` — case- and accent-exact (the same
  on both databases; `q` is the forgiving search);
- date: `before`/`after` a day (`YYYY-MM-DD`, the city's time zone; neither
  includes the day), `between` two days (both included), `last_n_days` N;
- number: `eq`, `gt`, `lt` (strict), `between` [low, high] (both included);
- bool: `eq` true or false;
- any: `is_empty` / `is_not_empty` (no value; empty text counts as empty).

Every mistake is a 422 naming its JSON path (`filter.conditions[1].conditions[0].op`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.spec import OPERATORS, ListField, ListSpec, Text
from komunikator.engine.service.errors import ServiceError

MAX_DEPTH = 4
MAX_CONDITIONS = 40
MAX_TEXT = 4000
MAX_VALUES = 50
MAX_VALUE_LENGTH = 200
MAX_DAYS = 3660
ROOT = "filter"


def _item_kind(raw: Any) -> str:
    return "group" if isinstance(raw, dict) and "conditions" in raw else "condition"


class ConditionModel(BaseModel):
    """One condition: a field, an operator, a value."""

    model_config = ConfigDict(extra="forbid", strict=True)

    field: str = Field(max_length=80)
    op: str = Field(max_length=20)
    value: Any = None


class GroupModel(BaseModel):
    """A group of conditions and groups joined by AND (`all`) or OR (`any`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    match: Literal["all", "any"] = "all"
    conditions: list[Item] = Field(default_factory=list, max_length=MAX_CONDITIONS)


Item = Annotated[Annotated[ConditionModel, Tag("condition")] | Annotated[GroupModel, Tag("group")],
                 Discriminator(_item_kind)]


class DocumentModel(GroupModel):
    """The root group, which may carry the full-text query `q`."""

    q: str | None = Field(None, max_length=MAX_VALUE_LENGTH)


GroupModel.model_rebuild()
DocumentModel.model_rebuild()


# -- the checked filter -------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A checked condition: its field, operator and typed value."""

    field: ListField
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    """A checked group."""

    any: bool
    items: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class Filter:
    """A checked filter document: the root group, the full-text query and the document as given."""

    root: Group
    q: str | None
    document: Mapping[str, Any]

    def is_empty(self) -> bool:
        """Whether the filter keeps every row."""
        return not self.root.items and not self.q


def _error(path: str, message: str, errors: list[dict[str, str]] | None = None) -> ServiceError:
    return ServiceError(422, "invalid_filter", message, field=path,
                        details=errors or [{"field": path, "message": message}])


def _path(loc: tuple[int | str, ...]) -> str:
    out = ROOT
    for part in loc:
        if part in ("condition", "group"):  # the union's tags
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _depth(raw: Any) -> int:
    """The nesting depth of groups in a raw document (iterative: no recursion on hostile input)."""
    deepest = 0
    stack = [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict) and isinstance(node.get("conditions"), list):
            deepest = max(deepest, depth)
            stack += [(child, depth + 1) for child in node["conditions"] if isinstance(child, dict)]
    return deepest


def parse(spec: ListSpec, tenant: CompiledTenant, text: str | Mapping[str, Any] | None) -> Filter:
    """The checked filter of `text` (JSON) for the list; 422 with the path of the first mistake."""
    if text is None or text == "":
        return Filter(Group(False, ()), None, {})
    if isinstance(text, str):
        if len(text) > MAX_TEXT:
            raise _error(ROOT, f"the filter is longer than {MAX_TEXT} characters")
        if "\x00" in text:
            raise _error(ROOT, "the filter may not contain the NUL character")
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            raise _error(ROOT, "the filter is not valid JSON") from None
    else:
        raw = dict(text)
        if len(json.dumps(raw, ensure_ascii=False)) > MAX_TEXT:
            raise _error(ROOT, f"the filter is longer than {MAX_TEXT} characters")
    if not isinstance(raw, dict):
        raise _error(ROOT, "the filter must be a JSON object")
    if _depth(raw) > MAX_DEPTH:
        raise _error(ROOT, f"groups nest at most {MAX_DEPTH} levels deep")
    if "\\u0000" in json.dumps(raw):
        raise _error(ROOT, "the filter may not contain the NUL character")
    try:
        model = DocumentModel.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": _path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise _error(errors[0]["field"], errors[0]["message"], errors) from None
    count = [0]
    root = _group(spec, tenant, model, ROOT, count)
    if count[0] > MAX_CONDITIONS:
        raise _error(ROOT, f"a filter holds at most {MAX_CONDITIONS} conditions")
    q = model.q.strip() if model.q and model.q.strip() else None
    return Filter(root, q, raw)


def _group(spec: ListSpec, tenant: CompiledTenant, model: GroupModel, path: str, count: list[int]) -> Group:
    items: list[Condition | Group] = []
    for n, item in enumerate(model.conditions):
        where = f"{path}.conditions[{n}]"
        if isinstance(item, GroupModel):
            items.append(_group(spec, tenant, item, where, count))
        else:
            count[0] += 1
            items.append(_condition(spec, tenant, item, where))
    return Group(model.match == "any", tuple(items))


def _condition(spec: ListSpec, tenant: CompiledTenant, model: ConditionModel, path: str) -> Condition:
    field = spec.field(model.field)
    if field is None:
        raise _error(f"{path}.field", f"the list {spec.name} has no field {model.field!r}")
    allowed = OPERATORS[field.type]
    if model.op not in allowed:
        raise _error(f"{path}.op", f"{model.op!r} does not apply to a {field.type} field; use one of "
                                    f"{', '.join(allowed)}")
    return Condition(field, model.op, _value(field, tenant, model.op, model.value, f"{path}.value"))


def _value(field: ListField, tenant: CompiledTenant, op: str, value: Any, path: str) -> Any:
    if op in ("is_empty", "is_not_empty"):
        if value is not None:
            raise _error(path, f"{op} takes no value")
        return None
    kind = field.type
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_VALUES:
            raise _error(path, f"{op} takes a list of 1 to {MAX_VALUES} values")
        return tuple(_code(field, tenant, v, f"{path}[{n}]") for n, v in enumerate(value))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _error(path, "between takes a list of two values")
        low, high = (_scalar(kind, v, f"{path}[{n}]") for n, v in enumerate(value))
        if low > high:
            raise _error(path, "between takes the lower bound first")
        return (low, high)
    if op == "last_n_days":
        if type(value) is not int or not 1 <= value <= MAX_DAYS:
            raise _error(path, f"last_n_days takes a whole number of days from 1 to {MAX_DAYS}")
        return value
    if kind in ("choice", "reference"):
        return _code(field, tenant, value, path)
    return _scalar(kind, value, path)


def _code(field: ListField, tenant: CompiledTenant, value: Any, path: str) -> str | int:
    if field.type == "reference" and field.choices is None:  # a user, by id
        if type(value) is int or (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 16):
            number = int(value)
            if 1 <= number < 2**63:
                return number
        raise _error(path, "a user is given by their id")
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_LENGTH:
        raise _error(path, "the value must be a code (text)")
    if field.choices is not None and value not in field.choices(tenant):
        raise _error(path, f"{value!r} is not one of the values of {field.name}")
    return value


def _scalar(kind: str, value: Any, path: str) -> Any:
    if kind == "text":
        if not isinstance(value, str) or not value or len(value) > MAX_VALUE_LENGTH:
            raise _error(path, f"the value must be text of 1 to {MAX_VALUE_LENGTH} characters")
        return value
    if kind == "number":
        if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > 1e15:
            raise _error(path, "the value must be a number")
        return value
    if kind == "bool":
        if type(value) is not bool:
            raise _error(path, "the value must be true or false")
        return value
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:
            raise _error(path, "the value must be a day written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _error(path, "the value must be a day written YYYY-MM-DD") from None
    raise _error(path, "this field takes no value")


# -- chips --------------------------------------------------------------------------------------

_WORDS: dict[str, dict[str, str]] = {
    "pl": {"all": "ORAZ", "any": "LUB", "eq": "=", "ne": "≠", "in": "jest jednym z", "not_in": "nie jest żadnym z",
           "contains": "zawiera", "starts_with": "zaczyna się od", "before": "przed", "after": "po",
           "between": "od {0} do {1}", "last_n_days": "w ostatnich {0} dniach", "gt": ">", "lt": "<",
           "is_empty": "jest puste", "is_not_empty": "nie jest puste", "yes": "tak", "no": "nie",
           "search": "Szukaj", "user": "użytkownik nr {0}"},
    "en": {"all": "AND", "any": "OR", "eq": "=", "ne": "≠", "in": "is one of", "not_in": "is none of",
           "contains": "contains", "starts_with": "starts with", "before": "before", "after": "after",
           "between": "from {0} to {1}", "last_n_days": "in the last {0} days", "gt": ">", "lt": "<",
           "is_empty": "is empty", "is_not_empty": "is not empty", "yes": "yes", "no": "no",
           "search": "Search", "user": "user no. {0}"},
}


def text_in(texts: Text, language: str) -> str:
    """A label in `language` (Polish, then any, otherwise)."""
    return texts.get(language) or texts.get("pl") or texts.get("*") or next(iter(texts.values()), "")


def _shown(field: ListField, tenant: CompiledTenant, value: Any, language: str) -> str:
    words = _WORDS[language]
    if isinstance(value, bool):
        return words["yes" if value else "no"]
    if isinstance(value, date):
        return f"{value.day}.{value.month:02d}.{value.year}"
    if field.type == "reference" and field.choices is None:
        return words["user"].format(value)
    if field.choices is not None and isinstance(value, str):
        options = field.choices(tenant)
        return text_in(options[value], language) if value in options else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"„{value}”" if field.type == "text" else str(value)


def describe_condition(condition: Condition, tenant: CompiledTenant, language: str) -> str:
    """`Jednostka = Wydział Dróg`, `Po terminie`, `Przyjęto od 1.05.2026 do 31.05.2026`."""
    words = _WORDS[language]
    label = text_in(condition.field.label, language)
    op, value = condition.op, condition.value
    if condition.field.type == "bool" and op == "eq":
        return label if value else f"{label} = {words['no']}"
    if op in ("is_empty", "is_not_empty"):
        return f"{label} {words[op]}"
    if op == "between":
        low, high = (_shown(condition.field, tenant, v, language) for v in value)
        return f"{label} {words['between'].format(low, high)}"
    if op == "last_n_days":
        return f"{label} {words['last_n_days'].format(value)}"
    if op in ("in", "not_in"):
        shown = ", ".join(_shown(condition.field, tenant, v, language) for v in value)
        return f"{label} {words[op]} ({shown})"
    return f"{label} {words[op]} {_shown(condition.field, tenant, value, language)}"


def describe(item: Condition | Group, tenant: CompiledTenant, language: str, *, nested: bool = False) -> str:
    """A condition or group as readable text; nested groups in parentheses."""
    if isinstance(item, Condition):
        return describe_condition(item, tenant, language)
    joiner = f" {_WORDS[language]['any' if item.any else 'all']} "
    text = joiner.join(describe(i, tenant, language, nested=True) for i in item.items)
    return f"({text})" if nested and len(item.items) > 1 else text


def chips(flt: Filter, tenant: CompiledTenant, language: str) -> list[str]:
    """One readable chip per item of the root group (and one for `q`), in order."""
    out = [f"{_WORDS[language]['search']}: „{flt.q}”"] if flt.q else []
    out += [describe(item, tenant, language, nested=True) for item in flt.root.items]
    return out


def description(flt: Filter, tenant: CompiledTenant, language: str) -> str:
    """The whole filter as one sentence: `Jednostka = Wydział Dróg ORAZ (Priorytet = wysoki LUB Po terminie)`."""
    parts = [f"{_WORDS[language]['search']}: „{flt.q}”"] if flt.q else []
    if flt.root.items:
        parts.append(describe(flt.root, tenant, language, nested=bool(flt.q) and flt.root.any))
    return f" {_WORDS[language]['all']} ".join(parts)


__all__ = ["MAX_CONDITIONS", "MAX_DEPTH", "MAX_TEXT", "Condition", "Filter", "Group", "chips", "describe",
           "description", "parse"]
