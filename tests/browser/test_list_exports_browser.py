"""A big export in Chromium: asked for on the list page, followed by htmx polling under the strict CSP, downloaded.

The inline limit is set to one row (so Zgierz's few tickets make a "big"
list); the server runs no jobs (`KOMUNIKATOR_JOBS=off`), so the test runs the
`exports` job itself on the same database and folder while the page polls:
the page must notice by itself (htmx, no inline script, no CSP violation),
then offer the file. axe-core on both states; screenshots at desktop and
phone widths.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from browser_helpers import World, axe_violations, open_tab, shoot, sign_in

from komunikator.engine.lists import jobs

pytestmark = pytest.mark.anyio

_FETCH = """async (url) => {
  const answer = await fetch(url, {credentials: "same-origin"});
  if (!answer.ok) throw new Error("download failed: " + answer.status);
  const bytes = new Uint8Array(await answer.arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""


@pytest.fixture
def small_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Set before the server starts (the `world` fixture copies this environment)."""
    folder = tmp_path / "exports"
    monkeypatch.setenv(jobs.INLINE_ENV, "1")
    monkeypatch.setenv(jobs.DIR_ENV, str(folder))
    return folder


async def test_a_background_export_is_followed_and_downloaded(small_exports: Path, world: World,
                                                              browser: Any) -> None:
    assert world.registry is not None
    tab = await open_tab(browser)
    page = tab.page
    await sign_in(tab, world, "dispatcher", "/staff/lists/tickets")
    await page.goto(world.url("/staff/lists/tickets"))
    assert await page.locator(".list-exports a").count() == 0  # a big list: no inline links
    assert await axe_violations(tab) == []
    await shoot(tab, "lists-export-offer")
    await page.locator("form.list-exports button[value=xlsx]").click()
    await page.wait_for_url("**/staff/exports/*")
    assert await page.locator("progress").count() == 1
    assert await axe_violations(tab) == []
    await shoot(tab, "lists-export-waiting")

    written = await jobs.run_exports(world.registry, now=datetime.now(UTC))  # what the runner would do
    assert written == 1
    link = page.locator("#export-status a[href$='/file']")
    await link.wait_for(timeout=15_000)  # htmx re-read the status box by itself
    assert await page.locator("progress").count() == 0
    assert await axe_violations(tab) == []
    await shoot(tab, "lists-export-ready")
    content = base64.b64decode(await page.evaluate(_FETCH, await link.get_attribute("href")))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.max_row >= 3  # the heading and the city's tickets
    assert tab.csp_violations() == []
