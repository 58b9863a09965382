"""`komunikator explain`: what the engine understood from a tenant's YAML.

A plain-text report, deterministic and readable in a terminal: the routing
table, each process's states and permission matrix, the notification rules
and the effects that notify, the timers, the units as a tree and the roles.
Headings are in English (the report is for implementers); labels and names
come in the requested locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from komunikator.engine.compiled import (
    BoundCall,
    CompiledCategory,
    CompiledProcess,
    CompiledTenant,
)
from komunikator.engine.schema.base import text_for
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.engine.schema.org import TASK_ACTION_NAMES, Role, Unit

NONE = "-"

_SEES = {
    "all": "every ticket",
    "unit": "tickets their units (and child units) handle or answer for",
    "tasks": "only tasks addressed to their unit",
}


@dataclass(frozen=True)
class Table:
    """One table of the report: its column headers and rows of text (the staff pages draw the same)."""

    headers: tuple[str, ...]
    rows: list[list[str]]

    def text(self, indent: str = "  ") -> str:
        """The table as aligned plain text."""
        return table(self.headers, self.rows, indent)


def explain(tenant: CompiledTenant, locale: str = "pl") -> str:
    """The whole report for one compiled tenant, labels in `locale`."""
    parts = [
        _header(tenant, locale),
        _routing(tenant, locale),
        *(_process(tenant, p, locale) for p in tenant.processes.values()),
        _notifications(tenant),
        _timers(tenant),
        _units(tenant, locale),
        _roles(tenant, locale),
    ]
    if tenant.plugin_settings:
        parts.append(_plugins(tenant))
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


# -- formatting helpers ---------------------------------------------------------


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> str:
    """Rows aligned in columns under their headers (the last column is not padded)."""
    rows = [list(r) for r in rows]
    if not rows:
        return f"{indent}(none)"
    widths = [max(len(str(r[i])) for r in [list(headers), *rows]) for i in range(len(headers))]
    rule = ["-" * w for w in widths]
    lines = []
    for row in [list(headers), rule, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _heading(title: str) -> str:
    return f"{title}\n{'=' * len(title)}"


def _label(text: Mapping[Any, str] | None, locale: str) -> str:
    return text_for(dict(text), locale) if text else ""


def _named(name: str, text: Mapping[Any, str] | None, locale: str) -> str:
    label = _label(text, locale)
    return f"{name} ({label})" if label and label != name else name


def _value(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        if value and set(value) <= {"pl", "en", "*"}:
            return text_for(value, locale)
        return "{" + ", ".join(f"{k}: {_value(v, locale)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, locale) for v in value) + "]"
    return str(value)


def call_text(call: BoundCall, locale: str = "pl") -> str:
    """`create_task(unit=category.unit, due=category.sla.resolve)`; one argument shows bare."""
    if call.args is None:
        return call.name
    data = call.args.model_dump(mode="json", exclude_none=True, by_alias=True)
    if not data:
        return call.name
    if len(data) == 1:
        return f"{call.name}({_value(next(iter(data.values())), locale)})"
    return f"{call.name}(" + ", ".join(f"{k}={_value(v, locale)}" for k, v in data.items()) + ")"


def _join(items: Iterable[str]) -> str:
    return ", ".join(items) or NONE


# -- sections ---------------------------------------------------------------------


def _header(tenant: CompiledTenant, locale: str) -> str:
    c = tenant.config
    lines = [
        _heading(f"Tenant {tenant.slug}: {_label(c.name, locale)}"),
        f"version {tenant.version}, ticket numbers {c.number_prefix}-YYYY-NNNNNN",
        (f"locale {c.locale} (locales {', '.join(c.locales)}), time zone {c.time_zone}, "
         f"office hours {c.office_hours.opens}–{c.office_hours.closes} (SLA pauses count this time)"),
        f"plugins: {_join(c.plugins)}",
        (f"{len(tenant.units)} units, {len(tenant.roles)} roles, {len(tenant.categories)} categories, "
        f"{len(tenant.processes)} processes, {len(tenant.templates)} templates, "
        f"{len(tenant.notifications)} notification rules"),
    ]
    return "\n".join(lines)


def _routing(tenant: CompiledTenant, locale: str) -> str:
    return _heading("Routing") + "\n" + routing_table(tenant, locale).text()


def routing_table(tenant: CompiledTenant, locale: str) -> Table:
    """Category → process → responsible unit, priority and SLAs (by priority where they differ)."""
    def order(cat: CompiledCategory) -> tuple[int, int, str, str]:
        group = tenant.category_groups.get(cat.spec.group or "")
        if group is None:
            return (1, 0, "", cat.name)
        return (0, group.order, cat.spec.group or "", cat.name)

    rows = []
    for cat in sorted(tenant.categories.values(), key=order):
        group = tenant.category_groups.get(cat.spec.group or "")
        unit = tenant.units.get(cat.unit)
        rows.append([
            _named(cat.spec.group, group.name, locale) if group and cat.spec.group else NONE,
            _named(cat.name, cat.spec.name, locale),
            cat.process,
            _named(cat.unit, unit.name if unit else None, locale),
            cat.spec.priority,
            str(cat.sla("verify") or NONE),
            str(cat.sla("resolve") or NONE),
        ])
        for priority in PRIORITIES:
            if priority in cat.spec.sla.by_priority:
                rows.append([
                    "", f"  if {priority}", "", "", "",
                    str(cat.sla("verify", priority) or NONE),
                    str(cat.sla("resolve", priority) or NONE),
                ])
    return Table(("group", "category", "process", "responsible unit", "priority", "verify", "resolve"), rows)


def _process(tenant: CompiledTenant, process: CompiledProcess, locale: str) -> str:
    title = _named(process.name, process.label, locale)
    used_by = sorted(c.name for c in tenant.categories.values() if c.process == process.name)
    lines = [
        _heading(f"Process {title}"),
        f"version {process.version}, entry state {process.entry}, used by: {_join(used_by)}",
        "",
        "States",
    ]
    lines.append(state_table(process, locale).text())
    lines += ["", "Permissions (state x transition -> who may fire)"]
    lines.append(permission_table(process, locale).text())
    lines += ["", "Effects", effect_table(process, locale).text()]
    return "\n".join(lines)


def state_table(process: CompiledProcess, locale: str) -> Table:
    """The process's states: label, public status, where a withdrawal leads, notes."""
    state_rows = []
    for s in process.states.values():
        notes = [n for n, on in (("final", s.final), ("sla paused", s.sla_paused),
                                 ("reclassify", s.reclassify), ("holds tasks", s.holds_tasks)) if on]
        if s.due is not None:
            notes.append(f"due {s.due}")
        state_rows.append([s.name, _label(s.label, locale), s.public, s.on_withdraw or NONE, _join(notes)])
    return Table(("state", "label", "public", "on withdraw", "notes"), state_rows)


