"""Compile one process: bind conditions and effects, prove the graph sound."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from komunikator.engine.compiled import (
    PREVIOUS,
    BoundCall,
    CompiledProcess,
    CompiledState,
    CompiledTimer,
    CompiledTransition,
)
from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.config.reference_checks import RefChecker, unknown
from komunikator.engine.config.registry import ConditionDef, EffectDef, Registry
from komunikator.engine.config.validation import validate_model
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.processes import Call, Process

#: How often automatic transitions may chain in one settle (also the runtime's limit).
HOP_LIMIT = 20


def definition_hash(data: Any) -> str:
    """A short, stable hash of a definition's canonical JSON."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class ProcessCompiler:
    """Compiles processes of one tenant, reporting into a shared error list."""

    def __init__(self, registry: Registry, tree: Tree, errors: ErrorList, refs: RefChecker,
                 enabled_plugins: Collection[str] | None = None) -> None:
        self.registry = registry
        #: plugins whose conditions and effects the tenant may name (None: all)
        self.enabled_plugins = enabled_plugins
        self.tree = tree
        self.errors = errors
        self.refs = refs

    def err(self, path: Path_, message: str, *, key: bool = False) -> None:
        self.errors.add(self.tree.where(path, key=key), path, message)

    def bind(self, call: Call, path: Path_, table: Mapping[str, ConditionDef | EffectDef], kind: str,
             process: str | None) -> BoundCall | None:
        """Resolve a named call and validate its arguments.

        `path` is the call's place in the normalised list (`…when[0]`);
        errors name the place it was written (`…when.resolved_within`).
        """
        at = path if isinstance(self._node(path[:-1]), list) else path[:-1]
        spec = table.get(call.name)
        yaml_path = (*at, call.name) if isinstance(self._node(at), dict) else at
        if spec is None:
            self.err(at, unknown(kind, call.name, table))
            return None
        owner = self.registry.plugin_of(spec)
        if owner is not None and self.enabled_plugins is not None and owner not in self.enabled_plugins:
            self.err(at, f"{kind} {call.name!r} comes from plugin {owner!r}, which is not enabled; "
                         "add it to `plugins:` in the tenant section")
            return None
        if spec.args is None:
            if call.args is not None:
                self.err(yaml_path, f"{kind} {call.name!r} takes no arguments")
                return None
            return BoundCall(call.name, None, spec)
        value = call.args
        shorthand = None
        if value is None:
            value = {}
        elif not isinstance(value, dict) and spec.shorthand:
            shorthand = spec.shorthand
            value = {shorthand: value}
        found = ErrorList()
        model = validate_model(spec.args, value, self.tree, yaml_path, found)
        n = len(yaml_path)
        for error in found.errors:
            # `{resolved_within: soon}` wrote the `within` field as the whole argument
            where = error.path
            if shorthand is not None and where[n : n + 1] == (shorthand,):
                where = (*yaml_path, *where[n + 1 :])
            self.errors.add(error.position, where, error.message)
        if model is None:
            return None
        self.refs.walk_args(model, yaml_path, process, shorthand)
        return BoundCall(call.name, model, spec)

    def _item(self, path: Path_, i: int) -> Path_:
        """The path of item `i` of a list that YAML may also write as one value."""
        return (*path, i) if isinstance(self._node(path), list) else path

    def _node(self, path: Path_) -> Any:
        """The raw value written at `path`, or None."""
        node: Any = self.tree.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def compile(self, name: str, spec: Process, origin: tuple[str, ...]) -> CompiledProcess | None:
        """Check and compile one process; None if it has errors."""
        before = len(self.errors)
        base: Path_ = ("processes", name)
        states = spec.states
        entry = spec.entry
        if entry not in states:
            self.err((*base, "initial"), unknown("state", entry, states))
        duplicate = spec.duplicate_target
        if spec.duplicate_state is not None and spec.duplicate_state not in states:
            self.err((*base, "duplicate_state"), unknown("state", spec.duplicate_state, states))
        elif duplicate is not None and not states[duplicate].final:
            self.err((*base, "duplicate_state") if spec.duplicate_state else (*base, "states", duplicate),
                     f"duplicates go to state {duplicate!r}, which must be final", key=spec.duplicate_state is None)

        def state_ref(state: str, path: Path_) -> bool:
            if state in states:
                return True
            self.err(path, unknown("state", state, states))
            return False

        transitions: dict[str, CompiledTransition] = {}
        creating: dict[str, str] = {}  # state → a transition that creates tasks on entering it
        for tname, t in spec.transitions.items():
            tpath = (*base, "transitions", tname)
            for i, source in enumerate(t.from_):
                state_ref(source, self._item((*tpath, "from"), i))
            returns_to: tuple[str, ...] = ()
            if t.to == PREVIOUS:
                returns_to = _returns_to(spec, t.from_)
                if not returns_to and all(s in states for s in t.from_):
                    self.err((*tpath, "to"), f"no transition leads into {_join(t.from_)}, so there is no "
                                             "previous state to return to")
            else:
                state_ref(t.to, (*tpath, "to"))
            for i, actor in enumerate(t.by):
                self.refs.actor(actor, self._item((*tpath, "by"), i))
            conditions = [
                self.bind(c, (*tpath, "when", i), self.registry.conditions, "condition", name)
                for i, c in enumerate(t.when)
            ]
            effects = [
                self.bind(e, (*tpath, "effects", i), self.registry.effects, "effect", name)
                for i, e in enumerate(t.effects)
            ]
            if any(e is not None and getattr(e.definition, "creates_tasks", False) for e in effects):
                for dest in returns_to or (t.to,):
                    creating.setdefault(dest, tname)
            if t.automatic:
                for i, source in enumerate(t.from_):
                    if source in states and states[source].final:
                        self.err(self._item((*tpath, "from"), i),
                                 f"an automatic transition cannot leave the final state {source!r}")
            transitions[tname] = CompiledTransition(
                name=tname,
                sources=tuple(t.from_),
                dest=t.to,
                label=MappingProxyType(dict(t.label.items())) if t.label else None,
                actors=tuple(t.by),
                automatic=t.automatic,
                conditions=tuple(c for c in conditions if c is not None),
                requires=tuple(t.requires),
                effects=tuple(e for e in effects if e is not None),
                returns_to=returns_to,
            )

        compiled_states: dict[str, CompiledState] = {}
        for sname, s in states.items():
            spath = (*base, "states", sname)
            if s.on_withdraw is not None:
                state_ref(s.on_withdraw, (*spath, "on_withdraw"))
            if sname in creating and s.on_withdraw is None:
                self.err(
                    spath,
                    f"transition {creating[sname]!r} creates tasks on entering this state; say where a withdrawn "
                    "task sends the ticket with `on_withdraw: STATE`",
                    key=True,
                )
            if s.final and s.public != "closed":
                self.err((*spath, "public"), "a final state must be public: closed")
            compiled_states[sname] = CompiledState(
                name=sname,
                public=s.public,
                label=MappingProxyType(dict(s.label.items())),
                final=s.final,
                on_withdraw=s.on_withdraw,
                sla_paused=s.sla == "paused",
                reclassify=s.reclassify if s.reclassify is not None else sname == entry,
                holds_tasks=sname in creating,
                due=s.due,
            )
            if s.due is not None:
                self.refs.due(s.due, (*spath, "due"), name)

        timers = []
        for tname, timer in spec.timers.items():
            tpath = (*base, "timers", tname)
            state_ref(timer.state, (*tpath, "state"))
            self.refs.due(timer.after, (*tpath, "after"), name)
            if timer.fire is not None:
                fired = spec.transitions.get(timer.fire)
                if fired is None:
                    self.err((*tpath, "fire"), unknown("transition", timer.fire, spec.transitions))
                elif timer.state not in fired.from_:
                    self.err((*tpath, "fire"), f"transition {timer.fire!r} does not leave state {timer.state!r}")
            bound = [
                self.bind(e, (*tpath, "effects", j), self.registry.effects, "effect", name)
                for j, e in enumerate(timer.effects)
            ]
            timers.append(
                CompiledTimer(tname, timer.state, timer.after, timer.fire, tuple(b for b in bound if b is not None))
            )

        for old, new in spec.state_map.items():
            mpath = (*base, "state_map", old)
            if old in states:
                self.err(mpath, f"state {old!r} still exists; `state_map` is for states that were removed", key=True)
            state_ref(new, mpath)

        if len(self.errors) == before:
            self._check_graph(name, spec, entry)
        if len(self.errors) != before:
            return None
        automatic = {
            s: tuple(t for t, tr in transitions.items() if tr.automatic and s in tr.sources) for s in states
        }
        return CompiledProcess(
            name=name,
            label=MappingProxyType(dict(spec.name.items())) if spec.name else None,
            entry=entry,
            duplicate_state=duplicate or entry,
            states=MappingProxyType(compiled_states),
            transitions=MappingProxyType(transitions),
            automatic=MappingProxyType(automatic),
            timers=tuple(timers),
            version=definition_hash(spec.model_dump(mode="json", by_alias=True)),
            origin=origin,
            state_map=MappingProxyType(dict(spec.state_map)),
        )

    def _check_graph(self, name: str, spec: Process, entry: str) -> None:
        base: Path_ = ("processes", name)
        edges: dict[str, set[str]] = {s: set() for s in spec.states}
        auto_edges: dict[str, list[tuple[str, str]]] = {s: [] for s in spec.states}
        for tname, t in spec.transitions.items():
            targets = _returns_to(spec, t.from_) if t.to == PREVIOUS else (t.to,)
            for source in t.from_:
                edges[source].update(targets)
                if t.automatic:
                    auto_edges[source].extend((target, tname) for target in targets)
        for sname, s in spec.states.items():
            if s.on_withdraw:
                edges[sname].add(s.on_withdraw)
        # `mark_duplicate` works in every non-final state: it makes the duplicate
        # state reachable, but is no way to finish a genuine ticket
        duplicate = spec.duplicate_target
        reach_edges = {
            sname: edges[sname] | ({duplicate} if duplicate in spec.states and not s.final else set())
            for sname, s in spec.states.items()
        }

        reached = _reach(entry, reach_edges)
        for sname in spec.states:
            if sname not in reached:
                self.err((*base, "states", sname), f"state {sname!r} cannot be reached from {entry!r}", key=True)

        finals = {s for s, st in spec.states.items() if st.final}
        if not finals:
            self.err((*base, "states"), "the process has no final state (`final: true`)", key=True)
        else:
            reverse: dict[str, set[str]] = {s: set() for s in spec.states}
            for source, dests in edges.items():
                for d in dests:
                    reverse[d].add(source)
            can_finish: set[str] = set()
            for f in finals:
                can_finish |= _reach(f, reverse)
            for sname in spec.states:
                if sname in reached and sname not in can_finish:
                    self.err(
                        (*base, "states", sname),
                        f"no final state can be reached from {sname!r}: tickets would be stuck here",
                        key=True,
                    )

        cycle = _find_cycle(auto_edges)
        if cycle:
            states_, first = cycle
            self.err(
                (*base, "transitions", first),
                "automatic transitions form a cycle: " + " → ".join(states_),
                key=True,
            )


