"""The plugin seam: a plugin's YAML section, named conditions and effects, and discovery.

The plugin used here is defined in this file: a `parking` section (zones,
maximum hours), a condition `in_zone` with an argument model and an effect
`call_tow_truck`. Tenants are written to a temporary folder from one
template, so each case differs from the valid tenant by one line.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.builtins import builtin_registry, default_registry
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.explain import explain
from komunikator.engine.config.registry import (
    ENTRY_POINT_GROUP,
    ConditionDef,
    EffectDef,
    EventDef,
    Plugin,
    Registry,
    RegistryError,
    discover_plugins,
)


class ParkingSettings(BaseModel):
    """The `parking:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zones: list[str] = Field(min_length=1)
    max_hours: int = 2


class ZoneArgs(BaseModel):
    """`in_zone: ZONE`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zone: str


class TowArgs(BaseModel):
    """`call_tow_truck: {urgent: …}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    urgent: bool = False


def in_zone(ctx: object, args: ZoneArgs) -> bool:
    """The ticket names the zone in its `zone` attribute."""
    return bool(ctx.ticket.attributes.get("zone") == args.zone)  # type: ignore[attr-defined]


async def call_tow_truck(ctx: object, effect: object) -> None:
    """Applied in the store (tests/engine never apply it)."""


PARKING = Plugin(
    name="parking",
    description="paid parking zones",
    section=ParkingSettings,
    conditions=(ConditionDef("in_zone", "the ticket lies in a parking zone", ZoneArgs, "zone", in_zone),),
    effects=(EffectDef("call_tow_truck", "order a tow truck", TowArgs, apply=call_tow_truck),),
)

# Independent of whatever plugins happen to be installed.
BUILTINS = builtin_registry()
WITH_PARKING = BUILTINS.with_plugins(PARKING)

TEMPLATE = """\
tenant:
  slug: plugged
  name: Plugged
  number_prefix: PL
  map: {{center: [51.85, 19.40], bounds: {{south: 51.8, west: 19.3, north: 51.9, east: 19.5}}}}
  plugins: {plugins}
{section}
units:
  dispatch: {{name: BOM}}
roles:
  dispatcher: {{name: Dyspozytor}}
categories:
  car: {{name: Car, process: tow, unit: dispatch}}
processes:
  tow:
    states:
      new: {{public: open, label: New}}
      towed: {{public: closed, final: true, label: Towed}}
    transitions:
      tow:
        from: new
        to: towed
        by: [dispatcher]
        when: {when}
        effects: [{effect}]
"""
VALID = {
    "plugins": "[parking]",
    "section": "parking: {zones: [a, b]}",
    "when": "{in_zone: a}",
    "effect": "call_tow_truck: {urgent: true}",
}
SECTION_LINE, WHEN_LINE, EFFECT_LINE = 7, 24, 25


def write_tenant(root: Path, **changes: str) -> Path:
    folder = root / "plugged"
    folder.mkdir()
    (folder / "tenant.yaml").write_text(TEMPLATE.format(**{**VALID, **changes}), encoding="utf-8")
    return folder


def errors_of(folder: Path, registry: Registry) -> list[str]:
    compiled, errors = check_tenant(folder, None, registry)
    assert (compiled is None) == bool(errors)
    return errors.render().splitlines()


def col(line: str, text: str) -> int:
    """The 1-based column where `text` starts on a line of the written tenant."""
    return line.index(text) + 1


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # positions print relative to the working directory
    return tmp_path


def test_tenant_using_a_plugin_compiles(root: Path) -> None:
    compiled, errors = check_tenant(write_tenant(root), None, WITH_PARKING)
    assert errors.render() == ""
    assert isinstance(compiled, CompiledTenant)
    assert compiled.plugin_settings["parking"] == ParkingSettings(zones=["a", "b"], max_hours=2)
    tow = compiled.processes["tow"].transitions["tow"]
    assert [(c.name, c.args) for c in tow.conditions] == [("in_zone", ZoneArgs(zone="a"))]
    assert [(e.name, e.args) for e in tow.effects] == [("call_tow_truck", TowArgs(urgent=True))]
    report = explain(compiled, "en")
    assert "dispatcher (when in_zone(a))" in report
    assert "parking  {zones: [a, b], max_hours: 2}" in report


def test_section_with_a_wrong_key(root: Path) -> None:
    section = "parking: {zones: [a], max_hourz: 3}"
    folder = write_tenant(root, section=section)
    assert errors_of(folder, WITH_PARKING) == [
        (f"plugged/tenant.yaml:{SECTION_LINE}:{col(section, 'max_hourz')}: parking.max_hourz: "
        "unknown key 'max_hourz'; did you mean 'max_hours'?")
    ]


