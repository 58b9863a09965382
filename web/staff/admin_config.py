"""The compiled configuration, read-only, for administrators: what `komunikator explain` prints, browsable.

`/staff/admin/config` shows `komunikator check`'s answer for this city's folder now (errors with
file:line:col, and whether the files changed since the server compiled them), the routing
table, the processes, the roles with the permission matrix and task actions, notification rules,
timers and units — the very tables of `engine/config/explain.py`, drawn as HTML.
`/staff/admin/config/processes/<name>` draws one process as a diagram: `komunikator graph`'s
Mermaid text rendered in the browser by the vendored Mermaid, with the transitions as a table
beside it (the diagram's text alternative).

Mermaid writes a `<style>` element and `style=""` attributes into the SVG it draws, so that one
page relaxes `style-src` (`security.DIAGRAM_STYLES`); scripts stay `'self'` only, as everywhere.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babel.support import Translations
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config import explain
from komunikator.engine.config.compiler import check_tenant
from komunikator.engine.config.machines import mermaid
from komunikator.engine.errors import Position, dotted
from komunikator.engine.schema.org import TASK_ACTION_NAMES
from komunikator.engine.service import definition_changes
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope
from komunikator.web.staff import security, words
from komunikator.web.staff.admin_access import AdminPage, not_found
from komunikator.web.staff.i18n import N_, localized, translations
from komunikator.web.staff.rendering import render, tile_source
from komunikator.web.staff.session import Page

router = APIRouter(include_in_schema=False)  # HTML pages, not the JSON API

#: explain's column headers in the pages' words
HEADERS = {
    "group": N_("group"), "category": N_("category"), "process": N_("process"),
    "responsible unit": N_("responsible unit"), "priority": N_("priority"), "verify": N_("verification SLA"),
    "resolve": N_("resolution SLA"), "state": N_("state"), "label": N_("label"), "public": N_("public status"),
    "on withdraw": N_("after a withdrawn task"), "notes": N_("notes"), "transition": N_("transition"),
    "to": N_("to"), "who may fire": N_("who may fire"), "requires": N_("requires"), "effect": N_("effect"),
    "rule": N_("rule"), "event": N_("event"), "template": N_("template"), "channels": N_("channels"),
    "categories": N_("categories"), "where": N_("where"), "timer": N_("timer"), "after": N_("after"),
    "does": N_("does"), "unit": N_("unit"), "name": N_("name"), "role": N_("role"), "sees": N_("sees"),
    "rights": N_("rights"),
}


@dataclass(frozen=True)
class Shown:
    """A table of the report as the page draws it: a caption, translated headers, the rows."""

    id: str
    caption: str
    headers: list[str]
    rows: list[list[str]]


def shown(table: explain.Table, table_id: str, caption: str, t: Translations) -> Shown:
    """`table` with its headers in the page's language."""
    return Shown(table_id, caption, [t.gettext(HEADERS.get(h, h)) for h in table.headers], table.rows)


@dataclass(frozen=True)
class CheckResult:
    """`komunikator check` for this city's folder now."""

    errors: list[tuple[str, str, str]]
    disk_version: str | None
    running_version: str
    #: the files as they are now, compiled (None while they have errors)
    compiled: CompiledTenant | None = None
    #: open work the files no longer describe (`komunikator check --database`): where, value, message
    drift: list[tuple[str, str, str]] = field(default_factory=list)


def _where(position: Position | None, roots: list[Path]) -> str:
    if position is None:
        return "<configuration>"
    for root in roots:
        try:
            name = os.path.relpath(position.file, root)
        except ValueError:
            continue
        if not name.startswith(".."):
            return f"{name}:{position.line}:{position.column}"
    return str(position)


def _roots(settings: Settings) -> list[Path]:
    return [settings.tenants_dir.parent, settings.definitions_dir.parent]


def run_check(tenant: CompiledTenant) -> CheckResult:
    """Compile the city's folder as `komunikator check` does; the errors as (file:line:col, path, message)."""
    settings = Settings.from_env()
    definitions = settings.definitions_dir if settings.definitions_dir.is_dir() else None
    compiled, errors = check_tenant(Path(tenant.source_dir), definitions)
    rows = [(_where(e.position, _roots(settings)), dotted(e.path), e.message) for e in errors.sorted()]
    return CheckResult(rows, compiled.version if compiled is not None else None, tenant.version, compiled)


async def check_now(scope: TenantScope, tenant: CompiledTenant) -> CheckResult:
    """`run_check`, and when the files compile, what open tickets use that they no longer have (`drift`)."""
    result = await asyncio.to_thread(run_check, tenant)
    if result.compiled is None:
        return result
    settings = Settings.from_env()
    found = await definition_changes.drift(scope, result.compiled, settings.definitions_dir)
    rows = []
    for d in found:
        path = ".".join(str(p) for p in d.path)
        text = d.line().removeprefix(f"{d.where}: " if d.where else "").removeprefix(f"{path}: ")
        rows.append((_where(d.where, _roots(settings)), path, text))
    return replace(result, drift=rows)


