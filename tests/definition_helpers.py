"""A changed copy of the shipped configuration, for the definition-change tests (HTTP and CLI)."""

from __future__ import annotations

import shutil
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


def changed_config(root: Path, zgierz_change: str | None = None, *, library_edit: tuple[str, str] | None = None
                   ) -> Settings:
    """Copy definitions/ and tenants/ under `root`, add `zgierz_change` as a Zgierz file, edit the library.

    `library_edit` is (old, new) text replaced in the library's simple_fix.yaml.
    """
    definitions, tenants = root / "definitions", root / "tenants"
    shutil.copytree(REPO_ROOT / "definitions", definitions, dirs_exist_ok=True)
    shutil.copytree(REPO_ROOT / "tenants", tenants, dirs_exist_ok=True)
    if zgierz_change is not None:
        (tenants / "zgierz" / CHANGE_FILE).write_text(zgierz_change, encoding="utf-8")
    if library_edit is not None:
        process = definitions / "processes" / "simple_fix.yaml"
        text = process.read_text(encoding="utf-8")
        assert library_edit[0] in text
        process.write_text(text.replace(library_edit[0], library_edit[1]), encoding="utf-8")
    return Settings(definitions_dir=definitions, tenants_dir=tenants)


def changed_registry(settings: Settings) -> TenantRegistry:
    """The changed configuration, compiled."""
    return TenantRegistry.load(settings)


#: The library's two simple_fix timers, in the shipped order, and swapped (named, so nothing re-points).
TIMERS = """\
      remind_dispatcher:   # nobody verified the report within a working day
        state: new
        after: 1 business day
        effects:
          - notify: {to: "role:dispatcher", template: ticket_waiting}
      resume_unanswered:   # the reporter did not answer: carry on without it
        state: waiting_for_resident
        after: 14 days
        fire: resume
"""
SWAPPED = """\
      resume_unanswered:
        state: waiting_for_resident
        after: 14 days
        fire: resume
      remind_dispatcher:
        state: new
        after: 1 business day
        effects:
          - notify: {to: "role:dispatcher", template: ticket_waiting}
"""
