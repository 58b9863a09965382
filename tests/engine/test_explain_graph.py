"""`explain`, `mermaid` and their commands: snapshots of the sketch tenant, CLI behaviour.

Snapshots live in `snapshots/`; run with `UPDATE_SNAPSHOTS=1` to rewrite
them from the current output, then read the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.explain import explain, table
from komunikator.engine.config.machines import mermaid
from komunikator.engine.settings import REPO_ROOT, Settings

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
SKETCH_CANDIDATES = (REPO_ROOT / "tests" / "fixtures" / "tenants" / "sketch", REPO_ROOT / "tenants" / "sketch")


def sketch_dir() -> Path:
    """The sketch tenant: the test fixture if there is one, else the example tenant."""
    return next((p for p in SKETCH_CANDIDATES if p.is_dir()), SKETCH_CANDIDATES[-1])


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; run with UPDATE_SNAPSHOTS=1 and read the diff"


@pytest.fixture(scope="module")
def sketch() -> CompiledTenant:
    compiled, errors = check_tenant(sketch_dir(), Settings.from_env().definitions_dir)
    assert compiled is not None, errors.render()
    return compiled


# -- graph ----------------------------------------------------------------------


def test_sketch_graph_snapshot(sketch: CompiledTenant) -> None:
    assert_snapshot("sketch_simple_fix.mmd", mermaid(sketch.processes["simple_fix"], "pl"))


def test_graph_shows_states_entry_finals_and_who_fires(sketch: CompiledTenant) -> None:
    process = sketch.processes["simple_fix"]
    text = mermaid(process, "en")
    assert text == mermaid(process, "en"), "deterministic"
    assert text.startswith('---\ntitle: "Simple fix (simple_fix)"\n---\nstateDiagram-v2\n')
    for name, state in process.states.items():
        paused = " · SLA paused" if state.sla_paused and not state.final else ""
        assert f'state "{state.label["en"]} ({name}){paused}" as {name}' in text
        assert (f"{name} --> [*]" in text) is state.final
    assert f"[*] --> {process.entry}" in text
    assert "in_progress --> resolved: resolve [auto] when all_tasks_done" in text
    assert re.search(r"new --> in_progress: .*verify \(dispatcher\)", text)
    assert "in_progress --> new: task withdrawn" in text
    assert "to_" not in text
    assert mermaid(process, "pl") != text


def test_graph_shows_timers_pauses_duplicates_and_task_fan_out(sketch: CompiledTenant) -> None:
    process = sketch.processes["simple_fix"]
    text = mermaid(process, "en")
    for timer in process.timers:
        node = f"timer_{timer.name}"
        assert f"class {node} s_timer" in text  # drawn dashed (classDef s_timer … stroke-dasharray)
        assert f"{timer.state} --> {node}: after {timer.after}" in text
        if timer.transition is not None:
            assert f"{node} --> {process.transitions[timer.transition].dest}: {timer.transition}" in text
    assert "classDef s_timer fill:white,color:black,stroke-dasharray:5 5" in text
    for name, state in process.states.items():
        assert (f"class {name} s_paused" in text) is (state.sla_paused and not state.final)
    assert f"any_open_state --> {process.duplicate_state}: mark_duplicate" in text
    assert "note right of in_progress : verify opens a task for the category's unit" in text


def test_graph_notes_parallel_tasks_and_their_units() -> None:
    zgierz, errors = check_tenant(REPO_ROOT / "tenants" / "zgierz", Settings.from_env().definitions_dir)
    assert zgierz is not None, errors.render()
    process = zgierz.processes["multi_unit"]
    verify = process.transitions["verify"]
    units = [c.args.unit.unit or "the category's unit" for c in verify.effects if c.name == "create_task"]
    assert len(units) >= 2
    assert f"verify opens tasks in parallel for {', '.join(units)}" in mermaid(process, "pl")


# -- explain --------------------------------------------------------------------


def test_sketch_explain_snapshot(sketch: CompiledTenant) -> None:
    assert_snapshot("sketch_explain.txt", explain(sketch, "pl"))


def test_explain_sketch_sections(sketch: CompiledTenant) -> None:
    text = explain(sketch, "en")
    for heading in ("Routing", "Process simple_fix (Simple fix)", "Notifications", "Timers", "Units", "Roles"):
        assert f"\n{heading}\n{'=' * len(heading)}\n" in text
    assert re.search(r"pothole \(Pothole\)\s+simple_fix\s+roads \(Drogi\)\s+normal\s+\S", text)
    assert re.search(r"in_progress\s+resolve\s+resolved\s+automatic \(when all_tasks_done\)", text)
    assert re.search(r"new\s+verify\s+in_progress\s+dispatcher\s+-", text)
    assert re.search(r"resolved\s+reopen\s+in_progress\s+dispatcher \(when resolved_within\(30 days\)\)\s+"
                     r"public_comment", text)
    assert all(line == line.rstrip() for line in text.splitlines())


RICH = """
tenant:
  slug: rich
  name: {pl: Bogate, en: Rich}
  number_prefix: RI
  map: {center: [51.85, 19.40], bounds: {south: 51.8, west: 19.3, north: 51.9, east: 19.5}}