#: the parts of the configuration view: the overview (check, processes) and one page per kind of table
PARTS = {"": N_("Overview"), "routing": N_("Routing"), "permissions": N_("Roles and permissions"),
         "notifications": N_("Notifications and timers"), "units": N_("Units")}


async def _part_context(page: Page, part: str) -> dict[str, Any]:
    """What one part of the configuration view draws."""
    t = translations(page.language)
    tenant, language = page.tenant, page.language
    if part == "routing":
        return {"routing": shown(explain.routing_table(tenant, language), "routing", t.gettext("Routing"), t)}
    if part == "permissions":
        fires = explain.role_fires(tenant)
        roles = [{
            "name": name, "label": localized(role.name, language),
            "fires": {p: fires.get(name, {}).get(p, []) for p in tenant.processes},
            "task_actions": explain.task_actions_of(role),
            "dispatcher": role.edits_tickets,
            "reads": explain.reads_and_comments(role),
        } for name, role in tenant.roles.items()]
        return {"roles": roles, "process_names": list(tenant.processes), "task_actions": TASK_ACTION_NAMES,
                "task_action_names": {a: t.gettext(words.TASK_ACTIONS[a]) for a in TASK_ACTION_NAMES},
                "dispatcher_rights": explain.DISPATCHER_TASK_RIGHTS,
                "role_table": shown(explain.role_table(tenant, language), "roles", t.gettext("Roles and their rights"),
                                    t)}
    if part == "notifications":
        return {"rules": shown(explain.notification_rule_table(tenant), "rules", t.gettext("Notification rules"), t),
                "notifying": shown(explain.notify_effect_table(tenant), "notifying",
                                   t.gettext("Process effects that notify"), t),
                "timers": shown(explain.timer_table(tenant), "timers", t.gettext("Timers"), t)}
    if part == "units":
        return {"units": shown(explain.unit_table(tenant, language), "units", t.gettext("Units"), t)}
    processes = [{
        "name": name, "label": localized(process.label, language) if process.label else name,
        "used_by": sorted(localized(c.spec.name, language) for c in tenant.categories.values() if c.process == name),
    } for name, process in tenant.processes.items()]
    check = await check_now(page.scope, tenant)
    columns = [t.gettext("file:line:column"), t.gettext("value"), t.gettext("message")]
    return {"check": check, "processes": processes,
            "errors_table": Shown("check", t.gettext("Errors found by the check"), columns,
                                  [list(row) for row in check.errors]),
            "drift_table": Shown("drift", t.gettext("Open work the files no longer describe"), columns,
                                 [list(row) for row in check.drift])}


@router.get("/staff/admin/config", response_class=HTMLResponse)
async def configuration(page: AdminPage) -> Response:
    """The overview: `komunikator check` for this city now, and the processes (each drawn on its own page)."""
    return await _draw_part(page, "")


@router.get("/staff/admin/config/{part}", response_class=HTMLResponse)
async def configuration_part(part: str, page: AdminPage) -> Response:
    """Routing, roles and permissions, notifications and timers, or units."""
    if part not in PARTS or not part:
        return await not_found(page)
    return await _draw_part(page, part)


async def _draw_part(page: Page, part: str) -> Response:
    t = translations(page.language)
    parts = [(key, t.gettext(label)) for key, label in PARTS.items()]
    heading = t.gettext(PARTS[part]) if part else t.gettext("Configuration")
    title = f"{heading} – {t.gettext('Configuration')}" if part else heading
    return await render(page, "admin_config.html", title=title, current="admin", section="config", part=part,
                        parts=parts, heading=heading, **await _part_context(page, part))


@router.get("/staff/admin/config/processes/{name}", response_class=HTMLResponse)
async def process_page(name: str, page: AdminPage) -> Response:
    """One process: its diagram (Mermaid, drawn in the browser) and the same transitions as tables."""
    process = page.tenant.processes.get(name)
    if process is None:
        return await not_found(page)
    t = translations(page.language)
    tenant, language = page.tenant, page.language
    label = localized(process.label, language) if process.label else name
    timers = explain.timer_table(tenant)
    response = await render(
        page, "admin_process.html", title=f"{label} – {t.gettext('Process')}", current="admin", section="config",
        process=process, label=label, diagram=mermaid(process, language),
        used_by=sorted(localized(c.spec.name, language) for c in tenant.categories.values() if c.process == name),
        sections=[
            (t.gettext("Transitions"), shown(explain.permission_table(process, language), "transitions",
                                             t.gettext("Transitions: who may fire what, from which state"), t)),
            (t.gettext("States"), shown(explain.state_table(process, language), "states", t.gettext("States"), t)),
            (t.gettext("Effects"), shown(explain.effect_table(process, language), "effects", t.gettext("Effects"), t)),
            (t.gettext("Timers"), shown(explain.Table(timers.headers, [r for r in timers.rows if r[0] == name]),
                                        "timers", t.gettext("Timers"), t)),
        ],
    )
    response.headers["Content-Security-Policy"] = security.content_security_policy(
        tile_source(page)[0], diagram_styles=True)
    return response
