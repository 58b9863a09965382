"""The one module that talks to `transitions`.

Each compiled process becomes one plain, synchronous `transitions.Machine`
with `auto_transitions=False` (no unguarded `to_<state>` triggers): its
states are the process states and it has one trigger per transition name,
leaving from all of that transition's sources. Automatic transitions are
ordinary triggers here; deciding *when* the engine fires them is the
runtime's job. The machine has no model: the runtime is pure and asks it
only what a state allows and where a trigger leads.

Machines are built once per (process name, process version) and cached.
`mermaid` draws a process with `GraphMachine`'s Mermaid backend (no
graphviz needed).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from transitions import Machine, State
from transitions.extensions import GraphMachine
from transitions.extensions.diagrams_mermaid import Graph as MermaidGraph

from komunikator.engine.compiled import PREVIOUS, CompiledProcess, CompiledTransition
from komunikator.engine.schema.base import text_for

__all__ = ["destination", "machine_for", "mermaid", "triggers_from"]


class _ProcessKey:
    """Carries a process into the cache, hashed and compared by (name, version).

    `CompiledProcess` holds MappingProxyType fields and is not hashable;
    its version is the hash of its definition, so (name, version) names it.
    """

    __slots__ = ("key", "process")

    def __init__(self, process: CompiledProcess) -> None:
        self.process = process
        self.key = (process.name, process.version)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ProcessKey) and other.key == self.key


def machine_for(process: CompiledProcess) -> Machine:
    """The (cached) state machine of a compiled process."""
    return _build_machine(_ProcessKey(process))


@lru_cache(maxsize=512)
def _build_machine(key: _ProcessKey) -> Machine:
    process = key.process
    return Machine(
        model=None,
        states=[State(name, final=state.final) for name, state in process.states.items()],
        initial=process.entry,
        transitions=[
            # `to: $previous` depends on the ticket: an internal transition here, resolved by the runtime
            {"trigger": t.name, "source": list(t.sources), "dest": None if t.dest == PREVIOUS else t.dest}
            for t in process.transitions.values()
        ],
        auto_transitions=False,
        name=process.name,
    )


def triggers_from(process: CompiledProcess, state: str) -> tuple[str, ...]:
    """Every trigger the machine allows from `state`, in declaration order."""
    return tuple(machine_for(process).get_triggers(state))


def destination(process: CompiledProcess, state: str, trigger: str) -> str | None:
    """Where `trigger` leads from `state`, or None if the machine does not allow it there."""
    event = machine_for(process).events.get(trigger)
    if event is None:
        return None
    found = event.transitions.get(state)
    if not found:
        return None
    dest = found[0].dest
    return str(dest) if dest is not None else None


# -- diagrams -----------------------------------------------------------------


class _LabelledState(State):
    """A state that carries a display label for diagrams."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label or self.name


class _ProcessGraph(MermaidGraph):
    """The Mermaid backend plus end markers (`state --> [*]`) for final states, styles per kind of node."""

    def _add_nodes(self, states: list[dict[str, Any]], container: list[str]) -> None:
        self._finals = [s["name"] for s in states if s.get("final")]
        kinds: dict[str, str] = getattr(self.machine, "node_kinds", {})
        for state in states:
            container.append('state "{}" as {}'.format(self._convert_state_attributes(state), state["name"]))
            style = "final" if state.get("final") else kinds.get(state["name"], "default")
            container.append("class {} s_{}".format(state["name"], style))

    def _add_edges(self, transitions: list[dict[str, Any]], container: list[str]) -> None:
        super()._add_edges(transitions, container)
        container.extend(f"{name} --> [*]" for name in getattr(self, "_finals", ()))


class _DiagramMachine(GraphMachine):
    """A GraphMachine with labelled states, drawn by `_ProcessGraph`."""

    state_cls = _LabelledState
    # transitions reads both as class attributes
    machine_attributes = {"rankdir": "LR"}  # noqa: RUF012
    style_attributes: dict[str, Any] = {  # noqa: RUF012
        "node": {
            "default": {"fillcolor": "white", "color": "black"},
            "final": {"fillcolor": "lightgrey", "color": "black"},
            "paused": {"fillcolor": "lightyellow", "color": "black"},
            # not states: a timer, and "any open state" (where mark_duplicate leaves from)
            "timer": {"fillcolor": "white", "color": "black", "stroke-dasharray": "5 5"},
            "pseudo": {"fillcolor": "white", "color": "dimgrey", "stroke-dasharray": "2 2"},
        },
        "edge": {},
        "graph": {},
    }

    def _init_graphviz_engine(self, graph_engine: str) -> Any:
        if graph_engine == "mermaid":
            return _ProcessGraph
        return super()._init_graphviz_engine(graph_engine)