units:
  office: {name: Urząd}
  roads: {name: Drogi, parent: office}
  lighting: {name: Oświetlenie, parent: roads}
  guard: {name: Straż Miejska, external: true, accounts: false, email: sm@example.pl}
roles:
  dispatcher: {name: Dyspozytor, sees: all, edits_tickets: true}
  worker: {name: Pracownik, sees: unit}
category_groups:
  streets: {name: {pl: Ulice, en: Streets}, order: 1}
  order: {name: {pl: Porządek, en: Order}, order: 0}
templates:
  done: {subject: Done, text: Done}
  waiting: {subject: Waiting, text: Waiting}
notifications:
  public_change: {on: ticket_public_status_changed, to: [followers], template: done, channels: [push, inbox]}
  guard_only: {on: task_assigned, to: task_unit, template: waiting, categories: [litter]}
categories:
  lamp:
    name: {pl: Latarnia, en: Street lamp}
    group: streets
    process: fix
    unit: lighting
    sla: {verify: 1 business day, resolve: 10 business days, by_priority: {urgent: {resolve: 2 business days}}}
  litter:
    name: {pl: Śmieci, en: Litter}
    group: order
    process: fix
    unit: guard
    sla: {resolve: 3 days}
processes:
  fix:
    states:
      new: {public: open, label: {pl: Nowe, en: New}}
      work: {public: open, label: {pl: Praca, en: Work}, on_withdraw: new}
      done: {public: closed, final: true, label: {pl: Gotowe, en: Done}}
    transitions:
      start:
        from: new
        to: work
        by: [dispatcher, worker@unit:roads]
        requires: [internal_comment]
        effects:
          - create_task: {unit: category.unit, due: category.sla.resolve}
          - notify: {to: [reporter, role:worker@responsible_unit], template: waiting, channels: [email, push]}
      finish: {from: work, to: done, automatic: true, when: all_tasks_done}
    timers:
      nag: {state: work, after: 2 weeks, effects: [{notify: {to: unit:office, template: waiting}}]}
