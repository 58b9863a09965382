"""Property tests over generated processes, tickets and users.

- `fire` accepts exactly the actions `allowed_actions` offers (both ways);
- settling always terminates;
- from every reachable non-final state a final state can be reached.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from runtime_helpers import local

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.compiler import TenantCompiler
from komunikator.engine.config.loader import Tree
from komunikator.engine.errors import ErrorList
from komunikator.engine.runtime import (
    Membership,
    Outcome,
    Refusal,
    TaskView,
    TicketView,
    UserView,
    allowed_actions,
    allowed_task_actions,
    fire,
    fire_task,
    settle,
)
from komunikator.engine.runtime.actions import BUILTIN_ACTIONS

UNITS = ("office", "roads", "green", "guard")
ROLES = ("dispatcher", "worker", "unit_head")
ACTORS = ("dispatcher", "worker@task_unit", "unit_head@responsible_unit", "worker@unit:green", "reporter")
NOW = local(2026, 12, 1, 9, 0)


@st.composite
def processes(draw: st.DrawFn) -> dict[str, Any]:
    """A random process: states s0…sN (some final), random manual and automatic transitions."""
    n = draw(st.integers(3, 7))
    names = [f"s{i}" for i in range(n)]
    finals = set(draw(st.lists(st.sampled_from(names[1:]), min_size=1, max_size=2, unique=True)))
    states = {
        s: {"public": "closed" if s in finals else "open", "label": s, "final": s in finals, "on_withdraw": "s0"}
        for s in names
    }
    transitions: dict[str, Any] = {}
    # a spine makes most states reachable; extra edges add variety
    order = [s for s in names if s not in finals] + sorted(finals)
    for i in range(len(order) - 1):
        transitions[f"t{i}"] = {"from": order[i], "to": order[i + 1], "by": [draw(st.sampled_from(ACTORS))]}
    for j in range(draw(st.integers(0, 5))):
        src = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        dst = draw(st.sampled_from(names))
        automatic = draw(st.booleans())
        spec: dict[str, Any] = {"from": src, "to": dst}
        if automatic:
            spec |= {"automatic": True, "when": draw(st.sampled_from(["all_tasks_done", "no_open_tasks"]))}
        else:
            spec["by"] = draw(st.lists(st.sampled_from(ACTORS), min_size=1, max_size=2, unique=True))
            if draw(st.booleans()):
                spec["requires"] = ["public_comment"]
        if draw(st.booleans()):
            spec["effects"] = [{"create_task": {"unit": draw(st.sampled_from(["category.unit", "unit:green"]))}}]
        transitions[f"x{j}"] = spec
    return {"states": states, "transitions": transitions}


def compile_process(process: dict[str, Any]) -> CompiledTenant | None:
    tenant = {
        "tenant": {
            "slug": "prop",
            "name": "Prop",
            "number_prefix": "PR",
            "map": {"center": [52.0, 21.0], "bounds": {"south": 51, "west": 20, "north": 53, "east": 22}},
        },
        "units": {u: {"name": u} for u in UNITS} | {"guard": {"name": "SM", "external": True}},
        "roles": {
            "dispatcher": {"name": "D", "sees": "all", "edits_tickets": True},
            "worker": {"name": "W", "handles_tasks": True},
            "unit_head": {"name": "H", "handles_tasks": True},
        },
        "processes": {"p": process},
        "categories": {"c": {"name": "C", "process": "p", "unit": "roads"},
                       "d": {"name": "D", "process": "p", "unit": "green"}},
    }
    errors = ErrorList()
    compiled = TenantCompiler(Path("prop"), Tree({}), Tree(tenant), default_registry(), errors).run()
    return compiled if not errors else None


users = st.builds(
    UserView,
    st.sampled_from(["u1", "u2", "rep"]),
    st.lists(st.builds(Membership, st.sampled_from(UNITS), st.sampled_from(ROLES)), max_size=3).map(tuple),
    st.sampled_from(["staff", "staff", "resident"]),
)


@st.composite
def tickets(draw: st.DrawFn, tenant: CompiledTenant) -> TicketView:
    process = tenant.processes["p"]
    state = draw(st.sampled_from(sorted(process.states)))
    step = draw(st.integers(0, 2))
    tasks = tuple(
        TaskView(
            key=f"T{i + 1}",
            step=draw(st.integers(0, step)) if step else 0,
            created_in=draw(st.sampled_from(sorted(process.states))),
            unit=draw(st.sampled_from(UNITS)),
            state=draw(st.sampled_from(["open", "in_progress", "done", "withdrawn", "cancelled"])),
            assignee=draw(st.sampled_from([None, "u1", "u2"])),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    closed = NOW - timedelta(days=draw(st.integers(0, 60))) if process.states[state].final else None
    return TicketView(
        id="1", category=draw(st.sampled_from(["c", "d"])), process="p", state=state,
        responsible_unit=draw(st.sampled_from(["roads", "green"])), step=step, tasks=tasks,
        reporter_id="rep", closed_at=closed,
    )


def valid_inputs(requires: tuple[str, ...], ticket: TicketView) -> dict[str, Any]:
    values = {"public_comment": "komentarz", "internal_comment": "notatka", "reason": "powód",
              "duplicate_of": "2", "priority": "high", "unit": "green",
              "category": "d" if ticket.category == "c" else "c"}
    return {name: values[name] for name in requires}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), process=processes())
def test_fire_accepts_exactly_what_allowed_actions_offers(data: st.DataObject, process: dict[str, Any]) -> None:
    tenant = compile_process(process)
    assume(tenant is not None)
    assert tenant is not None
    ticket = data.draw(tickets(tenant))
    user = data.draw(users)
    offered = {a.name: a for a in allowed_actions(tenant, ticket, user, NOW)}
    for name in [*tenant.processes["p"].transitions, *BUILTIN_ACTIONS]:
        transition = tenant.processes["p"].transitions.get(name)
        requires = transition.requires if transition is not None else BUILTIN_ACTIONS[name]
        result = fire(tenant, ticket, name, user, valid_inputs(requires, ticket), NOW)
        assert isinstance(result, Outcome) == (name in offered), (name, result)
    for task in ticket.tasks:
        offered_tasks = {a.name for a in allowed_task_actions(tenant, ticket, task.key, user)}
        for name in ("take", "complete", "delegate", "withdraw"):
            inputs = {"reason": "powód", "to_unit": "office" if task.unit != "office" else "green"}
            result = fire_task(tenant, ticket, task.key, name, user, inputs, NOW)
            assert isinstance(result, Outcome) == (name in offered_tasks), (name, result)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), process=processes())
def test_settle_terminates_and_final_states_stay_reachable(data: st.DataObject, process: dict[str, Any]) -> None:
    tenant = compile_process(process)
    assume(tenant is not None)
    assert tenant is not None
    compiled = tenant.processes["p"]
    ticket = data.draw(tickets(tenant))
    outcome = settle(tenant, ticket, NOW)  # raises SettleLimitExceeded if it would not stop
    assert outcome.ticket.state in compiled.states
    # every state reachable from the entry can still reach a final state
    edges: dict[str, set[str]] = {s: set() for s in compiled.states}
    for t in compiled.transitions.values():
        for s in t.sources:
            edges[s].add(t.dest)
    for name, state in compiled.states.items():
        if state.on_withdraw:
            edges[name].add(state.on_withdraw)
        if not state.final:
            edges[name].add(compiled.duplicate_state)
    seen, stack = {compiled.entry}, [compiled.entry]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    for state in seen:
        frontier, visited = [state], {state}
        while frontier:
            for nxt in edges[frontier.pop()]:
                if nxt not in visited:
                    visited.add(nxt)
                    frontier.append(nxt)
        assert any(compiled.states[s].final for s in visited), state


def test_a_fixed_process_compiles_and_refuses_from_a_final_state() -> None:
    """Guards the generator's compile path: `assume` must not be hiding everything."""
    process = {
        "states": {"s0": {"public": "open", "label": "a", "on_withdraw": "s0"},
                   "s1": {"public": "closed", "label": "b", "final": True}},
        "transitions": {"t0": {"from": "s0", "to": "s1", "by": ["dispatcher"]}},
    }
    tenant = compile_process(process)
    assert tenant is not None
    dispatcher = UserView("u", (Membership("office", "dispatcher"),))
    assert isinstance(fire(tenant, TicketView("1", "c", "p", "s0", "roads"), "t0", dispatcher, {}, NOW), Outcome)
    refusal = fire(tenant, TicketView("1", "c", "p", "s1", "roads"), "t0", dispatcher, {}, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_available"
