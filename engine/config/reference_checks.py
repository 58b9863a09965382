"""Checks that the values pointing at units, roles, SLAs and templates resolve."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.config.validation import Validated
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.base import ID_PATTERN
from komunikator.engine.schema.refs import ActorRef, DueRef, Recipient, UnitTarget

VALID_ID = re.compile(ID_PATTERN)


def unknown(kind: str, name: object, known: Iterable[str]) -> str:
    """`unknown unit 'raods'; did you mean 'roads'?` (or the list of known names)."""
    names = sorted(known)
    close = difflib.get_close_matches(str(name), names, n=1)
    if close:
        return f"unknown {kind} {name!r}; did you mean {close[0]!r}?"
    if not names:
        return f"unknown {kind} {name!r} (none are defined)"
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"unknown {kind} {name!r}; known: {shown}"


@dataclass
class RefChecker:
    """Resolves references against the validated configuration."""

    validated: Validated
    tree: Tree
    errors: ErrorList
    #: SLA names used through `category.sla.NAME`, per process
    slas_used: dict[str, set[str]] = field(default_factory=dict)
    #: template → the processes whose effects send it (for rendering it against a ticket's variables)
    templates_sent: dict[str, set[str]] = field(default_factory=dict)
    #: every bound call's arguments with the process and the place they were written (for checks across entries)
    calls: list[tuple[str, Path_, BaseModel]] = field(default_factory=list)
    #: the registry (plugins' events, recipient forms, permissions) and the plugins the tenant enabled
    registry: Any = None
    enabled: frozenset[str] | None = None

    def has(self, section: str, name: str) -> bool:
        return self.validated.exists(section, name)

    def names(self, section: str) -> set[str]:
        """The names to suggest: entries written in `section` whose name is itself valid."""
        written = set(self.validated.entries.get(section, {})) | self.validated.broken.get(section, set())
        return {n for n in written if isinstance(n, str) and VALID_ID.match(n)}

    def ref(self, section: str, kind: str, name: str | None, path: Path_) -> bool:
        """Report `name` at `path` unless it names an entry of `section`.

        Held back (counted) while a file that may define `section` fails to load.
        """
        if name is None or self.has(section, name):
            return True
        self.errors.add_unless_unloaded(section, self.tree.where(path), path, unknown(kind, name, self.names(section)))
        return False

    def registered(self, kind: str, name: str | None, table: Mapping[str, Any], path: Path_) -> bool:
        """Report `name` at `path` unless the registry has it and, if a plugin's, the tenant enabled the plugin."""
        if name is None or self.registry is None:
            return True
        if name not in table:
            self.errors.add(self.tree.where(path), path, unknown(kind, name, table))
            return False
        owner = self.registry.owner(name)
        if owner is not None and self.enabled is not None and owner not in self.enabled:
            self.errors.add(self.tree.where(path), path, f"{kind} {name!r} comes from plugin {owner!r}, which is "
                            "not enabled; add it to `plugins:` in the tenant section")
            return False
        return True

    def recipient(self, value: Recipient, path: Path_) -> None:
        """Check the role, unit or plugin form a recipient names."""
        if value.role:
            self.ref("roles", "role", value.role, path)
        if value.unit:
            self.ref("units", "unit", value.unit, path)
        if value.kind == "plugin" and self.registry is not None:
            self.registered("recipient form", value.form, self.registry.recipients, path)

    def actor(self, actor: ActorRef, path: Path_) -> None:
        if actor.role is not None:
            self.ref("roles", "role", actor.role, path)
        if actor.scope == "unit":
            self.ref("units", "unit", actor.unit, path)

    def walk_args(self, args: BaseModel, path: Path_, process: str | None, shorthand: str | None = None) -> None:
        """Check every reference inside an effect's or condition's arguments.

        `shorthand` names the field written as the whole argument
        (`set_due: category.sla.resolve`), so its errors point at `path`.
        """
        if process is not None:
            self.calls.append((process, path, args))
        for name in type(args).model_fields:
            self._value(getattr(args, name), path if name == shorthand else (*path, name), name, process)

    def due(self, value: DueRef, path: Path_, process: str | None) -> None:
        """Check a deadline or timer duration; note the category SLAs a process relies on."""
        if value.sla is None:
            return
        if value.sla not in ("verify", "resolve"):
            self.errors.add(
                self.tree.where(path), path, f"unknown SLA {value.sla!r}; categories define verify and resolve"
            )
        elif process is not None:
            self.slas_used.setdefault(process, set()).add(value.sla)

    def _value(self, value: Any, path: Path_, field_name: str, process: str | None) -> None:
        if isinstance(value, list | tuple):
            for i, item in enumerate(value):
                self._value(item, (*path, i), field_name, process)
        elif isinstance(value, UnitTarget):
            self.ref("units", "unit", value.unit, path)
        elif isinstance(value, Recipient):
            self.recipient(value, path)
        elif isinstance(value, DueRef):
            self.due(value, path, process)
        elif isinstance(value, BaseModel):
            self.walk_args(value, path, process)
        elif field_name == "template" and isinstance(value, str):
            self.ref("templates", "template", value, path)
            if process is not None:
                self.templates_sent.setdefault(value, set()).add(process)
