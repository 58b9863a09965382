"""Generate the YAML reference (`docs/reference.md`) from the schema.

Every table is read from the pydantic JSON Schema of the section models
(`model_json_schema(by_alias=True)`, walking `$defs`) and of the built-in
conditions' and effects' argument models, so the reference cannot drift from
what `komunikator check` accepts. Defaults made by factories, which the JSON
Schema leaves out, are read from the models' fields. The output depends on
nothing but the code: the same schema always renders the same text.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from komunikator.engine.config.builtins import BUILTIN_CONDITIONS, BUILTIN_EFFECTS, BUILTIN_EVENTS
from komunikator.engine.config.registry import ConditionDef, EffectDef
from komunikator.engine.schema import base, refs
from komunikator.engine.schema.document import DIRECTIVES, ENTRY_SECTIONS, LIBRARY_SECTIONS, SINGLE_SECTIONS
from komunikator.engine.settings import REPO_ROOT

#: Where the generated reference is committed.
REFERENCE_PATH = REPO_ROOT / "docs" / "reference.md"

_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_ID_WORDS = "snake_case identifier"

Schema = dict[str, Any]


def render_reference() -> str:
    """The whole reference as Markdown (deterministic)."""
    out = _Writer()
    out.intro()
    documented: set[str] = set()
    for section, model in {**SINGLE_SECTIONS, **ENTRY_SECTIONS}.items():
        out.section(section, model, documented)
    out.calls("Named conditions", "condition", BUILTIN_CONDITIONS, "when", documented)
    out.calls("Named effects", "effect", BUILTIN_EFFECTS, "effects", documented)
    out.events()
    out.reference_forms()
    out.durations()
    return "\n".join(out.lines).rstrip("\n") + "\n"


def write_reference(path: Path = REFERENCE_PATH) -> bool:
    """Write the reference to `path`; True when the file changed."""
    text = render_reference()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def reference_diff(path: Path = REFERENCE_PATH, max_lines: int = 40) -> str:
    """A short unified diff from the file at `path` to the generated text ('' when equal)."""
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    wanted = render_reference()
    if current == wanted:
        return ""
    lines = list(
        difflib.unified_diff(
            current.splitlines(), wanted.splitlines(), f"{path.name} (committed)", f"{path.name} (generated)",
            lineterm="", n=1,
        )
    )
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"… {len(lines) - max_lines} more diff lines"]
    return "\n".join(lines)


# -- schema reading ----------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one schema fragment reads in a table: its type, notes, and consumed descriptions."""

    type: str
    notes: tuple[str, ...] = ()
    #: descriptions that belong to the type (not to the key), so not repeated
    consumed: frozenset[str] = frozenset()


def kind_of(s: Schema) -> Kind:
    """Describe a JSON Schema fragment in YAML terms (`name or [name, …]`)."""
    desc = s.get("description")
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        return Kind(f"[{name}](#{_model_anchor(name)})")
    if "anyOf" in s:
        options = [o for o in s["anyOf"] if o.get("type") != "null"]
        if _is_localized(options):
            return Kind("localized text", (), frozenset({desc} if desc else ()))
        if _is_call(options):
            return Kind("call", (), frozenset({desc} if desc else ()))
        kinds = [kind_of(o) for o in options]
        merged = Kind(
            " or ".join(dict.fromkeys(k.type for k in kinds)),
            tuple(dict.fromkeys(n for k in kinds for n in k.notes)),
            frozenset().union(*(k.consumed for k in kinds)),
        )
        return Kind(merged.type, merged.notes, merged.consumed | ({desc} if desc and len(options) > 1 else set()))
    kind = s.get("type")
    if "enum" in s or "const" in s:
        values = s.get("enum", [s.get("const")])
        return Kind("choice", (", ".join(f"`{_flow(v)}`" for v in values),))
    if kind == "string":
        return _string_kind(s)
    if kind == "integer":
        return Kind("whole number", _range(s))
    if kind == "number":
        return Kind("number", _range(s))
    if kind == "boolean":
        return Kind("true/false")
    if kind == "array":
        item = kind_of(s.get("items", {}))
        return Kind(f"[{item.type}, …]", item.notes, item.consumed)
    if kind == "object":
        return _mapping_kind(s)
    return Kind("any value")