def test_section_with_a_wrong_value(root: Path) -> None:
    section = "parking: {zones: [], max_hours: many}"
    folder = write_tenant(root, section=section)
    assert errors_of(folder, WITH_PARKING) == [
        (f"plugged/tenant.yaml:{SECTION_LINE}:{col(section, '[]')}: parking.zones: "
        "list should have at least 1 item after validation, not 0"),
        (f"plugged/tenant.yaml:{SECTION_LINE}:{col(section, 'many')}: parking.max_hours: "
        "expected a whole number, got 'many'"),
    ]


def test_section_of_a_plugin_not_enabled(root: Path) -> None:
    folder = write_tenant(root, plugins="[]", when="all_tasks_done", effect="set_priority: high")
    assert errors_of(folder, WITH_PARKING) == [
        (f"plugged/tenant.yaml:{SECTION_LINE}:1: parking: "
        "plugin 'parking' is not enabled; add it to `plugins:` in the tenant section")
    ]


def test_conditions_and_effects_of_a_plugin_not_enabled(root: Path) -> None:
    folder = write_tenant(root, plugins="[]", section="")
    when_line = "        when: {in_zone: a}"
    effect_line = "        effects: [call_tow_truck: {urgent: true}]"
    assert errors_of(folder, WITH_PARKING) == [
        (f"plugged/tenant.yaml:{WHEN_LINE}:{col(when_line, '{')}: processes.tow.transitions.tow.when: "
        "condition 'in_zone' comes from plugin 'parking', which is not enabled; "
        "add it to `plugins:` in the tenant section"),
        (f"plugged/tenant.yaml:{EFFECT_LINE}:{col(effect_line, 'call_tow_truck')}: "
        "processes.tow.transitions.tow.effects[0]: "
        "effect 'call_tow_truck' comes from plugin 'parking', which is not enabled; "
        "add it to `plugins:` in the tenant section"),
    ]


def test_plugin_enabled_but_not_installed(root: Path) -> None:
    folder = write_tenant(root)
    errors = errors_of(folder, BUILTINS)
    assert errors[0] == (
        "plugged/tenant.yaml:6:13: tenant.plugins[0]: plugin 'parking' is not installed (no plugins are installed)"
    )
    assert errors[1].startswith(f"plugged/tenant.yaml:{SECTION_LINE}:1: parking: unknown section 'parking'")
    assert "unknown condition 'in_zone'" in errors[2]
    assert "unknown effect 'call_tow_truck'" in errors[3]
    assert len(errors) == 4


def test_unknown_plugin_suggests_an_installed_one(root: Path) -> None:
    folder = write_tenant(root, plugins="[parkin]", section="", when="all_tasks_done", effect="set_priority: high")
    assert errors_of(folder, WITH_PARKING) == [
        "plugged/tenant.yaml:6:13: tenant.plugins[0]: unknown plugin 'parkin'; did you mean 'parking'?"
    ]


def test_plugin_enabled_without_its_required_section(root: Path) -> None:
    folder = write_tenant(root, section="")
    assert errors_of(folder, WITH_PARKING) == [
        ("plugged/tenant.yaml:6:13: tenant.plugins[0]: "
        "plugin 'parking' needs settings: add a top-level `parking:` section (zones)")
    ]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{in_zone: {zon: a}}", [("in_zone", "when.in_zone.zone: missing required key 'zone'"),
                                 ("zon:", "when.in_zone.zon: unknown key 'zon'; did you mean 'zone'?")]),
        ("{in_zone: 5}", [("5", "when.in_zone: expected text, got 5")]),
        ("in_zone", [("when", "when.zone: missing required key 'zone'")]),
    ],
)
def test_plugin_condition_with_bad_arguments(root: Path, when: str, expected: list[tuple[str, str]]) -> None:
    folder = write_tenant(root, when=when)
    line = f"        when: {when}"
    assert errors_of(folder, WITH_PARKING) == [
        f"plugged/tenant.yaml:{WHEN_LINE}:{col(line, text)}: processes.tow.transitions.tow.{message}"
        for text, message in expected
    ]


def test_plugin_effect_with_bad_arguments(root: Path) -> None:
    effect = "call_tow_truck: {urgent: maybe}"
    folder = write_tenant(root, effect=effect)
    line = f"        effects: [{effect}]"
    assert errors_of(folder, WITH_PARKING) == [
        (f"plugged/tenant.yaml:{EFFECT_LINE}:{col(line, 'maybe')}: "
        "processes.tow.transitions.tow.effects[0].call_tow_truck.urgent: expected true or false, got 'maybe'")
    ]


