"""One labelled form field of the staff pages, drawn in Python (as WTForms' widgets are): the ticket page
draws some twenty of them, and a Jinja2 macro per field was a third of its template's time. Every value
is escaped (`markupsafe.escape`) before it is written.

`field_html(spec, errors, value)` — `spec` (a mapping, or an object with the same attributes): `name`,
`label`, `type` (`text` by default, `textarea`, `select`, or any input type), `value`, and optionally
`hint`, `id` (else the name), `key` (the name `errors` uses, else the name), `options` (`(value, text)` or
`(value, text, units)` for a person picker's units), `task_unit` (marks a person picker), `autocomplete`.
The error for the field, if any, is tied to the input by `aria-describedby` with the hint, and the input
marked `aria-invalid`. Every value is escaped; the templates call it as `field_html(...)` (installed per
language with its word for "Error" by `rendering.environment`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

_MISSING = object()


def _getter(spec: Any) -> Callable[[str], Any]:
    if isinstance(spec, Mapping):
        return lambda name: spec.get(name, _MISSING)
    return lambda name: getattr(spec, name, _MISSING)


def field_html(spec: Any, errors: Mapping[str, str] | None = None, value: Any = None, *,
               error_word: str = "Error") -> Markup:
    """The field's `<div class="field">` with its label, hint, error and input (see the module docstring)."""
    get = _getter(spec)

    def text(name: str) -> Any:
        found = get(name)
        return None if found is _MISSING else found

    name = text("name") or ""
    field_id = escape(text("id") or name)
    hint = text("hint")
    error = errors.get(text("key") or name) if errors else None
    value = text("value") if value is None else value
    kind = text("type") or "text"
    described = " ".join(part for part in (f"{field_id}-hint" if hint else "", f"{field_id}-error" if error else "")
                         if part)
    # after the input's own attributes, as every input has them: what describes it, whether it is wrong
    tail = (f' aria-describedby="{described}"' if described else "") + (' aria-invalid="true"' if error else "")
    head = f'class="field__input" id="{field_id}" name="{escape(name)}"'
    out = [f'<div class="field{" field--error" if error else ""}">\n',
           f'  <label class="field__label" for="{field_id}">{escape(text("label") or "")}</label>\n']
    if hint:
        out.append(f'  <p class="field__hint" id="{field_id}-hint">{escape(hint)}</p>\n')
    if error:
        out.append(f'  <p class="field__error" id="{field_id}-error"><span class="visually-hidden">'
                   f'{escape(error_word)}:</span> {escape(error)}</p>\n')
    if kind == "textarea":
        out.append(f'  <textarea {head} rows="4"{tail}>{escape(value or "")}</textarea>\n')
    elif kind == "select":
        unit = get("task_unit")
        picker = f' data-person-picker data-task-unit="{escape(unit)}"' if unit is not _MISSING else ""
        out.append(f"  <select {head}{picker}{tail}>\n")
        for option in text("options") or ():
            units = f' data-units="{escape(option[2])}"' if len(option) > 2 else ""
            chosen = " selected" if option[0] == value else ""
            out.append(f'    <option value="{escape(option[0])}"{units}{chosen}>{escape(option[1])}</option>\n')
        out.append("  </select>\n")
    else:
        auto = text("autocomplete")
        auto_attr = f' autocomplete="{escape(auto)}"' if auto else ""
        out.append(f'  <input {head} type="{escape(kind)}" value="{escape(value or "")}"{auto_attr}{tail}>\n')
    out.append("</div>")
    return Markup("".join(out))  # noqa: S704  (every value above went through escape())


__all__ = ["field_html"]
