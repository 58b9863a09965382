"""`komunikator graph` output parses and renders in real Mermaid (vendored, run in Chromium).

Every process of every shipped tenant, and the sketch fixture, in both
locales: `mermaid.parse` must accept the text and `mermaid.render` must
draw each state, timer and note it names. An implementer pastes this
output into Markdown; a syntax Mermaid refuses would show them nothing.
"""

from __future__ import annotations

from pathlib import Path

from browser_helpers import CHROMIUM_ARGS

from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.config.machines import mermaid

REPO = Path(__file__).resolve().parents[2]
MERMAID = REPO / "web" / "staff" / "static" / "vendor" / "mermaid@12.4.0" / "mermaid.min.js"

_RENDER = """async (src) => {
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
  try {
    await mermaid.parse(src);
    const {svg} = await mermaid.render('graph' + Math.floor(Math.random() * 1e9), src);
    return {ok: true, svg};
  } catch (e) {
    return {ok: false, error: String(e && e.message || e)};
  }
}"""


def _graphs() -> list[tuple[str, str]]:
    folders = [*sorted(p for p in (REPO / "tenants").iterdir() if (p / "tenant.yaml").exists()),
               REPO / "tests" / "fixtures" / "tenants" / "sketch"]
    out = []
    for folder in folders:
        tenant = compile_tenant(folder, REPO / "definitions", default_registry())
        for name, process in sorted(tenant.processes.items()):
            for locale in ("pl", "en"):
                out.append((f"{folder.name}/{name}/{locale}", mermaid(process, locale)))
    return out


def test_every_graph_parses_and_renders(chromium: Path) -> None:
    from playwright.sync_api import sync_playwright

    graphs = _graphs()
    assert len(graphs) >= 8
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content("<!DOCTYPE html><html><body></body></html>")
            page.add_script_tag(path=str(MERMAID))
            for name, source in graphs:
                result = page.evaluate(_RENDER, source)
                assert result["ok"], f"{name}: Mermaid refused the graph: {result.get('error')}\n{source}"
                svg = result["svg"]
                assert "any open state" in svg, name
                for line in source.splitlines():
                    if line.strip().startswith("state ") and " as timer_" in line:
                        label = line.split('"')[1]
                        assert label.split(":")[0] in svg, f"{name}: the timer {label!r} is not drawn"
                    if line.strip().startswith("note "):
                        first = line.split(" : ", 1)[1].split("<br/>")[0]
                        assert first.split(" for ")[0] in svg, f"{name}: the note {first!r} is not drawn"
        finally:
            browser.close()


def test_a_broken_graph_is_refused(chromium: Path) -> None:
    """The check can fail: Mermaid refuses what state diagrams cannot say (a link style)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content("<!DOCTYPE html><html><body></body></html>")
            page.add_script_tag(path=str(MERMAID))
            result = page.evaluate(_RENDER, "stateDiagram-v2\n  a --> b: x\n  linkStyle 0 stroke-dasharray: 5 5\n")
            assert not result["ok"]
        finally:
            browser.close()

