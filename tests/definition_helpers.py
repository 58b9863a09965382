"""A changed copy of the shipped configuration, for the definition-change tests (HTTP and CLI)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from komunikator.engine.settings import REPO_ROOT, Settings
from komunikator.engine.tenants import TenantRegistry

#: Zgierz drops `waiting_for_resident` from simple_fix (and what leads in and out of it).
DROP_WAITING = """\
processes:
  simple_fix:
    states:
      waiting_for_resident: {disabled: true}
    transitions:
      ask_resident: {disabled: true}
      resident_answered: {disabled: true}
      resume: {disabled: true}
      reject: {from: [new, in_progress]}
    timers:
      resume_unanswered: {disabled: true}
"""

#: The same, saying where the tickets of the dropped state go.
DROP_WAITING_MAPPED = DROP_WAITING + """\
    state_map:
      waiting_for_resident: in_progress
"""

CHANGE_FILE = "zz_definition_change.yaml"


def changed_config(root: Path, zgierz_change: str | None = None, *,
                   library_edit: Callable[[str], str] | None = None) -> Settings:
    """Copy definitions/ and tenants/ under `root`, add `zgierz_change` as a Zgierz file, edit the library.

    `library_edit` rewrites the text of the library's simple_fix.yaml.
    """
    definitions, tenants = root / "definitions", root / "tenants"
    shutil.copytree(REPO_ROOT / "definitions", definitions, dirs_exist_ok=True)
    shutil.copytree(REPO_ROOT / "tenants", tenants, dirs_exist_ok=True)
    if zgierz_change is not None:
        (tenants / "zgierz" / CHANGE_FILE).write_text(zgierz_change, encoding="utf-8")
    if library_edit is not None:
        process = definitions / "processes" / "simple_fix.yaml"
        process.write_text(library_edit(process.read_text(encoding="utf-8")), encoding="utf-8")
    return Settings(definitions_dir=definitions, tenants_dir=tenants)


def changed_registry(settings: Settings) -> TenantRegistry:
    """The changed configuration, compiled."""
    return TenantRegistry.load(settings)


def swap_timers(text: str) -> str:
    """simple_fix.yaml with its two timers in the other order (the timers are the file's last section)."""
    first, second = text.index("      remind_dispatcher:"), text.index("      resume_unanswered:")
    assert first < second, "the shipped order: remind_dispatcher, then resume_unanswered"
    tail = text[second:] if text.endswith("\n") else text[second:] + "\n"
    return text[:first] + tail + text[first:second]


def rename_timer(text: str) -> str:
    """simple_fix.yaml with `resume_unanswered` renamed `carry_on`."""
    assert "      resume_unanswered:" in text
    return text.replace("      resume_unanswered:", "      carry_on:")
