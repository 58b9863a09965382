"""Named behaviour YAML may use: conditions, effects, plugins.

YAML never contains code. It names a condition (`all_tasks_done`) or an
effect (`create_task`) that Python registered here, with arguments checked
against the pydantic model the registration declares. A `Registry` is built
once (built-ins plus plugins found through the `komunikator.plugins` entry
point group) and is immutable; tests build their own with extra plugins.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

ENTRY_POINT_GROUP = "komunikator.plugins"


@dataclass(frozen=True)
class ConditionDef:
    """A named condition: `when: all_tasks_done` or `when: {resolved_within: 30 days}`.

    `evaluate(ctx, args)` gets the runtime's `ConditionContext` and the
    validated arguments (None when `args` is None) and answers True or False;
    it is required. `shorthand` names the field a bare scalar argument fills
    (`{resolved_within: 30 days}`).
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
    them in the same transaction as the state change. An effect has at least
    one of:

    - `expand(change, args)`: in the runtime (pure), update the action's
      `Change` and/or return the effect records to emit (built-ins do this);
    - `apply(ctx, effect)`: in the store, inside the action's transaction,
      write what the effect means (`ctx` is a `service.apply.EffectContext`,
      `effect` the `PluginEffect` record). An effect without `expand` emits
      one `PluginEffect` that its `apply` receives.

    `creates_tasks` marks effects that open tasks (the compiler then asks
    the state they lead to for `on_withdraw`).
    """

    name: str
    doc: str
    args: type[BaseModel] | None = None
    shorthand: str | None = None
    expand: Callable[[Any, Any], Iterable[Any] | None] | None = None
    apply: Callable[[Any, Any], Awaitable[None]] | None = None
    creates_tasks: bool = False


@dataclass(frozen=True)
class EventDef:
    """An event notification rules may name (`on: lost_and_found.item_expiring`).

    `context` documents the template variables the event brings beside the
    usual ones (name → description).
    """

    name: str
    doc: str
    context: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class RecipientDef:
    """A recipient form notification rules may name (`to: lost_and_found:keepers`).

    `resolve(ctx, argument)` runs at delivery time and returns the people to
    write to, as `delivery.recipients.Addressee`s (`ctx`: a
    `delivery.recipients.ResolveContext`; `argument`: the text after the
    colon, or None).
    """

    name: str
    doc: str
    resolve: Callable[[Any, str | None], Awaitable[list[Any]]]


@dataclass(frozen=True)
class JobDef:
    """A scheduled job: run every `every` seconds by the embedded runner and by Celery beat.

    `run(ctx)` gets a `komunikator.engine.jobs.JobContext` (the compiled
    tenants, the clock, the worker's name) and returns how much it did.
    Jobs find their work in the database, so a job run twice does no harm.
    `background`: the job may run for minutes (a big export); the embedded
    runner runs it beside its rounds, never two at once, so delivery and
    timers do not wait for it (Celery's workers run every job apart anyway).
    """

    name: str
    doc: str
    every: float
    run: Callable[[Any], Coroutine[Any, Any, int]]
    background: bool = False


@dataclass(frozen=True)
class NavEntry:
    """A link a plugin adds to the navigation (`area`: `staff` or `portal`), shown to users with `capability`.

    `count` (staff links): the figure shown beside the link — `await count(ctx)` with a
    `web.plugins.NavCountContext` (the city's scope, its compiled tenant, the user's view, now) gives a
    number, or None for none. The staff pages fetch it after they have loaded, never delaying them.
    """

    label: Mapping[str, str]
    path: str
    area: str = "staff"
    capability: str | None = None
    count: Callable[[Any], Coroutine[Any, Any, int | None]] | None = None


@dataclass(frozen=True)
class HomeBlock:
    """A block a plugin adds to a city's home page: `render(ctx)` returns its data for the template `template`."""

    name: str
    template: str
    render: Callable[[Any], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True)
class Plugin:
    """What a plugin contributes, through this one object (see docs/plugins.md).

    - `section`: the pydantic model of its top-level YAML section in a tenant
      that enables it (`plugins: [name]`);
    - `conditions`, `effects`: named behaviour its processes may use;
    - `events`, `recipients`: what notification rules may name;
    - `permissions`: what it lets roles do, granted in YAML
      (`roles: {clerk: {permissions: [lost_and_found.manage]}}`);
    - `models`, `migrations`: dotted module paths of its Tortoise models and
      migrations package (its own Tortoise app, named after the plugin,
      migrated by `komunikator db upgrade` after the core);
    - `api`, `pages`: factories of FastAPI routers mounted under
      `/api/v1/plugins/<name>` and `/<name>`, answering 404 for a city that
      has not enabled the plugin;
    - `templates`, `translations`: folders of Jinja templates and Babel
      catalogs;
    - `cli`: a factory of a typer app, run as `komunikator <name> …`;
    - `jobs`: scheduled jobs; `nav`, `home`: navigation entries and home page
      blocks.
    """

    name: str
    description: str = ""
    section: type[BaseModel] | None = None
    conditions: tuple[ConditionDef, ...] = ()
    effects: tuple[EffectDef, ...] = ()
    events: tuple[EventDef, ...] = ()
    recipients: tuple[RecipientDef, ...] = ()
    permissions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    models: str | None = None
    migrations: str | None = None
    api: Callable[[], Any] | None = None
    pages: Callable[[], Any] | None = None
    templates: Path | None = None
    translations: Path | None = None
    cli: Callable[[], Any] | None = None
    jobs: tuple[JobDef, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    home: tuple[HomeBlock, ...] = ()


class RegistryError(Exception):
    """Two registrations under one name."""


@dataclass(frozen=True)
class Registry:
    """An immutable table of everything YAML may name: conditions, effects, events, recipients, permissions."""

    conditions: Mapping[str, ConditionDef]
    effects: Mapping[str, EffectDef]
    plugins: Mapping[str, Plugin]
    events: Mapping[str, EventDef] = field(default_factory=lambda: MappingProxyType({}))
    recipients: Mapping[str, RecipientDef] = field(default_factory=lambda: MappingProxyType({}))
    permissions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def build(
        cls,
        conditions: Iterable[ConditionDef] = (),
        effects: Iterable[EffectDef] = (),
        plugins: Iterable[Plugin] = (),
        events: Iterable[EventDef] = (),
    ) -> Registry:
        """Make a registry; plugins' contributions join the given built-ins.

        Refuses (`RegistryError`) a name registered twice, a condition that
        cannot be evaluated, an effect that does nothing, a plugin name that
        is no identifier, and a plugin's event, recipient form or permission
        not named `<plugin>.<name>`.
        """
        conds: dict[str, ConditionDef] = {}
        effs: dict[str, EffectDef] = {}
        plugs: dict[str, Plugin] = {}
        evs: dict[str, EventDef] = {}
        recs: dict[str, RecipientDef] = {}
        caps: dict[str, str] = {}

        def put(table: dict[str, Any], name: str, item: Any, what: str) -> None:
            if name in table:
                raise RegistryError(f"{what} {name!r} is registered twice")
            table[name] = item

        def condition(c: ConditionDef) -> None:
            if c.evaluate is None:
                raise RegistryError(f"condition {c.name!r} has no `evaluate`")
            put(conds, c.name, c, "condition")

        def effect(e: EffectDef) -> None:
            if e.expand is None and e.apply is None:
                raise RegistryError(f"effect {e.name!r} does nothing: give it `expand` or `apply`")
            put(effs, e.name, e, "effect")

        def owned(plugin: Plugin, name: str, what: str) -> str:
            if not name.startswith(f"{plugin.name}.") or not _NAME.match(name[len(plugin.name) + 1:]):
                raise RegistryError(f"{what} {name!r} of plugin {plugin.name!r} must be named "
                                    f"'{plugin.name}.<name>' (lower case, digits, _)")
            return name

        for c in conditions:
            condition(c)
        for e in effects:
            effect(e)
        for ev in events:
            put(evs, ev.name, ev, "event")
        for p in plugins:
            if not _NAME.match(p.name):
                raise RegistryError(f"plugin name {p.name!r} must be lower case letters, digits and _")
            put(plugs, p.name, p, "plugin")
            for c in p.conditions:
                condition(c)
            for e in p.effects:
                effect(e)
            for ev in p.events:
                put(evs, owned(p, ev.name, "event"), ev, "event")
            for r in p.recipients:
                put(recs, owned(p, r.name, "recipient form"), r, "recipient form")
            for name, doc in p.permissions.items():
                put(caps, owned(p, name, "permission"), doc, "permission")
        return cls(MappingProxyType(conds), MappingProxyType(effs), MappingProxyType(plugs), MappingProxyType(evs),
                   MappingProxyType(recs), MappingProxyType(caps))

    def with_plugins(self, *plugins: Plugin) -> Registry:
        """A new registry with more plugins (for tests and embedding)."""
        return Registry.build(
            [c for c in self.conditions.values() if not self._from_plugin(c)],
            [e for e in self.effects.values() if not self._from_plugin(e)],
            [*self.plugins.values(), *plugins],
            [e for e in self.events.values() if self.plugin_of(e) is None],
        )

    def _from_plugin(self, item: ConditionDef | EffectDef) -> bool:
        return self.plugin_of(item) is not None

    def plugin_of(self, item: ConditionDef | EffectDef | EventDef | RecipientDef) -> str | None:
        """The plugin that registered a condition, effect, event or recipient form (None for built-ins)."""
        return next((p.name for p in self.plugins.values()
                     if item in p.conditions or item in p.effects or item in p.events or item in p.recipients), None)

    def owner(self, name: str) -> str | None:
        """The plugin a dotted name (`lost_and_found.manage`) belongs to, if such a plugin is registered."""
        head = name.split(".", 1)[0]
        return head if "." in name and head in self.plugins else None


#: Plugin names and the part after `<plugin>.` in the names plugins register.
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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
