"""Named behaviour YAML may use: conditions, effects, plugins.

YAML never contains code. It names a condition (`all_tasks_done`) or an
effect (`create_task`) that Python registered here, with arguments checked
against the pydantic model the registration declares. A `Registry` is built
once (built-ins plus plugins found through the `komunikator.plugins` entry
point group) and is immutable; tests build their own with extra plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

ENTRY_POINT_GROUP = "komunikator.plugins"


@dataclass(frozen=True)
class ConditionDef:
    """A named condition: `when: all_tasks_done` or `when: {resolved_within: 30 days}`.

    `evaluate(ctx, args)` gets the runtime's condition context and the
    validated arguments (None when `args` is None). `shorthand` names the
    field a bare scalar argument fills (`{resolved_within: 30 days}`).
    """

    name: str
    doc: str
    args: type[BaseModel] | None = None
    shorthand: str | None = None
    evaluate: Callable[[Any, Any], bool] | None = None


@dataclass(frozen=True)
class EffectDef:
    """A named effect: `- create_task: {unit: category.unit}`.

    Effects are data: `fire` returns them in order and the store applies
    them in the same transaction as the state change. `expand(ctx, args)`,
    when given, turns the call into the runtime's effect records.
    """

    name: str
    doc: str
    args: type[BaseModel] | None = None
    shorthand: str | None = None
    expand: Callable[[Any, Any], Iterable[Any]] | None = None


@dataclass(frozen=True)
class Plugin:
    """What a plugin contributes to the engine.

    `section` validates the plugin's own top-level YAML section (named after
    the plugin) in a tenant that enables it. Models, routes, pages and jobs
    are added by later layers through the same object.
    """

    name: str
    description: str = ""
    section: type[BaseModel] | None = None
    conditions: tuple[ConditionDef, ...] = ()
    effects: tuple[EffectDef, ...] = ()
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class RegistryError(Exception):
    """Two registrations under one name."""


@dataclass(frozen=True)
class Registry:
    """An immutable table of conditions, effects and plugins."""

    conditions: Mapping[str, ConditionDef]
    effects: Mapping[str, EffectDef]
    plugins: Mapping[str, Plugin]

    @classmethod
    def build(
        cls,
        conditions: Iterable[ConditionDef] = (),
        effects: Iterable[EffectDef] = (),
        plugins: Iterable[Plugin] = (),
    ) -> Registry:
        """Make a registry; plugins' conditions and effects join the given ones."""
        conds: dict[str, ConditionDef] = {}
        effs: dict[str, EffectDef] = {}
        plugs: dict[str, Plugin] = {}

        def put(table: dict[str, Any], name: str, item: Any, what: str) -> None:
            if name in table:
                raise RegistryError(f"{what} {name!r} is registered twice")
            table[name] = item

        for c in conditions:
            put(conds, c.name, c, "condition")
        for e in effects:
            put(effs, e.name, e, "effect")
        for p in plugins:
            put(plugs, p.name, p, "plugin")
            for c in p.conditions:
                put(conds, c.name, c, "condition")
            for e in p.effects:
                put(effs, e.name, e, "effect")
        return cls(MappingProxyType(conds), MappingProxyType(effs), MappingProxyType(plugs))

    def with_plugins(self, *plugins: Plugin) -> Registry:
        """A new registry with more plugins (for tests and embedding)."""
        return Registry.build(
            [c for c in self.conditions.values() if not self._from_plugin(c)],
            [e for e in self.effects.values() if not self._from_plugin(e)],
            [*self.plugins.values(), *plugins],
        )

    def _from_plugin(self, item: ConditionDef | EffectDef) -> bool:
        return self.plugin_of(item) is not None

    def plugin_of(self, item: ConditionDef | EffectDef) -> str | None:
        """The plugin that registered a condition or effect (None for built-ins)."""
        return next((p.name for p in self.plugins.values() if item in p.conditions or item in p.effects), None)


def discover_plugins() -> list[Plugin]:
    """Plugins installed as `komunikator.plugins` entry points."""
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        plugin = ep.load()
        if callable(plugin) and not isinstance(plugin, Plugin):
            plugin = plugin()
        if not isinstance(plugin, Plugin):
            raise RegistryError(f"entry point {ep.name!r} does not provide a Plugin")
        found.append(plugin)
    return found