def _reach(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _find_cycle(edges: Mapping[str, list[tuple[str, str]]]) -> tuple[list[str], str] | None:
    """A cycle of automatic transitions as (states, first transition), or None."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(edges, white)
    trail: list[tuple[str, str]] = []

    def visit(state: str) -> tuple[list[str], str] | None:
        color[state] = grey
        for dest, tname in edges.get(state, []):
            if color.get(dest) == grey:
                start = next((i for i, (s, _) in enumerate(trail) if s == dest), len(trail))
                loop = [*trail[start:], (state, tname)]
                return [s for s, _ in loop] + [dest], loop[0][1]
            if color.get(dest) == white:
                trail.append((state, tname))
                found = visit(dest)
                trail.pop()
                if found:
                    return found
        color[state] = black
        return None

    for state in edges:
        if color[state] == white:
            found = visit(state)
            if found:
                return found
    return None


def _returns_to(spec: Process, sources: list[str]) -> tuple[str, ...]:
    """Where `to: $previous` from `sources` may lead: every state a transition (or a withdrawal) leads
    from into one of them, in declaration order."""
    into = set(sources)
    found: list[str] = []
    for t in spec.transitions.values():
        if t.to in into:
            found += [s for s in t.from_ if s not in found and s not in into]
    for name, state in spec.states.items():
        if state.on_withdraw in into and name not in found and name not in into:
            found.append(name)
    return tuple(s for s in spec.states if s in found)


def _join(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)
