"""The action forms of the ticket page, generated from what the engine offers (`offers.Offer`).

One form per offered action; its fields are exactly the inputs the action requires
(`Action.requires`, `TaskAction.requires` with `a|b` alternatives). The form carries the
ticket's version, so a form drawn before someone else's change is refused (409), not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from babel.support import Translations

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.web.staff import words
from komunikator.web.staff.i18n import localized
from komunikator.web.staff.offers import Offer

TEXT_INPUTS = {"public_comment", "internal_comment", "reason", "comment"}


@dataclass
class ActionForm:
    """One action's form: where it posts, its button, its fields."""

    id: str
    url: str
    action: str
    label: str
    task: str | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)


def _field(form_id: str, name: str, tenant: CompiledTenant, t: Translations, language: str,
           staff: list[tuple[str, str]], category: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "key": name, "id": f"{form_id}-{name}",
                            "label": t.gettext(words.INPUTS.get(name, name)), "type": "text", "value": ""}
    choose = ("", t.gettext("— choose —"))
    if name in TEXT_INPUTS:
        spec["type"] = "textarea"
    elif name in ("unit", "to_unit"):
        spec["type"] = "select"
        units = ((u, localized(unit.name, language)) for u, unit in tenant.units.items())
        spec["options"] = [choose, *sorted(units, key=lambda o: o[1])]
    elif name == "to_user":
        spec["type"] = "select"
        spec["options"] = [choose, *staff]
    elif name == "priority":
        spec["type"] = "select"
        spec["options"] = [(p, t.gettext(words.PRIORITIES.get(p, p))) for p in PRIORITIES]
    elif name == "category":
        spec["type"] = "select"
        others = ((c, localized(cat.spec.name, language))
                  for c, cat in tenant.categories.items() if c != category)
        spec["options"] = [choose, *sorted(others, key=lambda o: o[1])]
    return spec


def build(number: str, offer: Offer, tenant: CompiledTenant, t: Translations, language: str,
          staff: list[tuple[str, str]], category: str) -> tuple[list[ActionForm], dict[str, list[ActionForm]]]:
    """The ticket's forms and, per task key, the task's forms."""
    base = f"/staff/tickets/{number}"
    ticket_forms = []
    for action in offer.actions:
        form_id = f"act-{action.name}"
        label = (localized(action.label, language) if action.label
                 else t.gettext(words.BUILTIN_ACTIONS.get(action.name, action.name)))
        form = ActionForm(form_id, f"{base}/act", action.name, label)
        form.fields = [_field(form_id, name, tenant, t, language, staff, category) for name in action.requires]
        ticket_forms.append(form)
    task_forms: dict[str, list[ActionForm]] = {}
    for key, actions in offer.tasks.items():
        forms = []
        for task_action in actions:
            form_id = f"task-{key}-{task_action.name}"
            form = ActionForm(form_id, f"{base}/tasks/{key}", task_action.name,
                              t.gettext(words.TASK_ACTIONS.get(task_action.name, task_action.name)), key)
            names = [n for need in task_action.requires for n in need.split("|")]
            form.fields = [_field(form_id, name, tenant, t, language, staff, category) for name in names]
            forms.append(form)
        task_forms[key] = forms
    return ticket_forms, task_forms


def comment_form(number: str, offer: Offer, tenant: CompiledTenant, t: Translations,
                 language: str) -> ActionForm | None:
    """The comment form: the kinds `capabilities` allows this user now (None if none)."""
    if not offer.comment_kinds:
        return None
    form = ActionForm("comment", f"/staff/tickets/{number}/comments", "comment", t.gettext("Add a comment"))
    kinds = [(kind, t.gettext(words.VISIBILITY.get(kind, kind))) for kind in offer.comment_kinds]
    form.fields = [
        {"name": "visibility", "key": "visibility", "id": "comment-visibility", "label": t.gettext("Kind"),
         "type": "select", "options": kinds, "value": kinds[0][0]},
        {"name": "body", "key": "body", "id": "comment-body", "label": t.gettext("Text"), "type": "textarea",
         "value": ""},
    ]
    if "to_unit" in offer.comment_kinds:
        units = sorted(((u, localized(unit.name, language)) for u, unit in tenant.units.items()), key=lambda o: o[1])
        form.fields.append({"name": "target_unit", "key": "target_unit", "id": "comment-target_unit",
                            "label": t.gettext("Unit (for a message to a unit)"), "type": "select",
                            "options": [("", t.gettext("— choose —")), *units], "value": ""})
    return form


def edit_form(number: str, ticket: dict[str, Any], tenant: CompiledTenant, t: Translations,
              language: str) -> ActionForm:
    """Changing the report's own fields (verification): description, address, location, attributes."""
    form = ActionForm("edit", f"/staff/tickets/{number}/edit", "edit", t.gettext("Edit the report"))

    def text(name: str, label: str, value: Any, kind: str = "text") -> dict[str, Any]:
        return {"name": name, "key": name, "id": f"edit-{name}", "label": label, "type": kind,
                "value": "" if value is None else str(value)}

    form.fields = [
        text("description", t.gettext(words.FIELDS["description"]), ticket["description"], "textarea"),
        text("address", t.gettext(words.FIELDS["address"]), ticket["address"]),
        text("lat", t.gettext(words.FIELDS["lat"]), ticket["lat"]),
        text("lon", t.gettext(words.FIELDS["lon"]), ticket["lon"]),
    ]
    category = tenant.categories.get(ticket["category"])  # None after a definition change (`known`)
    for name, spec in (category.spec.attributes if category is not None else {}).items():
        if spec.type == "multichoice":
            continue  # several values: not editable here yet
        field = text(f"attr__{name}", localized(spec.label, language), ticket["attributes"].get(name))
        if spec.type == "choice" and spec.values:
            field["type"] = "select"
            field["options"] = [("", t.gettext("— choose —")),
                                *((key, localized(label, language)) for key, label in spec.values.items())]
        elif spec.type == "text":
            field["type"] = "textarea"
        form.fields.append(field)
    return form