# -- the registry ---------------------------------------------------------------


def test_registry_tables() -> None:
    assert WITH_PARKING.plugins["parking"] is PARKING
    assert WITH_PARKING.conditions["in_zone"].args is ZoneArgs
    assert WITH_PARKING.effects["call_tow_truck"].args is TowArgs
    assert set(BUILTINS.conditions) < set(WITH_PARKING.conditions)
    assert WITH_PARKING.plugin_of(WITH_PARKING.conditions["in_zone"]) == "parking"
    assert WITH_PARKING.plugin_of(WITH_PARKING.conditions["all_tasks_done"]) is None
    # adding another plugin keeps the first one's contributions exactly once
    other = Plugin("other", conditions=(ConditionDef("sunny", "the sun shines", evaluate=lambda ctx, args: True),))
    both = WITH_PARKING.with_plugins(other)
    assert sorted(both.plugins) == ["other", "parking"]
    assert "in_zone" in both.conditions and "sunny" in both.conditions


def test_registry_refuses_duplicates() -> None:
    with pytest.raises(RegistryError, match="plugin 'parking' is registered twice"):
        WITH_PARKING.with_plugins(PARKING)
    clash = Plugin("clash", effects=(EffectDef("notify", "shadows the built-in", apply=call_tow_truck),))
    with pytest.raises(RegistryError, match="effect 'notify' is registered twice"):
        BUILTINS.with_plugins(clash)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (Plugin("idle", conditions=(ConditionDef("idle", "no evaluator"),)), "condition 'idle' has no `evaluate`"),
        (Plugin("idle", effects=(EffectDef("idle", "nothing to do"),)),
         "effect 'idle' does nothing: give it `expand` or `apply`"),
        (Plugin("Bad-Name"), "plugin name 'Bad-Name' must be lower case"),
        (Plugin("idle", events=(EventDef("published", "no prefix"),)),
         "event 'published' of plugin 'idle' must be named 'idle.<name>'"),
        (Plugin("idle", permissions={"other.manage": "someone else's"}),
         "permission 'other.manage' of plugin 'idle' must be named 'idle.<name>'"),
        (Plugin("idle", events=(EventDef("idle.ticket_created", "a"), EventDef("idle.ticket_created", "b"))),
         "event 'idle.ticket_created' is registered twice"),
    ],
)
def test_registry_refuses_what_could_not_work(plugin: Plugin, message: str) -> None:
    """Nothing registered is silently skipped: every condition evaluates, every effect does something."""
    with pytest.raises(RegistryError, match=re.escape(message)):
        BUILTINS.with_plugins(plugin)


def test_builtins_register_like_plugins() -> None:
    """Every built-in condition has its evaluator and every built-in effect its expander, in the registry."""
    assert all(c.evaluate is not None for c in BUILTINS.conditions.values())
    assert all(e.expand is not None for e in BUILTINS.effects.values())
    assert [e.name for e in BUILTINS.effects.values() if e.creates_tasks] == ["create_task"]
    assert "ticket_created" in default_registry().events


# -- discovery through entry points -----------------------------------------------

PLUGIN_MODULE = '''
from komunikator.engine.config.registry import ConditionDef, Plugin

def make_plugin():
    return Plugin("seam_demo", "found through an entry point",
                  conditions=(ConditionDef("always", "always holds", evaluate=lambda ctx, args: True),))

NOT_A_PLUGIN = object()
'''


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()


def _install(site: Path, entry_points: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway distribution: a module and its .dist-info, on sys.path."""
    (site / "seam_demo_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    info = site / "seam_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: seam-demo-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "seam_demo_plugin", raising=False)


def test_discover_plugins_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    assert "seam_demo" not in {p.name for p in discover_plugins()}
    _install(tmp_path, f"[{ENTRY_POINT_GROUP}]\nseam_demo = seam_demo_plugin:make_plugin\n", monkeypatch)
    found = {p.name: p for p in discover_plugins()}
    assert found["seam_demo"].description == "found through an entry point"
    registry = default_registry()
    assert "seam_demo" in registry.plugins
    assert registry.plugin_of(registry.conditions["always"]) == "seam_demo"
    assert "all_tasks_done" in registry.conditions


def test_entry_point_that_is_not_a_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _install(tmp_path, f"[{ENTRY_POINT_GROUP}]\nbroken = seam_demo_plugin:NOT_A_PLUGIN\n", monkeypatch)
    with pytest.raises(RegistryError, match="entry point 'broken' does not provide a Plugin"):
        discover_plugins()
