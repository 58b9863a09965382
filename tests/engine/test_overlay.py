"""A tenant laid over the shared library: key-by-key overrides, picks, copies, removals, provenance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from komunikator.engine.config.builtins import builtin_registry
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.loader import Tree
from komunikator.engine.config.overlay import overlay
from komunikator.engine.config.sources import load_folder
from komunikator.engine.errors import ErrorList

REGISTRY = builtin_registry()

LIBRARY = {
    "roles.yaml": """
        roles:
          dispatcher: {name: Dyspozytor}
          worker: {name: Pracownik}
    """,
    "templates.yaml": """
        templates:
          ticket_accepted: {subject: Przyjęte, text: Przyjęte.}
    """,
    "processes.yaml": """
        processes:
          basic:
            name: {pl: Prosta naprawa, en: Simple fix}
            states:
              new: {public: open, label: {pl: Przyjęte, en: Received}}
              in_progress: {public: open, label: {pl: W realizacji, en: In progress}, on_withdraw: new}
              resolved: {public: closed, final: true, label: {pl: Załatwione, en: Resolved}}
              rejected: {public: closed, final: true, label: {pl: Odrzucone, en: Rejected}}
            transitions:
              verify:
                from: new
                to: in_progress
                by: [dispatcher]
                effects:
                  - create_task: {unit: category.unit, due: category.sla.resolve}
                  - notify: {to: reporter, template: ticket_accepted}
              reject:
                from: [new, in_progress]
                to: rejected
                by: [dispatcher]
              resolve:
                from: in_progress
                to: resolved
                automatic: true
                when: all_tasks_done
    """,
    "categories.yaml": """
        categories:
          pothole:
            name: {pl: Dziura w jezdni, en: Pothole}
            process: basic
            priority: normal
            sla: {resolve: 14 business days}
          streetlight:
            name: {pl: Latarnia, en: Street light}
            process: basic
            sla: {resolve: 7 days}
    """,
}

TENANT = """
    tenant:
      slug: city
      name: Miasto
      number_prefix: CT
      map: {center: [51.85, 19.40], bounds: {south: 51.8, west: 19.3, north: 51.9, east: 19.5}}
    units:
      roads: {name: Drogi}
"""

OVERRIDES = """
    processes:
      basic:
        name: {pl: Naprawa, en: Repair}
        states:
          new: {label: {pl: Nowe, en: New}}
          rejected: {disabled: true}
        transitions:
          reject: {disabled: true}
          verify: {by: [worker]}
    categories:
      pothole: {unit: roads}
      big_pothole:
        extends: pothole
        name: {pl: Duża dziura, en: Big pothole}
        priority: high
        unit: roads
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    library = write(tmp_path / "definitions", LIBRARY)
    tenant = write(tmp_path / "city", {"tenant.yaml": TENANT, "overrides.yaml": OVERRIDES})
    return library, tenant


def merged(library: Path, tenant: Path) -> tuple[Tree, dict[tuple[str | int, ...], tuple[str, ...]]]:
    errors = ErrorList()
    tree, origin = overlay(load_folder(library, errors), load_folder(tenant, errors), errors)
    assert not errors, errors.render()
    return tree, origin


def test_tenant_overrides_a_library_process_key_by_key(folders: tuple[Path, Path]) -> None:
    tree, _ = merged(*folders)
    basic = tree.data["processes"]["basic"]
    assert basic["name"] == {"pl": "Naprawa", "en": "Repair"}
    assert basic["states"]["new"] == {"public": "open", "label": {"pl": "Nowe", "en": "New"}}
    assert basic["states"]["in_progress"]["on_withdraw"] == "new"  # untouched keys stay
    assert basic["transitions"]["verify"]["by"] == ["worker"]  # lists are replaced, not merged
    assert basic["transitions"]["verify"]["to"] == "in_progress"


def test_disabled_parts_are_removed(folders: tuple[Path, Path]) -> None:
    tree, _ = merged(*folders)
    basic = tree.data["processes"]["basic"]
    assert "reject" not in basic["transitions"]
    assert "rejected" not in basic["states"]
    assert ("processes", "basic", "transitions", "reject") not in tree.pos
    assert set(basic["transitions"]) == {"verify", "resolve"}


