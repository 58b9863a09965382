"""Compile a tenant: load, overlay, validate, check every reference, freeze.

    YAML ──load──▶ trees ──overlay──▶ merged tree ──validate──▶ models
          ──check & compile──▶ CompiledTenant (frozen)

Every stage appends to one error list; nothing is returned unless the list
is empty, so no half-compiled city ever reaches the runtime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import jinja2
from pydantic import BaseModel, ValidationError

from komunikator.engine.compiled import CITY_UNIT, CompiledCategory, CompiledProcess, CompiledTenant
from komunikator.engine.config.attribute_checks import check_attribute_conditions
from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.config.overlay import overlay
from komunikator.engine.config.process_compiler import ProcessCompiler, definition_hash
from komunikator.engine.config.reference_checks import RefChecker, unknown
from komunikator.engine.config.registry import Registry
from komunikator.engine.config.report_checks import check_reports
from komunikator.engine.config.sources import load_folder
from komunikator.engine.config.template_check import event_fields, render_problem, uses_of
from komunikator.engine.config.validation import Validated, check_name, validate_model
from komunikator.engine.errors import ConfigInvalid, ErrorList, Position, dotted
from komunikator.engine.schema.base import yaml_value
from komunikator.engine.schema.categories import Category
from komunikator.engine.schema.document import ENTRY_SECTIONS, LIBRARY_SECTIONS, SINGLE_SECTIONS
from komunikator.engine.schema.messages import NotificationRule, Template
from komunikator.engine.schema.org import Unit
from komunikator.engine.schema.processes import Process
from komunikator.engine.schema.tenant import TenantConfig


def compile_tenant(
    tenant_dir: Path, definitions_dir: Path | None, registry: Registry | None = None
) -> CompiledTenant:
    """Compile one tenant folder against the shared library, or raise ConfigInvalid."""
    compiled, errors = check_tenant(tenant_dir, definitions_dir, registry)
    if errors or compiled is None:
        raise ConfigInvalid(errors)
    return compiled


def check_tenant(
    tenant_dir: Path,
    definitions_dir: Path | None,
    registry: Registry | None = None,
    *,
    library: Library | None = None,
) -> tuple[CompiledTenant | None, ErrorList]:
    """Compile one tenant; return it (or None) with every error found.

    Pass a `Library` (loaded once) when compiling several tenants.
    """
    errors = ErrorList()
    if library is None:
        library = load_library(definitions_dir) if definitions_dir else Library(Tree(data={}), ErrorList())
    errors.extend(library.errors)
    tenant = load_folder(tenant_dir, errors)
    # the overlay copies what it takes from the library: one Library serves many tenants
    return TenantCompiler(tenant_dir, library.tree, tenant, registry or default_registry(), errors).run(), errors


#: Built-in events that are about the ticket, never one task (a task-scoped recipient reaches nobody there).
_TICKET_EVENTS = frozenset({
    "ticket_created", "ticket_state_changed", "ticket_public_status_changed", "ticket_overdue",
    "comment_public", "message_to_reporter",
})


@dataclass(frozen=True)
class Library:
    """The shared library (`definitions/`), read once, with the errors reading it found."""

    tree: Tree
    errors: ErrorList


def load_library(definitions_dir: Path) -> Library:
    """Read the shared library once, for several tenants."""
    errors = ErrorList()
    return Library(load_folder(definitions_dir, errors), errors)


def check_library(
    definitions_dir: Path, registry: Registry | None = None, *, library_data: Library | None = None
) -> ErrorList:
    """Validate every entry of the shared library on its own (no tenant needed)."""
    loaded = library_data or load_library(definitions_dir)
    errors = ErrorList()
    errors.extend(loaded.errors)
    library = loaded.tree
    for section, entries in library.data.items():
        model = ENTRY_SECTIONS.get(section)
        if section not in LIBRARY_SECTIONS or model is None:
            errors.add(
                library.where((section,), key=True),
                (section,),
                f"section {section!r} belongs in a tenant folder, not in the shared library",
            )
            continue
        for name, value in entries.items():
            check_name(name, library, (section, name), errors)
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if k not in ("extends", "disabled")}
            validate_model(model, value, library, (section, name), errors)
    return errors


#: Jinja tags that open a block closed by `end<tag>`
_BLOCK_TAGS = ("if", "for", "block", "macro", "call", "filter", "with", "autoescape", "trans", "raw")
_TAG = re.compile(r"{%[-+]?\s*(\w+)")


def unclosed_block(source: str) -> tuple[str, int] | None:
    """The innermost block tag left open in a template, and its line (from 1)."""
    stack: list[tuple[str, int]] = []
    for match in _TAG.finditer(source):
        word = match.group(1)
        if word in _BLOCK_TAGS:
            stack.append((word, source.count("\n", 0, match.start()) + 1))
        elif word.startswith("end") and stack and stack[-1][0] == word[3:]:
            stack.pop()
    return stack[-1] if stack else None


def _indentation(file: str, line: int) -> int:
    """How many spaces line `line` of `file` starts with (0 if it cannot be read)."""
    try:
        with Path(file).open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    return len(text) - len(text.lstrip(" "))
    except (OSError, UnicodeDecodeError):
        pass
    return 0


class TenantCompiler:
    """One compilation run; holds the merged tree and the shared error list."""

    def __init__(self, tenant_dir: Path, library: Tree, tenant: Tree, registry: Registry, errors: ErrorList):
        self.dir = tenant_dir
        self.registry = registry
        self.errors = errors
        self.tree, self.origin = overlay(library, tenant, errors)
        #: the library's roles (a report of the library may name one the tenant removed)
        self.library_roles = frozenset((library.data or {}).get("roles") or {})
        self.validated = Validated()
        self.refs = RefChecker(self.validated, self.tree, errors, registry=registry)

    def err(self, path: Path_, message: str, *, key: bool = False) -> None:
        self.errors.add(self.tree.where(path, key=key), path, message)

    # -- stages ---------------------------------------------------------------

    def run(self) -> CompiledTenant | None:
        config = self._validate()
        self.refs.enabled = frozenset(config.plugins) if config is not None else None
        # a broken tenant section must not hide the other sections' mistakes
        plugin_settings = self._plugins(config) if config is not None else {}
        units = self._units()
        processes = self._processes(config.plugins if config is not None else None)
        categories = self._categories(processes)
        check_attribute_conditions(self.refs.calls, categories, self.tree, self.errors)
        self._templates(config)
        self._notifications()
        self._render_templates()
        self._permissions()
        reports = check_reports(self.validated.entries.get("reports", {}), self.tree, self.errors, self.refs,
                                categories, processes, removed_roles=self.library_roles - set(self.tree.data.get(
                                    "roles") or {}))
        geography = self._geography(config) if config is not None else None
        if self.errors or config is None:
            return None
        entries = self.validated.entries
        return CompiledTenant(
            slug=config.slug,
            config=config,
            units=MappingProxyType(cast(dict[str, Unit], entries.get("units", {}))),
            unit_subtree=MappingProxyType(units),
            roles=MappingProxyType(dict(entries.get("roles", {}))),  # type: ignore[arg-type]
            category_groups=MappingProxyType(dict(entries.get("category_groups", {}))),  # type: ignore[arg-type]
            categories=MappingProxyType(categories),
            processes=MappingProxyType(processes),
            templates=MappingProxyType(dict(entries.get("templates", {}))),  # type: ignore[arg-type]
            notifications=MappingProxyType(dict(entries.get("notifications", {}))),  # type: ignore[arg-type]
            plugin_settings=MappingProxyType(plugin_settings),
            version=definition_hash(self._canonical()),
            source_dir=str(self.dir),
            reports=MappingProxyType(reports),
            geography=geography,
        )

    def _geography(self, config: TenantConfig) -> Any:
        """The boundary and districts the tenant names (engine/geo/), checked; None without them or on errors."""
        if config.geography is None:
            return None
        from komunikator.engine.geo.geojson_check import load_geography

        return load_geography(self.dir, config.geography, config.map.bounds,
                              lambda field: self.tree.where(("tenant", "geography", field)), self.errors)

    def _canonical(self) -> Any:
        out: dict[str, Any] = {k: v.model_dump(mode="json") for k, v in self.validated.single.items()}
        for section, entries in self.validated.entries.items():
            out[section] = {n: m.model_dump(mode="json", by_alias=True) for n, m in entries.items()}
        return out

    def _validate(self) -> TenantConfig | None:
        known = set(SINGLE_SECTIONS) | set(ENTRY_SECTIONS)
        for section, value in self.tree.data.items():
            if section in SINGLE_SECTIONS:
                model = validate_model(SINGLE_SECTIONS[section], value, self.tree, (section,), self.errors)
                if model is not None:
                    self.validated.single[section] = model
            elif section in ENTRY_SECTIONS:
                good = self.validated.entries.setdefault(section, {})
                bad = self.validated.broken.setdefault(section, set())
                dedented = self._dedented(section, value)
                for name, entry in value.items():
                    if not isinstance(name, str):
                        self.err((section, name), f"a name must be text, got {yaml_value(name)}", key=True)
                        continue
                    if name in dedented:
                        bad.add(name)
                        continue
                    named = check_name(name, self.tree, (section, name), self.errors)
                    if (section, name) in self.tree.conflicts:
                        bad.add(name)  # defined in two files: that is the error to fix first
                        continue
                    model = validate_model(ENTRY_SECTIONS[section], entry, self.tree, (section, name), self.errors)
                    if model is None or not named:
                        bad.add(name)
                    else:
                        good[name] = model
            elif section not in self.registry.plugins:
                self.err((section,), unknown("section", section, known | set(self.registry.plugins)), key=True)
        config = self.validated.single.get("tenant")
        if "tenant" not in self.tree.data:
            self.errors.add_unless_unloaded(
                "tenant",
                Position(str(self.dir / "tenant.yaml"), 1, 1),
                ("tenant",),
                "no `tenant:` section; every tenant folder needs one (usually in tenant.yaml)",
            )
        if config is not None:
            config = cast(TenantConfig, config)
            if config.slug != self.dir.name:
                self.err(("tenant", "slug"), f"slug {config.slug!r} must equal the folder name {self.dir.name!r}")
        return config

    def _dedented(self, section: str, entries: dict[Any, Any]) -> set[str]:
        """Keys written one level too far left; reported here, skipped by validation.

        `name:` or `parent: dispatch` at the indentation of the entries, right
        after an entry, is a key of that entry (a role's, a unit's) whose line
        lost its indentation — when it cannot be an entry itself (not a
        mapping, or not a valid one) or the entry above is empty.
        """
        model = ENTRY_SECTIONS[section]
        fields = {f.alias or n for n, f in model.model_fields.items()} | set(model.model_fields)
        out: set[str] = set()
        owner: tuple[str, Position, bool] | None = None  # the entry above: name, key position, empty?
        for name, entry in entries.items():
            where = self.tree.where((section, name), key=True)
            if not isinstance(name, str) or where is None:
                owner = None
                continue
            if owner is not None and name in fields and where.file == owner[1].file \
                    and where.column == owner[1].column and where.line > owner[1].line \
                    and (owner[2] or not self._valid_entry(model, entry)):
                out.add(name)
                self.err((section, name), f"{name!r} looks like a key of {owner[0]!r} above, not an entry of "
                         f"{section}: check the indentation (indent it under {owner[0]!r})", key=True)
                continue
            owner = (name, where, entry is None)
        return out

    @staticmethod
    def _valid_entry(model: type[BaseModel], value: Any) -> bool:
        try:
            model.model_validate(value)
        except ValidationError:
            return False
        return True

    def _plugins(self, config: TenantConfig) -> dict[str, BaseModel]:
        settings: dict[str, BaseModel] = {}
        for i, name in enumerate(config.plugins):
            if name not in self.registry.plugins:
                installed = self.registry.plugins
                self.err(("tenant", "plugins", i), unknown("plugin", name, installed) if installed
                         else f"plugin {name!r} is not installed (no plugins are installed)")
        for section, value in self.tree.data.items():
            plugin = self.registry.plugins.get(section)
            if plugin is None or section in SINGLE_SECTIONS or section in ENTRY_SECTIONS:
                continue
            if section not in config.plugins:
                self.err(
                    (section,),
                    f"plugin {section!r} is not enabled; add it to `plugins:` in the tenant section",
                    key=True,
                )
            elif plugin.section is None:
                self.err((section,), f"plugin {section!r} takes no settings", key=True)
            else:
                model = validate_model(plugin.section, value, self.tree, (section,), self.errors)
                if model is not None:
                    settings[section] = model
        for i, name in enumerate(config.plugins):
            plugin = self.registry.plugins.get(name)
            if (
                plugin is not None
                and plugin.section is not None
                and name not in settings
                and name not in self.tree.data
            ):
                try:
                    settings[name] = plugin.section.model_validate({})
                except ValidationError as exc:
                    needed = ", ".join(dotted(tuple(e["loc"])) for e in exc.errors())
                    self.err(("tenant", "plugins", i),
                             f"plugin {name!r} needs settings: add a top-level `{name}:` section ({needed})")
        return settings

    def _units(self) -> dict[str, frozenset[str]]:
        units = cast(dict[str, Unit], self.validated.entries.get("units", {}))
        for name, unit in units.items():
            path = ("units", name)
            if name == CITY_UNIT:
                self.err(path, f"{CITY_UNIT!r} is the whole office (the root every unit belongs to, where office-wide "
                         "roles are granted: city:management); give this unit another name", key=True)
            if unit.parent is not None:
                self.refs.ref("units", "unit", unit.parent, (*path, "parent"))
            if unit.external and not unit.accounts and not unit.email and unit.open311 is None:
                self.err(path, "an external unit without accounts gets its tasks by e-mail: give it an `email` "
                         "(or an `open311` endpoint)", key=True)
            if unit.open311 is not None:  # its category → service_code mapping names the city's categories
                for category in unit.open311.services:
                    self.refs.ref("categories", "category", category, (*path, "open311", "services", category))
        # parent cycles, each reported once, at its first unit
        in_cycle: set[str] = set()
        for name in units:
            seen = [name]
            parent = units[name].parent
            while parent is not None and parent in units and name not in in_cycle:
                if parent in seen:
                    if parent == name:
                        in_cycle.update(seen)
                        self.err(("units", name, "parent"), "units form a cycle: " + " → ".join([*seen, parent]))
                    break
                seen.append(parent)
                parent = units[parent].parent
        subtree: dict[str, set[str]] = {n: {n} for n in units}
        for name in units:
            parent, hops = units[name].parent, 0
            while parent is not None and parent in units and hops < len(units):
                subtree[parent].add(name)
                parent, hops = units[parent].parent, hops + 1
        subtree[CITY_UNIT] = set(units)  # the implicit root covers every unit
        return {k: frozenset(v) for k, v in subtree.items()}

    def _processes(self, enabled_plugins: list[str] | None) -> dict[str, CompiledProcess]:
        compiler = ProcessCompiler(self.registry, self.tree, self.errors, self.refs, enabled_plugins)
        out = {}
        for name, spec in self.validated.entries.get("processes", {}).items():
            compiled = compiler.compile(name, cast(Process, spec), self.origin.get(("processes", name), ()))
            if compiled is not None:
                out[name] = compiled
            else:
                self.validated.broken.setdefault("processes", set()).add(name)
        return out

    def _categories(self, processes: dict[str, CompiledProcess]) -> dict[str, CompiledCategory]:
        out = {}
        for name, model in self.validated.entries.get("categories", {}).items():
            spec = cast(Category, model)
            path = ("categories", name)
            before = len(self.errors)
            if spec.group is not None:
                self.refs.ref("category_groups", "category group", spec.group, (*path, "group"))
            if spec.process is None:
                self.err(path, "the category has no process: add `process: NAME`", key=True)
            elif self.refs.ref("processes", "process", spec.process, (*path, "process")):
                for sla in sorted(self.refs.slas_used.get(spec.process, set())):
                    if sla not in spec.sla.named():
                        self.err(
                            (*path, "process"),
                            f"process {spec.process!r} counts deadlines or timers from category.sla.{sla}, "
                            f"but this category has no `sla: {{{sla}: …}}`",
                        )
            if spec.unit is None:
                self.err(path, "the category has no responsible unit: add `unit: UNIT`", key=True)
            else:
                self.refs.ref("units", "unit", spec.unit, (*path, "unit"))
            for priority, slas in spec.sla.by_priority.items():
                for sla in slas:
                    if sla not in ("verify", "resolve"):
                        self.err((*path, "sla", "by_priority", priority, sla),
                                 f"unknown SLA {sla!r}; categories define verify and resolve")
            if not spec.intake:
                self.err((*path, "intake"), "nobody may file this category: list public and/or staff")
            for aname, attr in spec.attributes.items():
                if attr.default is not None:
                    problem = attr.check_value(attr.default)
                    if problem:
                        self.err((*path, "attributes", aname, "default"), f"default value: {problem}")
            if len(self.errors) == before and spec.process in processes and spec.unit is not None:
                out[name] = CompiledCategory(name, spec, spec.process, spec.unit, self.origin.get(path, ()))
        return out

    def _templates(self, config: TenantConfig | None) -> None:
        """Parse every template; check it has a text per locale (when the tenant section is valid)."""
        env = jinja2.Environment(autoescape=False)  # noqa: S701 - templates are only parsed here, never rendered
        for name, model in self.validated.entries.get("templates", {}).items():
            template = cast(Template, model)
            for part in ("subject", "text", "html", "push"):
                texts = getattr(template, part)
                if texts is None:
                    continue
                path = ("templates", name, part)
                if "*" not in texts and config is not None:
                    missing = [loc for loc in config.locales if loc not in texts]
                    if missing:
                        self.err(path, f"no text for locale(s) {', '.join(missing)} (the tenant's locales)")
                for locale, source in texts.items():
                    self._jinja(env, source, path if locale == "*" else (*path, locale))

    def _render_templates(self) -> None:
        """Render each template that parsed for every way it is sent (`template_check`)."""
        rules = {name: (cast(NotificationRule, m).on, cast(NotificationRule, m).template)
                 for name, m in self.validated.entries.get("notifications", {}).items()}
        plugin_events = {name: event_fields(e.context) for name, e in self.registry.events.items()
                         if self.registry.owner(name) is not None}
        templates = self.validated.entries.get("templates", {})
        uses = uses_of(list(templates), rules, self.refs.templates_sent, plugin_events)
        for name, model in templates.items():
            for part in ("subject", "text", "html", "push"):
                texts = getattr(cast(Template, model), part)
                for locale, source in (texts or {}).items():
                    path = ("templates", name, part) if locale == "*" else ("templates", name, part, locale)
                    for use in uses.get(name, ()):
                        problem = render_problem(source, use)
                        if problem is not None:
                            self.errors.add(self._in_template(path, source, problem[0]), path, problem[1])
                            break

    def _in_template(self, path: Path_, source: str, line: int) -> Position | None:
        """The position of line `line` of the template text at `path`."""
        where = self.tree.where(path)
        if where is None:
            return None
        if "\n" not in source.rstrip("\n"):
            return Position(where.file, where.line, where.column)
        at = where.line + line  # a `|` block starts on the line after its key
        return Position(where.file, at, _indentation(where.file, at) + 1)

    def _jinja(self, env: jinja2.Environment, source: str, path: Path_) -> None:
        try:
            env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            line, message = exc.lineno or 1, f"template syntax error: {exc.message}"
            unclosed = unclosed_block(source) if "Unexpected end of template" in (exc.message or "") else None
            if unclosed is not None:
                # Jinja notices at the end of the text; the mistake is the tag that opened the block
                tag, line = unclosed
                message = f"template syntax error: `{{% {tag} %}}` is never closed: add `{{% end{tag} %}}`"
            self.errors.add(self._in_template(path, source, line), path, message)

    def _permissions(self) -> None:
        """Every plugin permission a role grants exists, and its plugin is enabled."""
        for name, model in self.validated.entries.get("roles", {}).items():
            for i, permission in enumerate(getattr(model, "permissions", ())):
                self.refs.registered("permission", permission, self.registry.permissions,
                                     ("roles", name, "permissions", i))

    def _notifications(self) -> None:
        for name, model in self.validated.entries.get("notifications", {}).items():
            rule = cast(NotificationRule, model)
            path = ("notifications", name)
            self.refs.ref("templates", "template", rule.template, (*path, "template"))
            self.refs.registered("event", rule.on, self.registry.events, (*path, "on"))
            for i, recipient in enumerate(rule.to):
                self.refs.recipient(recipient, (*path, "to", i))
                if recipient.task_scoped and rule.on in _TICKET_EVENTS:
                    self.err((*path, "to", i), f"{recipient} names people by a task, but {rule.on!r} is not "
                             "about a task: use it on task_assigned, task_delegated, task_withdrawn or task_overdue, "
                             "or in a transition's notify (one message per task of the step)")
            for i, category in enumerate(rule.categories or []):
                self.refs.ref("categories", "category", category, (*path, "categories", i))
