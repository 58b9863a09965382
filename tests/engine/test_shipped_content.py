"""Contract tests over the shipped YAML: the library, every tenant, the sketch fixture.

They fail when shipped content breaks: a tenant stops compiling, a process
can no longer finish, a template a process sends is missing a tenant's
locale, a library category points at a group or process that is gone, or a
template uses a variable its file does not document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import meta, nodes

from komunikator.engine.compiled import BoundCall, CompiledProcess, CompiledTenant
from komunikator.engine.config.compiler import check_library, check_tenant
from komunikator.engine.config.loader import load_file
from komunikator.engine.config.sources import load_folder
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.categories import Category

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
TENANTS_DIR = REPO / "tenants"
SKETCH = REPO / "tests" / "fixtures" / "tenants" / "sketch"
TENANTS = sorted(
    p for p in TENANTS_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
)

#: The names every template may draw on (documented in definitions/templates/*.yaml).
TEMPLATE_ROOTS = {
    "tenant",
    "recipient",
    "ticket",
    "task",
    "comment",
    "message",
    "digest",
    "confirm",  # the address confirmation's link (email_confirmation)
    "account",  # a resident's one-time link (definitions/templates/accounts.yaml)
    "export",  # a big list export is ready (definitions/templates/exports.yaml)
    "event",  # a plugin's event (docs/plugins.md)
}


@functools.cache  # compiled tenants are frozen; loading YAML is the slow part
def _compile(folder: Path) -> CompiledTenant:
    compiled, errors = check_tenant(folder, DEFINITIONS)
    assert not errors, "\n" + errors.render()
    assert compiled is not None
    return compiled


@pytest.fixture(scope="module", params=TENANTS, ids=[p.name for p in TENANTS])
def tenant(request: pytest.FixtureRequest) -> CompiledTenant:
    return _compile(request.param)


@functools.cache
def _library() -> dict[str, Any]:
    """The library's merged sections (read-only)."""
    errors = ErrorList()
    data = load_folder(DEFINITIONS, errors).data
    assert not errors, "\n" + errors.render()
    return data


# -- the library ---------------------------------------------------------------


def test_shipped_tenants_are_found() -> None:
    assert {"zgierz", "nieporet"} <= {p.name for p in TENANTS}


def test_library_validates() -> None:
    errors = check_library(DEFINITIONS)
    assert not errors, "\n" + errors.render()


def test_library_categories_point_at_library_groups_and_processes() -> None:
    library = _library()
    groups, processes = set(library["category_groups"]), set(library["processes"])
    assert len(library["categories"]) >= 26
    for name, category in library["categories"].items():
        assert category.get("group") in groups, name
        assert category.get("process") in processes, name
        assert "unit" not in category, (
            f"{name}: a library category leaves the unit to the city"
        )


def test_every_library_group_has_categories() -> None:
    library = _library()
    used = {c["group"] for c in library["categories"].values()}
    assert set(library["category_groups"]) == used


def _texts_of_category(category: Any) -> Iterator[tuple[str, dict[str, str]]]:
    yield "name", category.name
    if category.description is not None:
        yield "description", category.description
    for aname, attr in category.attributes.items():
        yield f"attributes.{aname}.label", attr.label
        for value, text in (attr.values or {}).items():
            yield f"attributes.{aname}.values.{value}", text


def test_library_texts_are_in_polish_and_english() -> None:
    library = _library()
    for name, value in library["categories"].items():
        for where, text in _texts_of_category(Category.model_validate(value)):
            assert {"pl", "en"} <= set(text), f"category {name}.{where}"
    for name, group in library["category_groups"].items():
        assert {"pl", "en"} <= set(group["name"]), f"group {name}"
    for name, role in library["roles"].items():
        assert {"pl", "en"} <= set(role["name"]), f"role {name}"
    for pname, process in library["processes"].items():
        for sname, state in process["states"].items():
            assert {"pl", "en"} <= set(state["label"]), f"{pname}.{sname}"
    for name, template in library["templates"].items():
        for part in ("subject", "text"):
            assert {"pl", "en"} <= set(template[part]), f"template {name}.{part}"


# -- every tenant --------------------------------------------------------------


@pytest.mark.parametrize("folder", TENANTS, ids=[p.name for p in TENANTS])
def test_tenant_compiles(folder: Path) -> None:
    compiled = _compile(folder)
    assert compiled.slug == folder.name
    assert compiled.categories, "a tenant offers at least one category"


def test_sketch_fixture_compiles() -> None:
    compiled = _compile(SKETCH)
    assert "pothole" in compiled.categories
    assert compiled.categories["pothole"].process == "simple_fix"


def _notify_calls(process: CompiledProcess) -> Iterator[tuple[str, BoundCall]]:
    for tname, transition in process.transitions.items():
        for effect in transition.effects:
            if effect.name == "notify":
                yield f"transition {tname}", effect
    for timer in process.timers:
        for effect in timer.effects:
            if effect.name == "notify":
                yield f"timer {timer.name}", effect


def _used_templates(tenant: CompiledTenant) -> dict[str, str]:
    used: dict[str, str] = {}
    for pname, process in tenant.processes.items():
        for where, call in _notify_calls(process):
            used[call.args.template] = f"process {pname}, {where}"  # type: ignore[union-attr]
    for rname, rule in tenant.notifications.items():
        used[rule.template] = f"notification {rname}"
    return used