def test_categories_are_picked_by_name_and_extends_copies(folders: tuple[Path, Path]) -> None:
    tree, _ = merged(*folders)
    categories = tree.data["categories"]
    assert set(categories) == {"pothole", "big_pothole"}  # streetlight was not picked
    assert categories["pothole"]["unit"] == "roads"
    assert categories["pothole"]["priority"] == "normal"
    big = categories["big_pothole"]
    assert "extends" not in big
    assert big["name"] == {"pl": "Duża dziura", "en": "Big pothole"}
    assert big["priority"] == "high"
    assert big["process"] == "basic"  # from the library's pothole
    assert big["sla"] == {"resolve": "14 business days"}


def test_positions_point_at_whoever_wrote_the_value(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    tree, _ = merged(library, tenant)
    lib_file, tenant_file = str(library / "processes.yaml"), str(tenant / "overrides.yaml")
    state = ("processes", "basic", "states", "new")

    overridden = tree.where((*state, "label", "en"))
    assert (overridden.file, overridden.line) == (tenant_file, 5)
    inherited = tree.where((*state, "public"))
    assert (inherited.file, inherited.line) == (lib_file, 5)
    verify = ("processes", "basic", "transitions", "verify")
    assert tree.where((*verify, "by", 0)).file == tenant_file
    assert tree.where((*verify, "effects", 1, "notify", "template")).file == lib_file
    # the copy made by `extends`: own keys in the tenant, the rest in the library
    big = ("categories", "big_pothole")
    assert tree.where((*big, "priority")).file == tenant_file
    assert tree.where((*big, "sla", "resolve")).file == str(library / "categories.yaml")


def test_origin_lists_the_library_file_and_the_tenant_file(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    compiled, errors = check_tenant(tenant, library, REGISTRY)
    assert not errors, errors.render()
    assert compiled is not None
    lib_categories, overrides = str(library / "categories.yaml"), str(tenant / "overrides.yaml")
    assert compiled.categories["pothole"].origin == (lib_categories, overrides)
    assert compiled.categories["big_pothole"].origin == (lib_categories, overrides)
    assert compiled.processes["basic"].origin == (str(library / "processes.yaml"), overrides)
    assert set(compiled.processes["basic"].transitions) == {"verify", "resolve"}
    assert compiled.processes["basic"].states["new"].label["en"] == "New"
    assert set(compiled.categories) == {"pothole", "big_pothole"}


def test_an_error_in_an_inherited_value_points_at_the_library(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    (tenant / "templates.yaml").write_text("templates:\n  ticket_accepted: {disabled: true}\n", encoding="utf-8")
    compiled, errors = check_tenant(tenant, library, REGISTRY)
    assert compiled is None
    assert [str(e) for e in errors] == [
        (
            f"{library / 'processes.yaml'}:16:46: processes.basic.transitions.verify.effects[1].notify.template: "
            "unknown template 'ticket_accepted' (none are defined)"
        )
    ]


def test_an_error_in_an_overriding_value_points_at_the_tenant(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    overrides = tenant / "overrides.yaml"
    overrides.write_text(overrides.read_text().replace("by: [worker]", "by: [wroker]"), encoding="utf-8")
    compiled, errors = check_tenant(tenant, library, REGISTRY)
    assert compiled is None
    assert [str(e) for e in errors] == [
        f"{overrides}:9:21: processes.basic.transitions.verify.by[0]: unknown role 'wroker'; did you mean 'worker'?"
    ]


def test_a_tenant_only_entry_is_taken_as_written(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    write(tenant, {"extra.yaml": "roles:\n  inspector: {name: Inspektor}\n"})
    tree, origin = merged(library, tenant)
    assert tree.data["roles"]["inspector"] == {"name": "Inspektor"}
    assert origin[("roles", "inspector")] == (str(tenant / "extra.yaml"),)
    assert origin[("roles", "dispatcher")] == (str(library / "roles.yaml"),)


def test_disabling_a_whole_library_entry(folders: tuple[Path, Path]) -> None:
    library, tenant = folders
    write(tenant, {"extra.yaml": "roles:\n  worker: {disabled: true}\n"})
    tree, origin = merged(library, tenant)
    assert set(tree.data["roles"]) == {"dispatcher"}
    assert ("roles", "worker") not in origin
