"""What a staff member reads of a ticket: its capabilities applied to the responses.

The runtime's `capabilities` decides (from the roles' YAML) whether the user
reads the reporter's contact, internal comments, other units' tasks and the
full history; this module applies that answer to the ticket JSON and to the
history, so every response says the same (`reading.py` and the history
endpoint use it).

Without `full_history` a member reads, of the history: that the report was
filed (category and channel; its text as filed may hold what the office has
since removed), state changes (without their reason, which may be an
internal comment), the events of the tasks they may read, and the comments
they may read. Edits (whose old values may hold what the office removed),
reclassifications, photo hides and the engine's bookkeeping are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from komunikator.engine.runtime.capabilities import Capabilities

#: History actions shown to members without `full_history`, besides state changes, tasks and comments.
_SHOWN_TO_ALL = frozenset({"submit"})
#: Of the report as filed, members without `full_history` read these (the ticket shows its current text).
_SUBMIT_SHOWN = frozenset({"category", "channel"})


def capabilities_json(caps: Capabilities) -> dict[str, Any]:
    """The capabilities as the staff ticket JSON carries them (actions are listed beside, per ticket and task)."""
    return {
        "edit": caps.edit,
        "comment_kinds": list(caps.comment_kinds),
        "photo_kinds": list(caps.photo_kinds),
        "hide_photos": caps.hide_photos,
        "reads": {
            "reporter_contact": caps.reporter_contact,
            "internal_comments": caps.internal_comments,
            "other_tasks": caps.other_tasks,
            "full_history": caps.full_history,
        },
        "refused": {what: {"error": r.code, "message": r.message} for what, r in sorted(caps.refusals.items())},
    }


def _is_state_change(event: Mapping[str, Any]) -> bool:
    before, after = event.get("before") or {}, event.get("after") or {}
    return set(before) == {"state"} and set(after) == {"state"}


def _task_units(event: Mapping[str, Any], task_units: Mapping[str, str]) -> set[str]:
    """The units a task event is about: the units it names and the unit of the task it names."""
    units: set[str] = set()
    for side in (event.get("before") or {}, event.get("after") or {}):
        if isinstance(side.get("unit"), str):
            units.add(side["unit"])
        if isinstance(side.get("task"), str) and side["task"] in task_units:
            units.add(task_units[side["task"]])
    return units


def history_entry(
    caps: Capabilities, entry: dict[str, Any], *, comment: Mapping[str, Any] | None, by_user: bool,
    task_units: Mapping[str, str],
) -> dict[str, Any] | None:
    """`entry` as this user reads it, or None if they may not read it.

    `comment` is the comment a `comment` entry is about (visibility, task unit,
    target unit); `task_units` maps the ticket's task keys to their units.
    """
    action = str(entry.get("action"))
    if action == "comment":
        if comment is None:
            return entry if caps.full_history else None
        readable = caps.sees_comment(str(comment["visibility"]), by_user=by_user, task_unit=comment.get("task_unit"),
                                     target_unit=comment.get("target_unit"))
        return entry if readable else None
    if action.startswith("task_"):
        units = _task_units(entry, task_units)
        return entry if caps.other_tasks or any(caps.sees_unit_work(u) for u in units) else None
    if caps.full_history:
        return entry
    if _is_state_change(entry):
        return {**entry, "reason": None}
    if action in _SHOWN_TO_ALL:
        # what was filed, not how: the text as filed may hold what the office has since removed
        after = {k: v for k, v in (entry.get("after") or {}).items() if k in _SUBMIT_SHOWN}
        return {**entry, "after": after}
    return None


__all__ = ["capabilities_json", "history_entry"]