def _string_kind(s: Schema) -> Kind:
    desc = s.get("description")
    pattern = s.get("pattern")
    if pattern == _ID_PATTERN:
        return Kind("name", (), frozenset({_ID_WORDS}))
    if s.get("format") == "date":
        return Kind("date", ("`YYYY-MM-DD`",))
    if pattern and "business" in pattern:
        return Kind("[duration](#durations)", (), frozenset({desc} if desc else ()))
    if pattern:
        return Kind("text", (f"matches `{pattern}`",))
    if desc:
        # the reference forms carry their allowed forms as the type's description
        return Kind("reference", (desc,), frozenset({desc}))
    return Kind("text")


def _mapping_kind(s: Schema) -> Kind:
    values = s.get("additionalProperties")
    if not isinstance(values, dict):
        pattern_props = s.get("patternProperties") or {}
        values = next(iter(pattern_props.values()), {})
    key_schema = s.get("propertyNames") or {}
    if "enum" in key_schema:
        key = Kind("choice", (", ".join(f"`{v}`" for v in key_schema["enum"]),))
    else:
        key = Kind("name")
    value = kind_of(values)
    notes = [*key.notes, *value.notes]
    if s.get("minProperties"):
        notes.append(f"at least {s['minProperties']} entry")
    return Kind(f"{{{key.type}: {value.type}}}", tuple(notes), value.consumed)


def _is_localized(options: list[Schema]) -> bool:
    return any(set(o.get("properties") or {}) == {"pl", "en"} for o in options)


def _is_call(options: list[Schema]) -> bool:
    return [o.get("type") for o in options] == ["string", "object"] and options[1].get("maxProperties") == 1


def _range(s: Schema) -> tuple[str, ...]:
    low, high = s.get("minimum"), s.get("maximum")
    if low is not None and high is not None:
        return (f"{_flow(low)} to {_flow(high)}",)
    if low is not None:
        return (f"at least {_flow(low)}",)
    if high is not None:
        return (f"at most {_flow(high)}",)
    return ()


def _flow(value: Any) -> str:
    """A value written as YAML flow text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, BaseModel):
        return _flow(value.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def model_classes(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `model` through its fields, by class name (as in `$defs`)."""
    found: dict[str, type[BaseModel]] = {}

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ in found:
                return
            found[annotation.__name__] = annotation
            for info in annotation.model_fields.values():
                visit(info.annotation)
            return
        origin = typing.get_origin(annotation)
        if origin is not None or isinstance(annotation, types.UnionType):
            for arg in typing.get_args(annotation):
                visit(arg)

    visit(model)
    return found