def permission_table(process: CompiledProcess, locale: str) -> Table:
    """State × transition → destination, who may fire it (role@scope, or automatic with its conditions), inputs."""
    rows = []
    for state in process.states.values():
        leaving = [t for t in process.transitions.values() if state.name in t.sources]
        if not leaving:
            rows.append([state.name, NONE, NONE, "(no way out)" if state.final else "(none)", NONE])
        for t in leaving:
            when = _join(call_text(c, locale) for c in t.conditions)
            who = "automatic" if t.automatic else ", ".join(str(a) for a in t.actors)
            if t.conditions:
                who += f" (when {when})"
            rows.append([state.name, t.name, t.dest, who, _join(t.requires)])
    return Table(("state", "transition", "to", "who may fire", "requires"), rows)


def effect_table(process: CompiledProcess, locale: str) -> Table:
    """What each transition does besides moving (create_task, notify, set_due …)."""
    effect_rows = [
        [t.name if i == 0 else "", call_text(e, locale)]
        for t in process.transitions.values()
        for i, e in enumerate(t.effects)
    ]
    return Table(("transition", "effect"), effect_rows)


def notify_effect_table(tenant: CompiledTenant) -> Table:
    """The process effects (transitions and timers) that notify: where, to whom, template, channels."""
    rows = []
    for process in tenant.processes.values():
        sources: list[tuple[str, tuple[BoundCall, ...]]] = [
            (f"{process.name}.{t.name}", t.effects) for t in process.transitions.values()
        ]
        sources += [(f"{process.name} timer {tm.name} ({tm.state}, after {tm.after})", tm.effects)
                    for tm in process.timers]
        for where, effects in sources:
            for e in effects:
                if e.name != "notify" or e.args is None:
                    continue
                args: Any = e.args
                channels = ", ".join(args.channels) if args.channels else "default (email)"
                rows.append([where, _join(str(r) for r in args.to), args.template, channels])
    return Table(("where", "to", "template", "channels"), rows)


def notification_rule_table(tenant: CompiledTenant) -> Table:
    """The notification rules: event → recipients → template → channels (for which categories)."""
    rows = [
        [name, rule.on, _join(str(r) for r in rule.to), rule.template, _join(rule.channels),
         _join(rule.categories) if rule.categories else "all"]
        for name, rule in tenant.notifications.items()
    ]
    return Table(("rule", "event", "to", "template", "channels", "categories"), rows)


def _notifications(tenant: CompiledTenant) -> str:
    return "\n".join([
        _heading("Notifications"),
        "Rules (event -> recipients -> template -> channels)",
        notification_rule_table(tenant).text(),
        "",
        "Process effects that notify",
        notify_effect_table(tenant).text(),
    ])


def _timers(tenant: CompiledTenant) -> str:
    return _heading("Timers") + "\n" + timer_table(tenant).text()


def timer_table(tenant: CompiledTenant) -> Table:
    """Every process's timers: in which state, after how long, what they do."""
    rows = []
    for process in tenant.processes.values():
        for timer in process.timers:
            does = [f"fire {timer.transition}"] if timer.transition else []
            does += [call_text(e) for e in timer.effects]
            rows.append([process.name, timer.name, timer.state, str(timer.after), "; ".join(does)])
    return Table(("process", "timer", "state", "after", "does"), rows)


