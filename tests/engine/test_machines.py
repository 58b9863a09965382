"""The `transitions` machines built from compiled processes agree with the processes."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from transitions import Machine

from komunikator.engine.compiled import CompiledProcess, CompiledTenant
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.machines import destination, machine_for, triggers_from
from komunikator.engine.settings import REPO_ROOT, Settings

SKETCH_CANDIDATES = (REPO_ROOT / "tests" / "fixtures" / "tenants" / "sketch", REPO_ROOT / "tenants" / "sketch")


def sketch_dir() -> Path:
    """The sketch tenant: the test fixture if there is one, else the example tenant."""
    return next((p for p in SKETCH_CANDIDATES if p.is_dir()), SKETCH_CANDIDATES[-1])


def _tenant_dirs() -> list[Path]:
    dirs = [sketch_dir(), *Settings.from_env().tenant_dirs()]
    return list(dict.fromkeys(p.resolve() for p in dirs))


def _compile(folder: Path) -> CompiledTenant:
    compiled, errors = check_tenant(folder, Settings.from_env().definitions_dir)
    if compiled is None:
        if folder == sketch_dir().resolve():
            pytest.fail(f"the sketch tenant does not compile:\n{errors.render()}")
        pytest.skip(f"{folder.name} does not compile yet (see `komunikator check`)")
    return compiled


@pytest.fixture(scope="module")
def sketch() -> CompiledTenant:
    return _compile(sketch_dir().resolve())


@pytest.mark.parametrize("folder", _tenant_dirs(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_machines_agree_with_compiled_processes(folder: Path) -> None:
    tenant = _compile(folder)
    assert tenant.processes, "a tenant with categories has processes"
    for process in tenant.processes.values():
        machine = machine_for(process)
        assert list(machine.states) == list(process.states)
        assert machine.initial == process.entry
        # one trigger per transition name, nothing else (no `to_<state>`)
        assert list(machine.events) == list(process.transitions)
        for state in process.states:
            expected = tuple(t.name for t in process.transitions.values() if state in t.sources)
            assert triggers_from(process, state) == expected, (process.name, state)
            for name, transition in process.transitions.items():
                want = transition.dest if name in expected else None
                assert destination(process, state, name) == want, (process.name, state, name)
            assert destination(process, state, "no_such_trigger") is None


def test_no_auto_transitions(sketch: CompiledTenant) -> None:
    process = sketch.processes["simple_fix"]
    machine = machine_for(process)
    assert machine.auto_transitions is False
    assert not [e for e in machine.events if e.startswith("to_")]
    for state in process.states:
        assert not [t for t in triggers_from(process, state) if t.startswith("to_")]
        other = next(s for s in process.states if s != state)
        assert destination(process, state, f"to_{other}") is None


def test_sketch_triggers_in_declaration_order(sketch: CompiledTenant) -> None:
    process = sketch.processes["simple_fix"]
    assert triggers_from(process, "new")[:2] == ("verify", "reject")
    assert destination(process, "new", "verify") == "in_progress"
    # automatic transitions are ordinary triggers of the machine
    assert process.transitions["resolve"].automatic
    assert "resolve" in triggers_from(process, "in_progress")
    assert destination(process, "in_progress", "resolve") == "resolved"
    assert destination(process, "new", "resolve") is None
    assert triggers_from(process, "rejected") == ()
    assert triggers_from(process, "no_such_state") == ()


def test_machine_is_plain_synchronous(sketch: CompiledTenant) -> None:
    machine = machine_for(sketch.processes["simple_fix"])
    assert type(machine) is Machine
    assert machine.models == []  # shared by every ticket; the runtime passes state explicitly


def test_machines_are_cached_by_name_and_version(sketch: CompiledTenant) -> None:
    process = sketch.processes["simple_fix"]
    again = _compile(sketch_dir().resolve()).processes["simple_fix"]
    assert again is not process and again.version == process.version
    assert machine_for(again) is machine_for(process)
    changed = _without(process, "reopen")
    assert machine_for(changed) is not machine_for(process)
    assert "reopen" not in triggers_from(changed, "resolved")
    assert "reopen" in triggers_from(process, "resolved")


def _without(process: CompiledProcess, transition: str) -> CompiledProcess:
    transitions = {k: v for k, v in process.transitions.items() if k != transition}
    return dataclasses.replace(process, transitions=transitions, version=process.version + "-changed")


def test_only_machines_module_imports_transitions() -> None:
    pattern = re.compile(r"^\s*(import transitions|from transitions[ .])", re.MULTILINE)
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("engine", "cli", "web", "plugins")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == ["engine/config/machines.py"]
