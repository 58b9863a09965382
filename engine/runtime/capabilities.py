"""The one answer to "what may this user see and do with this ticket now".

`capabilities(tenant, ticket, user, now)` gathers, from the roles' YAML and
the process, everything the API checks and the UI draws: the ticket actions
(`allowed_actions`), each visible task's actions (`allowed_task_actions`),
editing, the comment kinds the user may add, photos (add by visibility,
hide), and what the user reads (the reporter's contact, internal comments,
other units' tasks, the full history). The service requires a capability
(`Capabilities.refusal(what)` says precisely why not); the staff ticket JSON
carries the same answer.

A role's reading rights and comment rights count only through memberships
that make the user see this ticket (a dispatcher who is also an external
firm's account reads as a dispatcher). A membership in an external unit, or
in a role that `sees: tasks`, comments only while a task of its unit is
active: it acts on its own tasks, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import covers, edits_tickets, seeing_memberships, sees_ticket
from komunikator.engine.runtime.actions import allowed_actions
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.configured import unconfigured
from komunikator.engine.runtime.outcome import Action, Refusal, TaskAction
from komunikator.engine.runtime.tasks import allowed_task_actions
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.schema.org import COMMENT_KINDS, CommentKind

PhotoKind = Literal["internal", "public"]
PHOTO_KINDS: tuple[PhotoKind, ...] = ("internal", "public")


@dataclass(frozen=True)
class TaskCapabilities:
    """A task the user may read, and what they may do to it now."""

    key: str
    unit: str
    actions: tuple[TaskAction, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """Everything one user may see and do on one ticket at one moment.

    The `refusals` say why each thing the user may not do is refused
    (keys: `edit`, `comment:<kind>`, `photo:<kind>`, `hide_photos`); the
    service turns them into 403 (forbidden) or 409 (not_available).
    """

    sees_ticket: bool
    actions: tuple[Action, ...] = ()
    tasks: tuple[TaskCapabilities, ...] = ()
    edit: bool = False
    comment_kinds: tuple[CommentKind, ...] = ()
    photo_kinds: tuple[PhotoKind, ...] = ()
    hide_photos: bool = False
    reporter_contact: bool = False
    internal_comments: bool = False
    other_tasks: bool = False
    full_history: bool = False
    #: units the user's memberships cover (their own units and those below)
    own_units: frozenset[str] = frozenset()
    refusals: Mapping[str, Refusal] = field(default_factory=lambda: MappingProxyType({}))

    def task(self, key: str) -> TaskCapabilities | None:
        """The task with this key if the user may read it."""
        return next((t for t in self.tasks if t.key == key), None)

    def sees_unit_work(self, unit: str | None) -> bool:
        """Whether the user reads work (tasks, messages) of `unit`: their own units', or all with `other_tasks`."""
        return self.other_tasks or (unit is not None and unit in self.own_units)

    def sees_comment(self, visibility: str, *, by_user: bool, task_unit: str | None, target_unit: str | None) -> bool:
        """Whether the user reads a comment: public ones always, others by role, own, or about their units."""
        if visibility == "public" or self.internal_comments or by_user:
            return True
        return (task_unit is not None and task_unit in self.own_units) or (
            visibility == "to_unit" and target_unit is not None and target_unit in self.own_units
        )

    def refusal(self, what: str) -> Refusal | None:
        """Why `what` (`edit`, `comment:public`, `photo:internal`, `hide_photos` …) is refused; None if allowed."""
        allowed = {
            "edit": self.edit,
            "hide_photos": self.hide_photos,
            **{f"comment:{k}": k in self.comment_kinds for k in COMMENT_KINDS},
            **{f"photo:{k}": k in self.photo_kinds for k in PHOTO_KINDS},
        }
        if what not in allowed:
            return Refusal("unknown_action", f"no capability {what!r}")
        if allowed[what]:
            return None
        return self.refusals.get(what) or Refusal("forbidden", f"{what!r} is not allowed")


NOTHING = Capabilities(sees_ticket=False)


