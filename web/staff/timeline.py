"""The ticket's history (`reading.history`) in a clerk's words: who, when, what changed from → to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from babel.support import Translations

from komunikator.engine.compiled import CompiledTenant
from komunikator.web.staff import words
from komunikator.web.staff.i18n import localized, when


@dataclass
class Entry:
    """One event of the timeline."""

    at: str
    heading: str
    actor: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    reason: str | None = None
    comment: str | None = None
    visibility: str | None = None
    internal: bool = False


class Namer:
    """Turns the engine's names (states, units, categories, users) into their labels."""

    def __init__(self, tenant: CompiledTenant, process: str, language: str, t: Translations,
                 users: dict[str, str], category: str | None = None) -> None:
        self.tenant, self.process, self.language, self.t, self.users = tenant, process, language, t, users
        found = tenant.categories.get(category) if category else None
        self.attributes = found.spec.attributes if found is not None else {}

    def state(self, name: Any) -> str:
        for process in (self.tenant.processes.get(self.process), *self.tenant.processes.values()):
            if process is not None and name in process.states:
                return localized(process.states[name].label, self.language)
        return str(name)

    def value(self, key: str, value: Any) -> str:
        """A field's value as words."""
        if value is None or value == "":
            return "—"
        if key.startswith("attributes."):
            spec = self.attributes.get(key.removeprefix("attributes."))
            if spec is not None and spec.values and str(value) in spec.values:
                return localized(spec.values[str(value)], self.language)
            return str(value)
        if key == "state":
            return self.state(value)
        if key in ("unit", "responsible_unit") and value in self.tenant.units:
            return localized(self.tenant.units[value].name, self.language)
        if key == "category" and value in self.tenant.categories:
            return localized(self.tenant.categories[value].spec.name, self.language)
        if key == "process" and value in self.tenant.processes:
            label = self.tenant.processes[value].label
            return localized(label, self.language) if label else str(value)
        if key == "priority" and value in words.PRIORITIES:
            return self.t.gettext(words.PRIORITIES[value])
        if key == "assignee":
            return self.users.get(str(value), str(value))
        if key == "task.state":
            return self.t.gettext(words.TASK_STATES.get(str(value), str(value)))
        if key.endswith("_at") and isinstance(value, str):
            try:
                return when(value, self.language, self.tenant.config.time_zone)
            except ValueError:
                return value
        return str(value)

    def field(self, key: str) -> str:
        if key.startswith("attributes."):
            spec = self.attributes.get(key.removeprefix("attributes."))
            return localized(spec.label, self.language) if spec is not None else key.removeprefix("attributes.")
        return self.t.gettext(words.FIELDS[key]) if key in words.FIELDS else key


def _reason(text: str | None, t: Translations) -> str | None:
    """A reason in the user's language when the engine wrote it; a person's reason as written."""
    if text is None or text == "":
        return text
    if text in words.ENGINE_REASONS:
        return t.gettext(words.ENGINE_REASONS[text])
    withdrawn = re.fullmatch(r"task (\S+) was withdrawn", text)
    if withdrawn:
        return t.gettext(words.ENGINE_REASONS["task %(task)s was withdrawn"]) % {"task": withdrawn.group(1)}
    return text


def _heading(event: dict[str, Any], tenant: CompiledTenant, process: str, namer: Namer) -> str:
    action = event["action"]
    t = namer.t
    if action in words.EVENTS:
        task = (event.get("before") or {}).get("task") if action == "task_cancel" else None
        return t.gettext(words.EVENTS[action]) + (f" {task}" if isinstance(task, str) else "")
    transition = tenant.processes[process].transitions.get(action) if process in tenant.processes else None
    if transition is not None and transition.label:
        return localized(transition.label, namer.language)
    return t.gettext("Status changed") if "state" in (event.get("after") or {}) else action


def entries(history: list[dict[str, Any]], tenant: CompiledTenant, process: str, language: str,
            t: Translations, users: dict[str, str], category: str | None = None,
            photos: dict[int, str] | None = None) -> list[Entry]:
    """The timeline, newest first; `photos` names the photos the user sees ("Photo 2") by id."""
    namer = Namer(tenant, process, language, t, users, category)
    out = []
    for event in history:
        actor = event["actor"]
        who = actor.get("name") or (t.gettext("System") if actor.get("kind") == "system" else t.gettext("Resident"))
        entry = Entry(event["at"], _heading(event, tenant, process, namer), who, reason=_reason(event.get("reason"), t))
        before, after = event.get("before") or {}, event.get("after") or {}
        if event["action"] == "comment":
            comment = event.get("comment") or {}
            entry.comment = comment.get("body")
            visibility = comment.get("visibility") or after.get("visibility")
            visibility = str(visibility or "")
            entry.visibility = t.gettext(words.VISIBILITY.get(visibility, visibility))
            entry.internal = visibility == "internal"
        elif event["action"].startswith("attachment_"):  # which photo; the reason is the event's own
            photo = (after or before).get("attachment")
            shown = (photos or {}).get(photo) if isinstance(photo, int) else None
            entry.changes = [(t.gettext("Photo"), "", shown or t.gettext("a photo you do not see"))]
        elif event["action"] == "submit":
            entry.changes = [(namer.field("category"), "", namer.value("category", after.get("category")))]
        else:
            for key in after:
                old, new = before.get(key), after.get(key)
                kind = "task.state" if key == "state" and event["action"] in words.TASK_EVENTS else key
                if old != new:  # a value the event did not have before is shown as set, not as "— →"
                    entry.changes.append((namer.field(key), namer.value(kind, old) if key in before else "",
                                          namer.value(kind, new)))
        out.append(entry)
    return list(reversed(out))
