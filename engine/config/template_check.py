"""Render every message template at `check` time, against a sample of what its event carries.

Parsing a template finds syntax errors; a misspelt variable
(`{{ ticket.staf_url }}`) parses fine and fails only at delivery, when the
outbox row cannot be rendered. Here each template is rendered, with strict
undefined variables, against a typed sample context for every way it is
sent:

- a process's `notify` effect: `ticket` (no task);
- a notification rule `on:` an engine event: `ticket`, and `task` for the
  task events; on a plugin's event: `event.*` as the plugin describes it
  (`EventDef.context`), `ticket` when there is one;
- the templates the product sends by name: `staff_digest` (`digest`),
  `message_to_reporter` / `message_to_unit` (`ticket`, `message`, `task`
  when the message is about one);
- a template nothing sends: every variable, to find misspelt attributes.

`tenant`, `recipient` and `comment` are always there. Optional variables
(`task is defined`) are rendered both present and absent; values are
rendered both filled and empty, so both sides of most `{% if %}`s run.
The shapes mirror `delivery.render.build_context` (a test holds them equal).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

#: Template variables and their fields, as `delivery.render.build_context` fills them.
VARIABLES: Mapping[str, Sequence[str]] = {
    "tenant": ("name", "portal_url"),
    "recipient": ("name",),
    "comment": ("text",),
    "ticket": ("number", "category_name", "address", "description", "status_label", "created_at", "due_at",
               "public_url", "staff_url", "reporter_url"),
    "task": ("title", "unit_name", "assignee_name", "due_at", "staff_url"),
    "message": ("text", "sender_name"),
    "digest": ("date", "staff_url", "unverified_count", "overdue_count", "tasks"),
    "confirm": ("url",),
    "account": ("url", "email", "valid_hours"),
    "export": ("list_name", "rows", "format", "url", "expires_at", "attempts"),
}
#: Fields of each item of `digest.tasks`.
DIGEST_TASK = ("number", "category_name", "title", "due_at", "overdue", "staff_url")
ALWAYS = ("tenant", "recipient", "comment")

#: Engine events whose notifications are about a task.
TASK_EVENTS = frozenset({"task_assigned", "task_delegated", "task_withdrawn", "task_overdue"})
#: Templates the product sends by name (delivery/digest.py, service/tickets.py) → (required, optional) variables.
BY_NAME: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "staff_digest": (("digest",), ()),
    "message_to_reporter": (("ticket", "message"), ("task",)),
    "message_to_unit": (("ticket", "message"), ("task",)),
    # to a reporter's unconfirmed address, instead of the receipt (delivery/jobs.py: its ticket has
    # only number, category_name, public_url and created_at at delivery)
    "email_confirmation": (("ticket", "confirm"), ()),
    "follow_confirmation": (("ticket", "confirm"), ()),  # the same, to an address typed in to follow a report
    # a resident's one-time links (service/resident_accounts.py); a claim names its report
    "account_verify": (("account",), ()),
    "account_reset": (("account",), ()),
    "account_email_change": (("account",), ()),
    "account_claim": (("account", "ticket"), ()),
    # a big list export written by the background job (engine/lists/jobs.py)
    "list_export_ready": (("export",), ()),
    "list_export_failed": (("export",), ()),
}


@dataclass(frozen=True)
class Use:
    """One way a template is sent: what it is told, and a phrase for messages."""

    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    event_fields: tuple[str, ...] | None = None  # a plugin event's `event.*`


class UnknownField(Exception):
    """A template read a field its variable does not have."""

    def __init__(self, variable: str, field: str, known: Sequence[str]) -> None:
        self.variable, self.field, self.known = variable, field, known
        super().__init__(f"{variable}.{field}")


class _Variable(dict[str, Any]):
    """A sample variable that knows its name, so an unknown field names it."""

    def __init__(self, name: str, fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self.name = name


class _Env(SandboxedEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, _Variable) and attribute not in obj:
            raise UnknownField(obj.name, attribute, list(obj))
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, _Variable) and isinstance(argument, str) and argument not in obj:
            raise UnknownField(obj.name, argument, list(obj))
        return super().getitem(obj, argument)


_ENV = _Env(undefined=jinja2.StrictUndefined, autoescape=False)


def sample(use: Use, *, filled: bool) -> dict[str, Any]:
    """The sample context of `use`: optional variables present and values filled, or neither."""
    names = [*ALWAYS, *use.required, *(use.optional if filled else ())]
    context: dict[str, Any] = {}
    for name in names:
        fields: dict[str, Any] = {f: (f"{name}.{f}" if filled else "") for f in VARIABLES[name]}
        if name == "digest":
            fields.update(unverified_count=1 if filled else 0, overdue_count=1 if filled else 0,
                          tasks=[_Variable("digest.tasks[]", {f: f"task.{f}" for f in DIGEST_TASK} | {"overdue": True})]
                          if filled else [])
        context[name] = _Variable(name, fields)
    if use.event_fields is not None:
        context["event"] = _Variable("event", {f: (f"event.{f}" if filled else "") for f in use.event_fields})
    return context


@lru_cache(maxsize=4096)
def _compiled(source: str) -> jinja2.Template | None:
    """Compile once: the library's templates recur in every tenant and for every use."""
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError:
        return None


