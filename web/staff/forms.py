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
from komunikator.engine.service.ticket_relations import Candidate
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
           people: list[Candidate], category: str, task_unit: str | None = None) -> dict[str, Any]:
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
        # a unit's people: each option names the units whose tasks the person handles (`access.handles`,
        # the rule `delegate` checks); app.js shows only those of the chosen unit (else the task's own)
        spec["type"] = "select"
        spec["task_unit"] = task_unit or ""
        spec["hint"] = t.gettext("Only people who handle the tasks of the chosen unit (or of the task's unit).")

        def unit_names(units: tuple[str, ...]) -> str:
            return ", ".join(localized(tenant.units[u].name, language) for u in units if u in tenant.units)

        spec["options"] = [choose, *((c.id, f"{c.name} — {unit_names(c.units)}", " ".join(c.units))
                                     for c in people)]
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
          people: list[Candidate], category: str) -> tuple[list[ActionForm], dict[str, list[ActionForm]]]:
    """The ticket's forms and, per task key, the task's forms."""
    base = f"/staff/tickets/{number}"
    ticket_forms = []
    for action in offer.actions:
        form_id = f"act-{action.name}"
        label = (localized(action.label, language) if action.label
                 else t.gettext(words.BUILTIN_ACTIONS.get(action.name, action.name)))
        form = ActionForm(form_id, f"{base}/act", action.name, label)
        form.fields = [_field(form_id, name, tenant, t, language, people, category) for name in action.requires]
        ticket_forms.append(form)
    task_forms: dict[str, list[ActionForm]] = {}
    units = {task.key: task.unit for task in offer.source.tasks} if offer.source is not None else {}
    for key, actions in offer.tasks.items():
        forms = []
        for task_action in actions:
            form_id = f"task-{key}-{task_action.name}"
            form = ActionForm(form_id, f"{base}/tasks/{key}", task_action.name,
                              t.gettext(words.TASK_ACTIONS.get(task_action.name, task_action.name)), key)
            names = [n for need in task_action.requires for n in need.split("|")]
            form.fields = [_field(form_id, name, tenant, t, language, people, category, units.get(key))
                           for name in names]
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


def photo_forms(number: str, photos: list[dict[str, Any]], t: Translations) -> dict[int, ActionForm]:
    """Per photo, hiding it (a reason required) or showing it again — for a role that may (`hide_photos`)."""
    out = {}
    for index, photo in enumerate(photos, 1):
        name = t.gettext("Photo %(num)d") % {"num": index}
        hidden = photo["hidden"] is not None
        action = "restore" if hidden else "hide"
        form_id = f"photo-{photo['id']}-{action}"
        label = (t.gettext("Show %(photo)s again") if hidden else t.gettext("Hide %(photo)s")) % {"photo": name}
        form = ActionForm(form_id, f"/staff/tickets/{number}/photos/{photo['id']}/{action}", action, label)
        form.fields = [{"name": "reason", "key": "reason", "id": f"{form_id}-reason", "type": "textarea", "value": "",
                        "label": t.gettext("Reason (optional)") if hidden else t.gettext("Reason")}]
        if not hidden:
            form.fields[0]["hint"] = t.gettext("For example: a face or a number plate. Staff still see the photo.")
        out[photo["id"]] = form
    return out