def test_used_templates_exist_in_every_locale(tenant: CompiledTenant) -> None:
    used = _used_templates(tenant)
    assert "ticket_accepted" in used and "task_assigned_unit" in used
    for name, user in used.items():
        assert name in tenant.templates, f"{user} sends missing template {name!r}"
        template = tenant.templates[name]
        for part in ("subject", "text"):
            texts = getattr(template, part)
            for locale in tenant.config.locales:
                assert texts.get(locale) or texts.get("*"), (
                    f"{name}.{part} has no {locale} text ({user})"
                )


def test_resident_facing_texts_exist_in_every_locale(tenant: CompiledTenant) -> None:
    for locale in tenant.config.locales:
        for name, category in tenant.categories.items():
            for where, text in _texts_of_category(category.spec):
                assert locale in text or "*" in text, (
                    f"category {name}.{where}: no {locale}"
                )
        for name, group in tenant.category_groups.items():
            assert locale in group.name or "*" in group.name, (
                f"group {name}: no {locale}"
            )
        for pname, process in tenant.processes.items():
            for sname, state in process.states.items():
                assert locale in state.label or "*" in state.label, (
                    f"{pname}.{sname}: no {locale}"
                )


def _reachable(process: CompiledProcess, start: str) -> set[str]:
    edges: dict[str, set[str]] = {s: set() for s in process.states}
    for transition in process.transitions.values():
        for source in transition.sources:
            edges[source].add(transition.dest)
    for state in process.states.values():
        if state.on_withdraw:
            edges[state.name].add(state.on_withdraw)
    seen, stack = {start}, [start]
    while stack:
        for nxt in edges[stack.pop()] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return seen


def test_every_process_can_finish(tenant: CompiledTenant) -> None:
    assert tenant.processes
    for name, process in tenant.processes.items():
        finals = {s for s, state in process.states.items() if state.final}
        reached = _reachable(process, process.entry)
        assert reached & finals, (
            f"{name}: no final state reachable from {process.entry!r}"
        )
        for state in reached:
            assert _reachable(process, state) & finals, (
                f"{name}: tickets get stuck in {state!r}"
            )


def test_every_category_process_creates_work(tenant: CompiledTenant) -> None:
    for name, category in tenant.categories.items():
        process = tenant.processes[category.process]
        assert any(s.holds_tasks for s in process.states.values()), (
            f"{name}: its process never creates a task"
        )
        assert category.unit in tenant.units


def test_zgierz_runs_parallel_work_in_several_units() -> None:
    compiled = _compile(TENANTS_DIR / "zgierz")
    parallel = {}
    for name in compiled.categories:
        verify = compiled.process_of(name).transitions["verify"]
        targets = {str(e.args.unit) for e in verify.effects if e.name == "create_task"}  # type: ignore[union-attr]
        if len(targets) > 1:
            parallel[name] = targets
    assert {"illegal_dumping", "fallen_tree"} <= set(parallel)
    assert "unit:straz_miejska" in parallel["illegal_dumping"]


def test_nieporet_uses_the_short_process_only() -> None:
    compiled = _compile(TENANTS_DIR / "nieporet")
    assert set(compiled.processes) == {"simple_fix"}


# -- templates document their variables -----------------------------------------

_HEADER_VAR = re.compile(r"^#\s+([a-z_]+(?:\.[a-z_]+)?)\s{2,}\S")


def _documented(file: Path) -> set[str]:
    names = set()
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER_VAR.match(line)
        if match:
            names.add(match.group(1))
    return names


def _used_variables(source: str) -> set[str]:
    env = jinja2.Environment()  # noqa: S701 - only parsed, to list the variables used
    ast = env.parse(source)
    roots = meta.find_undeclared_variables(ast)
    unknown = roots - TEMPLATE_ROOTS
    assert not unknown, f"unknown template variables {sorted(unknown)}"
    return {
        f"{node.node.name}.{node.attr}"
        for node in ast.find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name in roots
    } | {root for root in roots if not _only_dotted(ast, root)}


def _only_dotted(ast: nodes.Template, root: str) -> bool:
    """Whether `root` is used only as `root.attr` (never bare)."""
    dotted = {
        id(n.node)
        for n in ast.find_all(nodes.Getattr)
        if isinstance(n.node, nodes.Name)
    }
    return all(id(n) in dotted for n in ast.find_all(nodes.Name) if n.name == root)


TEMPLATE_FILES = sorted((DEFINITIONS / "templates").glob("*.yaml"))


@pytest.mark.parametrize("file", TEMPLATE_FILES, ids=[p.stem for p in TEMPLATE_FILES])
def test_template_variables_are_documented_in_the_file_header(file: Path) -> None:
    errors = ErrorList()
    tree = load_file(file, errors)
    assert tree is not None and not errors
    documented = _documented(file)
    assert documented, f"{file.name}: list the variables in a comment at the top"
    used: set[str] = set()
    for template in tree.data["templates"].values():
        for part in ("subject", "text", "html", "push"):
            texts = template.get(part)
            for source in [texts] if isinstance(texts, str) else (texts or {}).values():
                used |= _used_variables(source)
    assert used - documented == set(), f"{file.name}: used but not listed at the top"
    assert documented - used == set(), f"{file.name}: listed at the top but not used"