def render_problem(source: str, use: Use) -> tuple[int, str] | None:
    """Render `source` for `use` (filled, then empty); the first problem as (line in the template, message)."""
    template = _compiled(source)
    if template is None:
        return None  # a syntax error: reported by the parse check
    for filled in (True, False):
        try:
            template.render(sample(use, filled=filled))
        except UnknownField as exc:
            close = difflib.get_close_matches(exc.field, list(exc.known), n=1)
            has = ", ".join(exc.known)
            hint = f"did you mean {exc.variable}.{close[0]}?" if close else f"{exc.variable} has: {has}"
            return _line(exc.__traceback__), f"unknown variable {exc.variable}.{exc.field}; {hint}"
        except jinja2.UndefinedError as exc:
            return _line(exc.__traceback__), _undefined(exc, use)
        except jinja2.TemplateError as exc:
            return _line(exc.__traceback__), f"cannot render: {exc}"
        except Exception as exc:  # noqa: BLE001 - a filter on a sample value; the template itself is the problem
            return _line(exc.__traceback__), f"cannot render: {type(exc).__name__}: {exc}"
    return None


def _undefined(exc: jinja2.UndefinedError, use: Use) -> str:
    text = str(exc)
    name = text.split("'")[1] if text.count("'") >= 2 else text
    if name in VARIABLES or name == "event":
        has = [*ALWAYS, *use.required, *use.optional]
        if use.event_fields is not None:
            has.append("event")
        return f"{name!r} is not available in {use.label} (it has: {', '.join(has)})"
    has = [*VARIABLES, "event"]
    close = difflib.get_close_matches(name, has, n=1)
    return f"unknown variable {name!r}; did you mean {close[0]!r}?" if close else f"unknown variable {name!r}"


def _line(tb: TracebackType | None) -> int:
    """The template line the rendering stopped at (Jinja puts template frames in the traceback)."""
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def uses_of(
    templates: Sequence[str],
    rules: Mapping[str, tuple[str, str]],
    process_templates: Mapping[str, Collection[str]],
    plugin_events: Mapping[str, Sequence[str]],
) -> dict[str, list[Use]]:
    """Every way each template is sent.

    `rules`: notification rule → (event, template); `process_templates`:
    template → processes whose `notify` sends it; `plugin_events`: a
    plugin's event → the fields of `event` it brings.
    """
    out: dict[str, list[Use]] = {name: [] for name in templates}
    for template, processes in process_templates.items():
        for process in sorted(set(processes)):
            out.setdefault(template, []).append(Use(f"a message of process {process!r} (`notify`)", ("ticket",)))
    for rule, (event, template) in sorted(rules.items()):
        label = f"a message on {event} (notification {rule!r})"
        if event in plugin_events:
            use = Use(label, (), ("ticket",), tuple(plugin_events[event]))
        elif event in TASK_EVENTS:
            use = Use(label, ("ticket", "task"))
        elif event in BY_NAME:  # the staff's messages: the event is named after the template
            use = Use(label, *BY_NAME[event])
        else:
            use = Use(label, ("ticket",))
        out.setdefault(template, []).append(use)
    for template, (required, optional) in BY_NAME.items():
        out.setdefault(template, []).append(Use(f"the {template} message", required, optional))
    for uses in out.values():
        if not uses:  # sent by nothing (yet): every variable, to catch misspelt fields
            uses.append(Use("any message", tuple(v for v in VARIABLES if v not in ALWAYS), ()))
    return out


def event_fields(context: Mapping[str, str]) -> tuple[str, ...]:
    """`event.*` field names from a plugin's `EventDef.context` (`{"event.id": "…"}` → `("id",)`)."""
    return tuple(k.split(".", 1)[1] for k in context if k.startswith("event."))


__all__ = ["BY_NAME", "TASK_EVENTS", "VARIABLES", "Use", "event_fields", "render_problem", "sample",
           "uses_of"]