def mermaid(process: CompiledProcess, locale: str = "pl") -> str:
    """A Mermaid state diagram of a process, labels in `locale`.

    States show their label and name; `[*] -->` marks the entry state and
    `--> [*]` the final ones; states where the SLA clock stands still are
    shaded and say so. Each edge names its transition and who may fire it,
    or `[auto]` for automatic ones, then the conditions; edges labelled
    `task withdrawn` show where a withdrawn task sends the ticket. Timers
    are dashed nodes between the state they wait in and where they lead
    (`after 14 days`); `mark_duplicate` leaves from a dashed "any open
    state" node; a note on a state lists the tasks each transition into it
    opens, and for which units. The output is deterministic.
    """
    kinds: dict[str, str] = {}
    states = []
    for name, state in process.states.items():
        label = f"{text_for(dict(state.label), locale)} ({name})"
        if state.sla_paused and not state.final:
            label += " · SLA paused"
            kinds[name] = "paused"
        states.append({"name": name, "label": _text(label), "final": state.final})
    transitions: list[dict[str, Any]] = [
        {"trigger": t.name, "source": list(t.sources), "dest": t.dest, "label": _edge_label(t, locale)}
        for t in process.transitions.values() if t.dest != PREVIOUS
    ]
    for t in process.transitions.values():  # `to: $previous`: an edge back to each state it may return to
        if t.dest == PREVIOUS:
            for back in t.returns_to:
                sources = [s for s in t.sources if s != back]
                transitions.append({"trigger": f"{t.name}_to_{back}", "source": sources, "dest": back,
                                    "label": _text(f"{_edge_label(t, locale)} · back to {back} if it came from there")})
    for name, state in process.states.items():
        if state.on_withdraw is not None:
            transitions.append(
                {"trigger": f"withdrawn_{name}", "source": name, "dest": state.on_withdraw,
                 "label": "task withdrawn"}
            )
    _add_timers(process, states, transitions, kinds)
    _add_duplicate(process, states, transitions, kinds)
    title = process.name
    if process.label:
        title = _text(f"{text_for(dict(process.label), locale)} ({process.name})")
    machine = _DiagramMachine(
        model=None,
        states=states,
        initial=process.entry,
        transitions=transitions,
        auto_transitions=False,
        graph_engine="mermaid",
        title=title,
    )
    # A fresh graph, not the model's: no state is highlighted as current.
    # transitions writes the title line bare between `---` fences; Mermaid reads them as YAML front matter.
    machine.node_kinds = kinds  # type: ignore[attr-defined]  # read by _ProcessGraph._add_nodes
    graph: Any = machine.graph_cls(machine).get_graph(title=f'title: "{title}"')
    lines = [line.rstrip() for line in str(graph.source).splitlines()]
    lines.extend(_task_notes(process))
    return "\n".join(lines).rstrip() + "\n"


def _free_id(process: CompiledProcess, wanted: str) -> str:
    """A node id no state of the process has."""
    while wanted in process.states:
        wanted += "_"
    return wanted


def _add_timers(
    process: CompiledProcess, states: list[dict[str, Any]], transitions: list[dict[str, Any]], kinds: dict[str, str]
) -> None:
    """Each timer: a dashed node after the state it waits in, leading to its transition's destination."""
    for timer in process.timers:
        node = _free_id(process, f"timer_{timer.name}")
        fired = process.transitions.get(timer.transition) if timer.transition else None
        does = fired.name if fired is not None else ", ".join(c.name for c in timer.effects) or "nothing"
        states.append({"name": node, "label": _text(f"timer {timer.name}: {does}")})
        kinds[node] = "timer"
        transitions.append({"trigger": f"wait_{node}", "source": timer.state, "dest": node,
                            "label": _text(f"after {timer.after}")})
        if fired is None:
            continue
        back = fired.dest == PREVIOUS  # one edge per state it may return to
        for dest in fired.returns_to if back else (fired.dest,):
            trigger = f"fire_{node}_{dest}" if back else f"fire_{node}"
            transitions.append({"trigger": trigger, "source": node, "dest": dest, "label": _text(fired.name)})


def _add_duplicate(
    process: CompiledProcess, states: list[dict[str, Any]], transitions: list[dict[str, Any]], kinds: dict[str, str]
) -> None:
    """`mark_duplicate` is offered in every open state: one edge from a pseudo-node says so."""
    node = _free_id(process, "any_open_state")
    states.append({"name": node, "label": "any open state"})
    kinds[node] = "pseudo"
    transitions.append({"trigger": "mark_duplicate", "source": node, "dest": process.duplicate_state,
                        "label": "mark_duplicate (roles that edit tickets)"})


def _task_notes(process: CompiledProcess) -> list[str]:
    """A note on each state that transitions into it open tasks: which transition, for which units."""
    lines_by_state: dict[str, list[str]] = {}
    for t in process.transitions.values():
        units = [_unit_name(c.args) for c in t.effects if c.name == "create_task" and c.args is not None]
        if units:
            together = " in parallel" if len(units) > 1 else ""
            word = "tasks" if len(units) > 1 else "a task"
            text = f"{t.name} opens {word}{together} for {', '.join(units)}"
            for dest in t.returns_to if t.dest == PREVIOUS else (t.dest,):
                lines_by_state.setdefault(dest, []).append(_text(text))
    # Mermaid runs a note's lines together: one line, broken with <br/>
    return [f"  note right of {state} : {'<br/>'.join(texts)}" for state, texts in lines_by_state.items()]


def _unit_name(args: Any) -> str:
    target = getattr(args, "unit", None)
    unit = getattr(target, "unit", None)
    return str(unit) if unit else "the category's unit"


def _text(value: str) -> str:
    """A label Mermaid cannot misread: no quotes, no `;` or `#` (they end a description)."""
    return value.replace('"', "'").replace(";", ",").replace("#", "")


def _edge_label(transition: CompiledTransition, locale: str) -> str:
    name = transition.name
    if transition.label:
        name = f"{_text(text_for(dict(transition.label), locale))} · {name}"
    conditions = ", ".join(c.name for c in transition.conditions)
    when = f" when {conditions}" if conditions else ""
    if transition.automatic:
        return f"{name} [auto]{when}"
    return f"{name} ({', '.join(str(a) for a in transition.actors)}){when}"
