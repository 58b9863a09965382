"""The frozen result of compiling a tenant: what the runtime works from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from komunikator.engine.schema.categories import Category, CategoryGroup, Priority
from komunikator.engine.schema.messages import NotificationRule, Template
from komunikator.engine.schema.org import Role, Unit
from komunikator.engine.schema.refs import ActorRef
from komunikator.engine.schema.reports import Report
from komunikator.engine.schema.tenant import TenantConfig

if TYPE_CHECKING:  # shapely is imported only for a city with geography
    from komunikator.engine.geo.shapes import Geography


@dataclass(frozen=True)
class BoundCall:
    """A condition or effect resolved against the registry, arguments validated."""

    name: str
    args: BaseModel | None
    #: the registered ConditionDef/EffectDef (carries the evaluator)
    definition: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CompiledState:
    """A state with everything the runtime asks of it precomputed."""

    name: str
    public: Literal["open", "closed"]
    label: Mapping[str, str]
    final: bool
    on_withdraw: str | None
    sla_paused: bool
    reclassify: bool
    holds_tasks: bool  # some transition into it creates tasks
    #: the ticket's deadline while in this state, from entering it (`State.due`)
    due: Any = None  # DueRef | None


@dataclass(frozen=True)
class CompiledTransition:
    """One named transition; `sources` are the states it leaves from."""

    name: str
    sources: tuple[str, ...]
    dest: str
    label: Mapping[str, str] | None
    actors: tuple[ActorRef, ...]
    automatic: bool
    conditions: tuple[BoundCall, ...]
    requires: tuple[str, ...]
    effects: tuple[BoundCall, ...]
    #: for `to: $previous` (`dest == PREVIOUS`): the states it may return to (those that lead into its sources)
    returns_to: tuple[str, ...] = ()


#: `to: $previous`: back to the state the ticket was in before the current one.
PREVIOUS = "$previous"


@dataclass(frozen=True)
class CompiledTimer:
    """Fires `transition` or `effects` when a ticket stays `after` in `state`; armed timers refer to `name`."""

    name: str
    state: str
    after: Any  # DueRef: a duration or one of the category's SLAs
    transition: str | None
    effects: tuple[BoundCall, ...]


@dataclass(frozen=True)
class CompiledProcess:
    """A process, checked: every reference resolved, reachability proven."""

    name: str
    label: Mapping[str, str] | None
    entry: str
    #: the final state `mark_duplicate` leads to
    duplicate_state: str
    states: Mapping[str, CompiledState]
    transitions: Mapping[str, CompiledTransition]
    #: per state, its automatic transitions in declaration order
    automatic: Mapping[str, tuple[str, ...]]
    timers: tuple[CompiledTimer, ...]
    version: str
    origin: tuple[str, ...]
    #: removed state → the state its open tickets move to (`komunikator db migrate-definitions`)
    state_map: Mapping[str, str] = field(default_factory=dict)

    def timer(self, name: str) -> CompiledTimer | None:
        """The timer named `name`, if the process has one."""
        return next((t for t in self.timers if t.name == name), None)


@dataclass(frozen=True)
class CompiledCategory:
    """A category bound to its process and responsible unit."""

    name: str
    spec: Category
    process: str
    unit: str
    origin: tuple[str, ...]

    def sla(self, name: str, priority: Priority | None = None) -> Any:
        """The SLA duration `name` for a priority (shortened per priority if set)."""
        if priority is not None:
            special = self.spec.sla.by_priority.get(priority, {})
            if name in special:
                return special[name]
        return self.spec.sla.named().get(name)


#: The unit tree's implicit root: the whole office. A membership there (`city:management`) covers
#: every unit — an office-wide role such as the mayor's read-only overview. No unit may take the name.
CITY_UNIT = "city"


@dataclass(frozen=True)
class CompiledTenant:
    """A city's whole configuration, compiled and frozen."""

    slug: str
    config: TenantConfig
    units: Mapping[str, Unit]
    #: unit → itself and every unit below it
    unit_subtree: Mapping[str, frozenset[str]]
    roles: Mapping[str, Role]
    category_groups: Mapping[str, CategoryGroup]
    categories: Mapping[str, CompiledCategory]
    processes: Mapping[str, CompiledProcess]
    templates: Mapping[str, Template]
    notifications: Mapping[str, NotificationRule]
    plugin_settings: Mapping[str, BaseModel]
    version: str
    source_dir: str
    #: the reports its staff may read (`reports:`, library and tenant), checked against its units, roles, categories
    reports: Mapping[str, Report] = field(default_factory=dict)
    #: its boundary and districts (`tenant.geography`, engine/geo/), if it ships them
    geography: Geography | None = None

    def process_of(self, category: str) -> CompiledProcess:
        """The process a category's tickets run."""
        return self.processes[self.categories[category].process]