def capabilities(
    tenant: CompiledTenant, ticket: TicketView, user: UserView, now: datetime, calendar: WorkCalendar | None = None
) -> Capabilities:
    """What `user` may see and do on `ticket` at `now` (NOTHING if they may not see it)."""
    if not sees_ticket(tenant, user, ticket):
        return NOTHING
    actions = tuple(allowed_actions(tenant, ticket, user, now, calendar))
    closed = ticket.closed_at is not None if unconfigured(tenant, ticket) else (
        tenant.processes[ticket.process].states[ticket.state].final)  # a state the configuration lost: as stored
    if user.kind == "system":
        tasks = tuple(TaskCapabilities(t.key, t.unit) for t in ticket.tasks)
        return Capabilities(True, actions, tasks, reporter_contact=True, internal_comments=True, other_tasks=True,
                            full_history=True, own_units=frozenset(tenant.units))
    relevant = seeing_memberships(tenant, user, ticket) if user.kind == "staff" else []
    roles = [(m, tenant.roles[m.role], tasks_only) for m, tasks_only in relevant]
    own = frozenset(u for m in user.memberships for u in tenant.unit_subtree.get(m.unit, frozenset()))
    other_tasks = any(r.sees_other_tasks for _, r, _ in roles)
    tasks = tuple(
        TaskCapabilities(t.key, t.unit, tuple(allowed_task_actions(tenant, ticket, t.key, user)))
        for t in ticket.tasks
        if other_tasks or t.unit in own
    )
    refusals: dict[str, Refusal] = {}

    edit = edits_tickets(tenant, user) and not closed
    if not edits_tickets(tenant, user):
        refusals["edit"] = Refusal("forbidden", "editing a ticket needs a role that edits tickets")
    elif closed:
        refusals["edit"] = Refusal("not_available", "a closed ticket cannot be edited")

    kinds: set[CommentKind] = set()
    open_kinds: set[CommentKind] = set()
    idle: set[CommentKind] = set()  # kinds a unit would have while its task is under way
    for m, role, tasks_only in roles:
        if tasks_only and not any(t.active and covers(tenant, m, t.unit) for t in ticket.tasks):
            idle.update(role.comments.closed if closed else role.comments.open)
            continue  # an external unit speaks only while its task is under way
        open_kinds.update(role.comments.open)
        kinds.update(role.comments.closed if closed else role.comments.open)
    for kind in COMMENT_KINDS:
        if kind in kinds:
            continue
        if closed and kind in open_kinds:
            refusals[f"comment:{kind}"] = Refusal("not_available", f"a closed ticket takes no {kind} comment "
                                                                   "from your role")
        elif kind in idle:
            refusals[f"comment:{kind}"] = Refusal("not_available", f"your unit adds {kind} comments only while "
                                                                   "its task is under way")
        else:
            refusals[f"comment:{kind}"] = Refusal("forbidden", f"your role may not add {kind} comments "
                                                               "to this ticket")
    comment_kinds = tuple(k for k in COMMENT_KINDS if k in kinds)
    # a photo is a comment with a picture: the same rights, by its visibility
    photo_kinds = tuple(k for k in PHOTO_KINDS if k in kinds)
    for kind in PHOTO_KINDS:
        if kind not in kinds:
            base = refusals[f"comment:{kind}"]
            refusals[f"photo:{kind}"] = Refusal(base.code, base.message.replace("comment", "photo"))
    hide = edits_tickets(tenant, user)
    if not hide:
        refusals["hide_photos"] = Refusal("forbidden", "hiding or showing a photo needs a role that edits tickets")
    own_ticket = user.kind == "resident"  # a resident reads their own report, contact included
    return Capabilities(
        sees_ticket=True,
        actions=actions,
        tasks=tasks,
        edit=edit,
        comment_kinds=comment_kinds,
        photo_kinds=photo_kinds,
        hide_photos=hide,
        reporter_contact=own_ticket or any(r.sees_reporter_contact for _, r, _ in roles),
        internal_comments=any(r.sees_internal_comments for _, r, _ in roles),
        other_tasks=other_tasks,
        full_history=any(r.sees_full_history for _, r, _ in roles),
        own_units=own,
        refusals=MappingProxyType(refusals),
    )


__all__ = ["NOTHING", "PHOTO_KINDS", "Capabilities", "PhotoKind", "TaskCapabilities", "capabilities"]