def _default(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return "optional"
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            value = info.get_default(call_default_factory=True)
            return "optional" if value is None else f"`{_flow(value)}`"
    return "optional"


def _model_anchor(name: str) -> str:
    return "model-" + name.lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- writing -------------------------------------------------------------------------


@dataclass
class _Use:
    """Where a model is used: the YAML paths, in order of discovery."""

    schema: Schema
    paths: list[str] = field(default_factory=list)


@dataclass
class _Writer:
    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def intro(self) -> None:
        sections = {**SINGLE_SECTIONS, **ENTRY_SECTIONS}
        self.add(
            "# YAML reference",
            "",
            "<!-- Generated by `komunikator docs reference` from engine/schema/ and engine/config/builtins.py."
            " Do not edit by hand: change the models and regenerate. -->",
            "",
            "Every key a tenant or the shared library may write, generated from the schema that"
            " `komunikator check` validates against. For a guided tour see"
            " [the implementers' guide](implementers.md).",
            "",
            "How to read the tables:",
            "",
            "- Every mapping accepts only the keys listed; any other key is an error.",
            "- **name**: a snake_case identifier (lowercase letters, digits and `_`, starting with a letter,"
            " at most 64 characters).",
            "- **localized text**: `{pl: …, en: …}`, or one string used for every locale.",
            "- **reference**: one of the [reference forms](#reference-forms), checked by the compiler.",
            "- **call**: a named [condition](#named-conditions) or [effect](#named-effects): `name` or"
            " `{name: arguments}`.",
            "- `[X, …]` is a list of X; `{K: V}` is a mapping from keys K to values V.",
            "- **optional** keys may be left out; their value is then empty.",
            "",
            '<a id="sections"></a>',
            "",
            "## Sections",
            "",
            "Each YAML file is a mapping of sections. A tenant folder may hold all of them;"
            " the shared library (`definitions/`) only those marked.",
            "",
            "| section | holds | in `definitions/` |",
            "| --- | --- | --- |",
        )
        for name, model in sections.items():
            holds = "one" if name in SINGLE_SECTIONS else "named entries of"
            link = f"[{model.__name__}](#{_model_anchor(model.__name__)})"
            library = "yes" if name in LIBRARY_SECTIONS else "no"
            self.add(f"| [`{name}`](#section-{name}) | {holds} {link} | {library} |")
        self.add(
            "",
            "A tenant may also hold one section per enabled plugin, named after the plugin"
            " and documented with it.",
            "",
            "Overlay directives, allowed in a tenant's entries of library sections and removed before"
            " validation: " + ", ".join(f"`{d}`" for d in DIRECTIVES) + ". `extends: NAME` copies the library"
            " entry NAME under a new name; `disabled: true` removes an inherited entry or a named part of one.",
            "",
        )

    def section(self, section: str, model: type[BaseModel], documented: set[str]) -> None:
        root = f"{section}" if section in SINGLE_SECTIONS else f"{section}.NAME"
        self.add(f'<a id="section-{section}"></a>', "", f"## `{section}:`", "")
        self.models(model, root, documented, level="###")

    def models(self, model: type[BaseModel], root: str | None, documented: set[str], level: str) -> None:
        """Tables for `model` and every model below it not documented yet."""
        schema = model.model_json_schema(by_alias=True)
        defs: dict[str, Schema] = schema.get("$defs", {})
        classes = model_classes(model)
        uses: dict[str, _Use] = {model.__name__: _Use(schema, [root] if root else [])}
        for name, path in _walk(schema, defs, root or model.__name__, {model.__name__}):
            uses.setdefault(name, _Use(defs[name])).paths.append(path)
        for name, use in uses.items():
            if name in documented:
                continue
            documented.add(name)
            self.table(name, use, classes.get(name), level)

    def table(self, name: str, use: _Use, model: type[BaseModel] | None, level: str) -> None:
        s = use.schema
        paths = ", ".join(f"`{p}`" for p in use.paths)
        self.add(f'<a id="{_model_anchor(name)}"></a>', "", f"{level} {name}", "")
        if s.get("description"):
            self.add(_cell(s["description"].strip().split("\n\n")[0]), "")
        if paths:
            self.add(f"Written at: {paths}.", "")
        props: dict[str, Schema] = s.get("properties", {})
        if not props:
            self.add("No keys.", "")
            return
        self.add(
            "| key | type | required / default | allowed values | description |",
            "| --- | --- | --- | --- | --- |",
        )
        required = set(s.get("required", []))
        for key, prop in props.items():
            kind = kind_of(prop)
            need = "**required**" if key in required else _default(model, key)
            desc = prop.get("description")
            desc = "" if desc is None or desc in kind.consumed else desc
            self.add(
                f"| `{key}` | {_cell(kind.type)} | {need} | {_cell('; '.join(kind.notes))} | {_cell(desc)} |"
            )
        self.add("")

    def calls(
        self, title: str, kind: str, defs: tuple[ConditionDef, ...] | tuple[EffectDef, ...], key: str,
        documented: set[str],
    ) -> None:
        anchor = title.lower().replace(" ", "-")
        self.add(f'<a id="{anchor}"></a>', "", f"## {title}", "")
        self.add(
            f"Named in `{key}:` of a transition{' or a timer' if kind == 'effect' else ''}. Written as the bare"
            f" name when it takes no arguments, otherwise as `{{name: arguments}}`.",
            "",
            f"| {kind} | arguments | what it does |",
            "| --- | --- | --- |",
        )
        for d in defs:
            args = f"[{d.args.__name__}](#{_model_anchor(d.args.__name__)})" if d.args else "none"
            self.add(f"| [`{d.name}`](#{kind}-{d.name}) | {args} | {_cell(d.doc)} |")
        self.add("")
        for d in defs:
            lead = _cell(d.doc[:1].upper() + d.doc[1:]) + "."
            self.add(f'<a id="{kind}-{d.name}"></a>', "", f"### `{d.name}`", "", lead, "")
            if d.args is None:
                alt = f" or `- {d.name}`." if kind == "effect" else "."
                self.add(f"Takes no arguments: `{key}: {d.name}`{alt}", "")
                continue
            if d.shorthand:
                self.add(f"A single value fills `{d.shorthand}`: `{{{d.name}: VALUE}}` means"
                         f" `{{{d.name}: {{{d.shorthand}: VALUE}}}}`.", "")
            self.models(d.args, None, documented, level="####")

    def events(self) -> None:
        self.add(
            '<a id="events"></a>', "", "## Events", "",
            "What `on:` of a notification rule names. A plugin adds its own, named `PLUGIN.EVENT`"
            " (see docs/plugins.md); the compiler refuses an event no one emits.", "",
            "| event | when |", "| --- | --- |",
            *(f"| `{e.name}` | {_cell(e.doc)} |" for e in BUILTIN_EVENTS), "",
        )

    def reference_forms(self) -> None:
        table = [line.strip() for line in (refs.__doc__ or "").splitlines() if line.strip().startswith("|")]
        self.add(
            '<a id="reference-forms"></a>',
            "",
            "## Reference forms",
            "",
            "Nothing in YAML is an expression. A value that points at a unit, a person or a deadline uses one"
            " of these forms; the compiler checks that the unit, role, template or SLA exists.",
            "",
            *table,
            "",
            "`category.sla.NAME` names `verify` or `resolve` of the ticket's category; every category"
            " whose process uses it must set that SLA.",
            "",
        )

    def durations(self) -> None:
        words: dict[str, list[str]] = {}
        for word, unit in base._UNIT_WORDS.items():  # the parser's own table
            words.setdefault(unit, []).append(f"`{word}`")
        self.add(
            '<a id="durations"></a>',
            "",
            "## Durations",
            "",
            "A duration is a whole number, a space and a unit: `14 business days`, `1 working day`,"
            " `30 days`, `2 weeks`, `4 hours`, `90 minutes`. Case does not matter.",
            "",
            "| unit | written as |",
            "| --- | --- |",
        )
        for unit in typing.get_args(base.DurationUnit):
            self.add(f"| {unit.replace('_', ' ')} | {', '.join(words.get(unit, []))} |")
        self.add(
            "",
            "Business days skip weekends, Polish public holidays and the tenant's own `days_off`;"
            " N business days after a moment is the same local time on the N-th working day after it."
            " Everything is counted in the tenant's time zone.",
        )


def _walk(schema: Schema, defs: dict[str, Schema], path: str, seen: set[str]) -> Iterator[tuple[str, str]]:
    """(model name, YAML path) of every `$ref` below `schema`, depth first in key order."""
    for key, prop in (schema.get("properties") or {}).items():
        yield from _refs(prop, defs, f"{path}.{key}", seen)


def _refs(s: Schema, defs: dict[str, Schema], path: str, seen: set[str]) -> Iterator[tuple[str, str]]:
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        yield name, path
        if name not in seen:
            yield from _walk(defs[name], defs, path, seen | {name})
        return
    for option in s.get("anyOf", []):
        yield from _refs(option, defs, path, seen)
    if isinstance(s.get("items"), dict):
        yield from _refs(s["items"], defs, f"{path}[]", seen)
    for sub in (s.get("patternProperties") or {}).values():
        yield from _refs(sub, defs, f"{path}.NAME", seen)
    if isinstance(s.get("additionalProperties"), dict):
        yield from _refs(s["additionalProperties"], defs, f"{path}.NAME", seen)