"""


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> CompiledTenant:
    folder = tmp_path_factory.mktemp("tenants") / "rich"
    folder.mkdir()
    (folder / "tenant.yaml").write_text(textwrap.dedent(RICH), encoding="utf-8")
    compiled, errors = check_tenant(folder, None)
    assert compiled is not None, errors.render()
    return compiled


def _section(text: str, heading: str) -> list[str]:
    body = text.split(f"\n{heading}\n{'=' * len(heading)}\n", 1)[1]
    return body.split("\n\n", 1)[0].splitlines()


def test_explain_routing_orders_groups_and_shows_priority_overrides(rich: CompiledTenant) -> None:
    rows = _section(explain(rich, "en"), "Routing")[2:]
    assert re.match(r"\s+order \(Order\)\s+litter \(Litter\)\s+fix\s+guard \(Straż Miejska\)\s+normal\s+-\s+3 days$",
                    rows[0])
    assert re.match(r"\s+streets \(Streets\)\s+lamp \(Street lamp\)\s+fix\s+lighting \(Oświetlenie\)\s+normal\s+"
                    r"1 business day\s+10 business days$", rows[1])
    assert re.match(r"\s+if urgent\s+1 business day\s+2 business days$", rows[2])
    assert len(rows) == 3


def test_explain_units_tree_and_external(rich: CompiledTenant) -> None:
    rows = _section(explain(rich, "pl"), "Units")[2:]
    names = [re.match(r"  ( *\S+)", r).group(1) for r in rows]  # type: ignore[union-attr]
    assert names == ["office", "  roads", "    lighting", "guard"]
    assert rows[-1].endswith("external, no accounts: tasks by e-mail; e-mail sm@example.pl")


def test_explain_permissions_notifications_timers_roles(rich: CompiledTenant) -> None:
    text = explain(rich, "en")
    assert re.search(r"new\s+start\s+work\s+dispatcher, worker@unit:roads\s+internal_comment", text)
    assert re.search(r"work\s+finish\s+done\s+automatic \(when all_tasks_done\)\s+-", text)
    assert re.search(r"done\s+-\s+-\s+\(no way out\)", text)
    assert re.search(r"public_change\s+ticket_public_status_changed\s+followers\s+done\s+push, inbox\s+all", text)
    assert re.search(r"guard_only\s+task_assigned\s+task_unit\s+waiting\s+email\s+litter", text)
    assert re.search(r"fix\.start\s+reporter, role:worker@responsible_unit\s+waiting\s+email, push", text)
    assert re.search(r"fix timer nag \(work, after 2 weeks\)\s+unit:office\s+waiting\s+default \(email\)", text)
    assert re.search(r"fix\s+nag\s+work\s+2 weeks\s+notify\(to=\[unit:office\], template=waiting\)", text)
    assert re.search(r"dispatcher\s+Dyspozytor\s+all: every ticket\s+edits tickets", text)
    assert "  worker: fix (start@unit:roads)" in text
    assert "  dispatcher: fix (start)" in text


def test_table_aligns_columns() -> None:
    out = table(["a", "long header"], [["xxxx", "1"], ["y", "22"]], indent="")
    assert out.splitlines() == ["a     long header", "----  -----------", "xxxx  1", "y     22"]
    assert table(["a"], []) == "  (none)"


# -- the commands -----------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def tenants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tenants folder holding the sketch tenant and a broken one."""
    root = tmp_path / "tenants"
    shutil.copytree(sketch_dir(), root / "sketch")
    (root / "broken").mkdir()
    (root / "broken" / "tenant.yaml").write_text("tenant:\n  slug: broken\n  nme: x\n", encoding="utf-8")
    monkeypatch.setenv("KOMUNIKATOR_TENANTS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


def test_cli_explain_by_slug_and_path(tenants: Path, sketch: CompiledTenant) -> None:
    result = runner.invoke(app, ["explain", "sketch"])
    assert result.exit_code == 0, result.output
    by_path = runner.invoke(app, ["explain", str(tenants / "sketch"), "--locale", "en"])
    assert by_path.exit_code == 0, by_path.output
    # the copy compiles to the same tenant, so the report is the library call's
    assert result.stdout == explain(sketch, "pl")
    assert by_path.stdout == explain(sketch, "en")


def test_cli_graph(tenants: Path, sketch: CompiledTenant) -> None:
    result = runner.invoke(app, ["graph", "sketch", "simple_fix", "--locale", "en"])
    assert result.exit_code == 0, result.output
    assert result.stdout == mermaid(sketch.processes["simple_fix"], "en")


def test_cli_graph_unknown_process(tenants: Path) -> None:
    result = runner.invoke(app, ["graph", "sketch", "simple_fx"])
    assert result.exit_code == 2
    assert result.stderr == "tenant sketch: unknown process 'simple_fx'; did you mean 'simple_fix'?\n"
    result = runner.invoke(app, ["graph", "sketch", "zzz"])
    assert result.exit_code == 2
    assert result.stderr.startswith("tenant sketch: unknown process 'zzz'; known: ")
    assert "simple_fix" in result.stderr
    assert result.stdout == ""


def test_cli_broken_tenant_prints_errors(tenants: Path) -> None:
    for args in (["explain", "broken"], ["graph", "broken", "simple_fix"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert "tenants/broken/tenant.yaml:3:3: tenant.nme: unknown key 'nme'; did you mean 'name'?" in lines
        assert all(re.match(r"^tenants/broken/tenant\.yaml:\d+:\d+: \S", line) for line in lines), lines
        assert re.fullmatch(r"\d+ error\(s\) found\n", result.stderr)
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)


def test_cli_unknown_tenant(tenants: Path) -> None:
    result = runner.invoke(app, ["explain", "skecth"])
    assert result.exit_code == 2
    assert result.stderr.startswith("unknown tenant 'skecth'; did you mean 'sketch'?")
    result = runner.invoke(app, ["explain", "--locale", "de", "sketch"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
