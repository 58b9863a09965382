"""Rendering a tenant's message templates (Jinja2, sandboxed) for one recipient.

The variables are those of `definitions/README.md` ("Template variables"):
`tenant`, `recipient`, `ticket`, `task`, `comment`, `message`, `digest`,
`account` (a resident's one-time link), `export` (a big list export is ready), and
`event` for a plugin's event (the data the plugin gave with it).
Dates arrive formatted in the tenant's time zone and the recipient's locale.
Variables are strict: a template that uses one the message does not carry
(`task.title` on a ticket-only event) fails to render, and the outbox row
fails with that message rather than going out half-empty.

HTML: the template's `html` (autoescaped) when it has one, else the text
turned into paragraphs (escaped, links made clickable) inside a small layout
in the tenant's branding colour.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.schema.base import text_for
from komunikator.engine.store.models import Task, Ticket

#: How dates appear in messages (babel pattern): "14 marca 2026, 10:30" / "14 March 2026, 10:30".
DATE_PATTERN = "d MMMM y, HH:mm"
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)»”"


class RenderError(Exception):
    """A template could not be rendered (unknown template, undefined variable, syntax, sandbox)."""


@dataclass(frozen=True)
class Rendered:
    """A message in one locale."""

    subject: str
    text: str
    html: str
    short: str | None


_TEXT_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@lru_cache(maxsize=2048)
def _compiled(source: str, html: bool) -> Template:
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


def _render(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    return _compiled(source, html).render(context)


def render_message(tenant: CompiledTenant, name: str, locale: str, context: Mapping[str, Any]) -> Rendered:
    """Render template `name` of `tenant` in `locale`; `RenderError` says what went wrong."""
    template = tenant.templates.get(name)
    if template is None:
        raise RenderError(f"tenant {tenant.slug!r} has no template {name!r}")
    fallback = tenant.config.locale
    try:
        subject = " ".join(_render(text_for(dict(template.subject), locale, fallback), context).split())
        text = _render(text_for(dict(template.text), locale, fallback), context).strip() + "\n"
        short = _render(text_for(dict(template.push), locale, fallback), context).strip() if template.push else None
        if template.html is not None:
            body = _render(text_for(dict(template.html), locale, fallback), context, html=True)
            if body.lstrip()[:14].lower().startswith(("<!doctype", "<html")):
                page = body
            else:
                page = layout(tenant, locale, subject, body)
        else:
            page = layout(tenant, locale, subject, text_to_html(text))
    except TemplateError as error:
        raise RenderError(f"template {name!r} ({locale}): {type(error).__name__}: {error}") from None
    return Rendered(subject, text, page, short)


def uses_field(tenant: CompiledTenant, name: str, locale: str, variable: str, field: str) -> bool:
    """Whether template `name` in `locale` reads `variable.field` (e.g. `ticket.reporter_url`) anywhere.

    Delivery asks before making what such a field costs (a reporter's link is a row and a secret).
    """
    template = tenant.templates.get(name)
    if template is None:
        return False
    fallback = tenant.config.locale
    parts = [template.subject, template.text, template.push, template.html]
    return any(_reads(text_for(dict(part), locale, fallback), variable, field) for part in parts if part)


@lru_cache(maxsize=2048)
def _reads(source: str, variable: str, field: str) -> bool:
    try:
        tree = _TEXT_ENV.parse(source)
    except TemplateError:
        return False  # rendering reports it
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == variable and node.attr == field:
            return True
    for item in tree.find_all(nodes.Getitem):  # ticket["reporter_url"]
        if (isinstance(item.node, nodes.Name) and item.node.name == variable
                and isinstance(item.arg, nodes.Const) and item.arg.value == field):
            return True
    return False


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs: everything escaped, line breaks kept, http(s) links clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(_linkify(line) for line in p.strip().split("\n")) + "</p>" for p in paragraphs
    )


def _linkify(line: str) -> str:
    out: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        out.append(html_lib.escape(line[last:match.start()]))
        safe = html_lib.escape(url, quote=True)
        out.append(f'<a href="{safe}">{safe}</a>')
        last = end
    out.append(html_lib.escape(line[last:]))
    return "".join(out)


def layout(tenant: CompiledTenant, locale: str, title: str, body: str) -> str:
    """The e-mail page around an HTML body: a header bar in the tenant's colour, its name, the body."""
    name = html_lib.escape(text_for(dict(tenant.config.name), locale, tenant.config.locale))
    color = tenant.config.branding.primary_color  # validated: #RRGGBB
    body = body.replace("<a href=", f'<a style="color:{color}" href=')
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lib.escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_lib.escape(title)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f3f4f6">\n'
        '<div style="max-width:600px;margin:0 auto;background:#ffffff;'
        'font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2933">\n'
        f'<div style="background:{color};color:#ffffff;padding:16px 24px;font-size:18px;font-weight:bold">'
        f"{name}</div>\n"
        f'<div style="padding:16px 24px">\n{body}\n</div>\n'
        "</div>\n</body></html>\n"
    )