def _units(tenant: CompiledTenant, locale: str) -> str:
    return _heading("Units") + "\n" + unit_table(tenant, locale).text()


def unit_table(tenant: CompiledTenant, locale: str) -> Table:
    """The unit tree (children indented under their parent), names and notes (external, e-mail, phone)."""
    units = tenant.units
    children: dict[str | None, list[str]] = {}
    for name, unit in units.items():
        parent = unit.parent if unit.parent in units else None
        children.setdefault(parent, []).append(name)
    rows: list[list[str]] = []

    def walk(parent: str | None, depth: int) -> None:
        for name in children.get(parent, []):
            rows.append(["  " * depth + name, _label(units[name].name, locale), _unit_notes(units[name])])
            walk(name, depth + 1)

    walk(None, 0)
    return Table(("unit", "name", "notes"), rows)


def _unit_notes(unit: Unit) -> str:
    notes = []
    if unit.external:
        notes.append("external" + ("" if unit.accounts else ", no accounts: tasks by e-mail"))
    if unit.email:
        notes.append(f"e-mail {unit.email}")
    if unit.phone:
        notes.append(f"phone {unit.phone}")
    return "; ".join(notes) or NONE


def _roles(tenant: CompiledTenant, locale: str) -> str:
    fires = role_fires(tenant)
    lines = [_heading("Roles"), role_table(tenant, locale).text(), "", "Who may fire what"]
    for name in tenant.roles:
        per_process = fires.get(name, {})
        lines.append(f"  {name}: " + ("; ".join(f"{p} ({', '.join(ts)})" for p, ts in per_process.items())
                                      or "nothing"))
    lines += ["", ("Task actions, on tasks of the member's unit and the units below it (anyone may complete a task "
                   "assigned to them)")]
    for name, role in tenant.roles.items():
        granted = task_actions_of(role)
        extra = f"; {DISPATCHER_TASK_RIGHTS}" if role.edits_tickets else ""
        lines.append(f"  {name}: {_join(granted) if granted else 'none'}{extra}")
    lines += ["", "What each role reads of a ticket it sees, and which comments it adds"]
    lines += [f"  {name}: {reads_and_comments(role)}" for name, role in tenant.roles.items()]
    return "\n".join(lines)


#: What a role that edits tickets (the dispatcher) may do to tasks besides its own units' (explain's words).
DISPATCHER_TASK_RIGHTS = ("also delegates any unit's task, and completes or withdraws tasks of external units "
                          "without accounts (edits tickets)")


def task_actions_of(role: Role) -> list[str]:
    """The task actions a role grants on its units' tasks, in the task machine's order."""
    return [a for a in TASK_ACTION_NAMES if a in role.task_rights]


def role_table(tenant: CompiledTenant, locale: str) -> Table:
    """Each role: its name, what it sees, its rights (edits tickets, manages users, handles tasks …)."""
    rows = []
    for name, role in tenant.roles.items():
        # every yes/no field of a role is a right (edits_tickets, manages_users …); sees_* say what it reads
        rights = [f.replace("_", " ") for f, info in type(role).model_fields.items()
                  if info.annotation is bool and getattr(role, f) and not f.startswith("sees_")]
        rows.append([name, _label(role.name, locale), f"{role.sees}: {_SEES[role.sees]}", _join(rights)])
    return Table(("role", "name", "sees", "rights"), rows)


def role_fires(tenant: CompiledTenant) -> dict[str, dict[str, list[str]]]:
    """Per role, per process, the transitions it may fire with their scope (`verify`, `complete@task_unit`)."""
    fires: dict[str, dict[str, list[str]]] = {}
    for process in tenant.processes.values():
        for t in process.transitions.values():
            for actor in t.actors:
                if actor.role is not None:
                    scope = str(actor).removeprefix(actor.role)  # "", "@task_unit", "@unit:roads" …
                    fires.setdefault(actor.role, {}).setdefault(process.name, []).append(t.name + scope)
    return fires


def reads_and_comments(role: Role) -> str:
    """`reads …. Comments on an open ticket: …; on a closed one: …` — what the role reads and may add."""
    reads = [f.removeprefix("sees_").replace("_", " ") for f, info in type(role).model_fields.items()
             if info.annotation is bool and f.startswith("sees_") and getattr(role, f)]
    read = f"reads {_join(reads)}" if reads else "reads no contact, internal comments, other tasks, full history"
    return (f"{read}. Comments on an open ticket: {_join(role.comments.open)}; "
            f"on a closed one: {_join(role.comments.closed)}")


def _plugins(tenant: CompiledTenant) -> str:
    rows = [
        [name, _value(settings.model_dump(mode="json"), "pl")]
        for name, settings in sorted(tenant.plugin_settings.items())
    ]
    return _heading("Plugins") + "\n" + table(["plugin", "settings"], rows)