# -- the variables -----------------------------------------------------------------------------


def reporter_url(tenant: CompiledTenant, base_domain: str, token: str) -> str:
    """The reporter's link (`ticket.reporter_url`): the page that answers with it (web/reporter_links)."""
    return f"https://{tenant_host(tenant, base_domain)}/odpowiedz/{token}"


def tenant_host(tenant: CompiledTenant, base_domain: str = "localhost") -> str:
    """The host messages link to: the tenant's first own host, else `<slug>.<base domain>`."""
    return tenant.config.hosts[0] if tenant.config.hosts else f"{tenant.slug}.{base_domain}"


def format_when(value: datetime | None, tenant: CompiledTenant, locale: str) -> str:
    """A moment as messages show it (tenant's time zone, recipient's locale); empty for None."""
    if value is None:
        return ""
    return format_datetime(value, DATE_PATTERN, tzinfo=ZoneInfo(tenant.config.time_zone), locale=locale)


@dataclass(frozen=True)
class MessageSubject:
    """What a message is about: the rows it may speak of, and the payload's extras."""

    ticket: Ticket | None
    task: Task | None
    assignee_name: str
    payload: Mapping[str, Any]


def build_context(
    tenant: CompiledTenant, base_domain: str, locale: str, recipient_name: str, about: MessageSubject
) -> dict[str, Any]:
    """The template variables for one recipient (definitions/README.md, "Template variables")."""
    base = f"https://{tenant_host(tenant, base_domain)}"
    fallback = tenant.config.locale
    context: dict[str, Any] = {
        "tenant": {"name": text_for(dict(tenant.config.name), locale, fallback), "portal_url": f"{base}/"},
        "recipient": {"name": recipient_name},
        "comment": {"text": str(about.payload.get("comment") or "")},
        "confirm": {"url": ""},  # filled for the confirmation request only (delivery/jobs.py)
    }
    ticket = about.ticket
    category_name = ""
    if ticket is not None:
        category = tenant.categories.get(ticket.category)
        category_name = text_for(dict(category.spec.name), locale, fallback) if category else ticket.category
        process = tenant.processes.get(ticket.process)
        state = process.states.get(ticket.state) if process else None
        context["ticket"] = {
            "number": ticket.number,
            "category_name": category_name,
            "address": ticket.address,
            "description": ticket.description,
            "status_label": text_for(dict(state.label), locale, fallback) if state else ticket.state,
            "created_at": format_when(ticket.created_at, tenant, locale),
            "due_at": format_when(ticket.due_at, tenant, locale),
            "public_url": f"{base}/t/{ticket.number}",
            "staff_url": f"{base}/staff/tickets/{ticket.number}",
            "reporter_url": "",  # filled in mail to the reporter only (delivery/jobs.py, reporter_links)
        }
    task = about.task
    if task is not None and ticket is not None:
        unit = tenant.units.get(task.unit)
        context["task"] = {
            "title": text_for(dict(task.title), locale, fallback) if task.title else category_name,
            "unit_name": text_for(dict(unit.name), locale, fallback) if unit else task.unit,
            "assignee_name": about.assignee_name,
            "due_at": format_when(task.due_at, tenant, locale),
            "staff_url": f"{base}/staff/tickets/{ticket.number}/tasks/{task.key}",
        }
    message = about.payload.get("message")
    if isinstance(message, Mapping):
        context["message"] = {
            "text": str(message.get("text") or ""),
            "sender_name": str(message.get("sender_name") or context["tenant"]["name"]),
        }
    digest = about.payload.get("digest")
    if isinstance(digest, Mapping):
        context["digest"] = dict(digest)
    account = about.payload.get("account")  # a resident's one-time link (service/resident_accounts.py)
    if isinstance(account, Mapping):
        context["account"] = {"url": str(account.get("url") or ""), "email": str(account.get("email") or ""),
                              "valid_hours": int(account.get("valid_hours") or 0)}
    written = about.payload.get("export")  # a big list export is ready, or failed (engine/lists/jobs.py)
    if isinstance(written, Mapping):
        context["export"] = {key: written.get(key) or "" for key in ("list_name", "format", "url", "expires_at")}
        context["export"]["rows"] = int(written.get("rows") or 0)
        context["export"]["attempts"] = int(written.get("attempts") or 0)
    data = about.payload.get("data")  # a plugin's event: what it said about it (`service.events.emit`)
    if isinstance(data, Mapping):
        context["event"] = dict(data)
    return context
