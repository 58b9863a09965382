"""The report form's model: the category chooser's groups, the fields a category asks (its attributes, typed),
the submitted form read into an `intake.Submission`, and the refusals turned into messages beside the fields.

Everything the resident typed comes back into the form after a refusal (photos excepted: a
browser cannot be given files back, the message says so). Messages are English here and
translated by the web catalog (`N_`), Polish first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from komunikator.engine.compiled import CompiledCategory, CompiledTenant
from komunikator.engine.schema.categories import Attribute
from komunikator.engine.service import intake
from komunikator.engine.service.errors import ServiceError
from komunikator.web.staff.i18n import N_, localized

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: the text fields of the form and their longest values
TEXT_FIELDS = {"csrf_token": 200, "idempotency_key": 100, "category": 64, "lat": 32, "lon": 32, "address": 300,
               "description": 5000, "email": 254, "name": 200}

#: the service's refusal codes (and fields) as messages to the resident
MESSAGES = {
    "missing_location": N_("Put the pin on the map, use your location, or describe where it is"),
    "outside_tenant": N_("This place lies outside the city: reports are taken only within its boundary"),
    "contact_required": N_("Enter your e-mail address: the office needs to reach you about this kind of problem"),
    "invalid_email": N_("Enter an e-mail address in the right format, like name@example.pl"),
    "description": N_("Describe the problem"),
    "description_long": N_("The description can have at most 5000 characters"),
    "missing_attribute": N_("Answer this question"),
    "invalid_attribute": N_("Check this answer"),
    "number": N_("Enter a number"),
    "photos_required": N_("Add a photo: the office needs one for this kind of problem"),
    "photos_not_accepted": N_("This kind of report takes no photos"),
    "too_many_attachments": N_("Too many photos"),
    "file_too_large": N_("A photo is too large"),
    "unsupported_media_type": N_("A file is not a photo the office can take (JPEG, PNG or WebP)"),
    "invalid_image": N_("A photo could not be read"),
    "too_many_requests": N_("Too many reports were sent from here. Try again later."),
    "category": N_("Choose a category"),
    "photos_again": N_("Photos are not kept after a refused form: add them again"),
    "location_format": N_("The location is not a valid map position"),
    "generic": N_("Check this field"),
}


@dataclass(frozen=True)
class Question:
    """One attribute of a category, as the form asks it."""

    name: str
    spec: Attribute

    @property
    def field(self) -> str:
        """The form field's name."""
        return f"attr.{self.name}"

    @property
    def id(self) -> str:
        """The form field's id."""
        return f"attr-{self.name}"


@dataclass
class FormState:
    """What the form shows: the resident's values and the messages beside the fields (field id → message)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def questions(category: CompiledCategory) -> list[Question]:
    """The category's questions a resident answers (staff-only ones left out), in YAML order."""
    return [Question(name, spec) for name, spec in category.spec.attributes.items() if not spec.staff_only]


def public_categories(tenant: CompiledTenant) -> dict[str, CompiledCategory]:
    """The categories residents may report (`intake` includes `public`)."""
    return {name: c for name, c in tenant.categories.items() if "public" in c.spec.intake}


def grouped(tenant: CompiledTenant, language: str) -> list[dict[str, Any]]:
    """The public categories by group (groups in their `order`, then by name); categories by name."""
    groups: dict[str | None, list[CompiledCategory]] = {}
    for category in public_categories(tenant).values():
        groups.setdefault(category.spec.group, []).append(category)
    out = []
    for key, members in groups.items():
        group = tenant.category_groups.get(key) if key else None
        out.append({
            "key": key or "other", "name": localized(group.name, language) if group else "",
            "icon": group.icon if group else None, "order": group.order if group else 10_000,
            "categories": sorted(({"name": c.name, "label": localized(c.spec.name, language),
                                   "description": localized(c.spec.description, language),
                                   "keywords": " ".join(c.spec.keywords)} for c in members),
                                  key=lambda c: c["label"].lower()),
        })
    return sorted(out, key=lambda g: (g["order"], g["name"].lower()))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(raw: str) -> float | int | None:
    try:
        number = float(raw.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in raw and "," not in raw else number


def answers(form: FormData, asked: list[Question], state: FormState) -> dict[str, Any]:
    """The attributes' answers, typed by their YAML (blank answers left out); type errors noted in `state`."""
    given: dict[str, Any] = {}
    for question in asked:
        kind = question.spec.type
        if kind == "multichoice":
            picked = [v for v in form.getlist(question.field) if isinstance(v, str)]
            state.values[question.field] = picked
            if picked:
                given[question.name] = picked
            continue
        raw = _text(form, question.field)
        state.values[question.field] = raw
        if not raw:
            continue
        if kind == "number":
            number = _number(raw)
            if number is None:
                state.errors[question.id] = MESSAGES["number"]
                continue
            given[question.name] = number
        else:
            given[question.name] = raw
    return given


def read(form: FormData, category: CompiledCategory, signed_in: bool) -> tuple[intake.Submission | None, FormState]:
    """The submission the form holds, or None with the messages saying what to fix (field id → message)."""
    state = FormState({name: _text(form, name) for name in TEXT_FIELDS if name != "csrf_token"})
    values = state.values
    for name, longest in TEXT_FIELDS.items():
        if len(values.get(name, "")) > longest:
            state.errors[name] = MESSAGES["description_long"] if name == "description" else MESSAGES["generic"]
    given = answers(form, questions(category), state)
    lat = lon = None
    if values["lat"] or values["lon"]:
        lat, lon = _number(values["lat"]), _number(values["lon"])
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            state.errors["location"] = MESSAGES["location_format"]
    elif not values["address"]:  # no pin and no words: say so with the other messages (the service agrees)
        state.errors["location"] = MESSAGES["missing_location"]
    for question in questions(category):  # every unanswered required question at once, not the first only
        if question.spec.required and question.name not in given and question.id not in state.errors:
            state.errors[question.id] = MESSAGES["missing_attribute"]
    if not values["description"]:
        state.errors["description"] = MESSAGES["description"]
    email = values["email"]
    if email and not EMAIL.match(email):
        state.errors["email"] = MESSAGES["invalid_email"]
    elif not email and not signed_in and not category.spec.anonymous:
        state.errors["email"] = MESSAGES["contact_required"]
    if state.errors:
        return None, state
    reporter = None
    if not signed_in and (email or values["name"]):
        reporter = intake.ReporterIn(email=email or None, name=values["name"] or None)
    submission = intake.Submission(category=category.name, description=values["description"], attributes=given,
                                   lat=lat, lon=lon, address=values["address"] or None, reporter=reporter)
    return submission, state


def photo_files(form: FormData) -> list[UploadFile]:
    """The chosen photos (an empty file input sends one nameless empty part: not a photo)."""
    return [item for item in form.getlist("photos") if isinstance(item, UploadFile) and (item.filename or item.size)]


def refusal_field(error: ServiceError, asked: list[Question]) -> tuple[str, str]:
    """Where a service refusal belongs on the form (a field id, or `form`) and its message."""
    where = error.field or ""
    code = error.code
    if where.startswith("attributes."):
        name = where.split(".", 1)[1]
        if any(q.name == name for q in asked):
            return f"attr-{name}", MESSAGES.get(code, MESSAGES["invalid_attribute"])
    if code in ("missing_location", "outside_tenant") or where in ("lat", "lon"):
        return "location", MESSAGES.get(code, MESSAGES["location_format"])
    if where.startswith("photos") or code in ("photos_not_accepted", "too_many_attachments", "file_too_large",
                                              "unsupported_media_type", "invalid_image"):
        return "photos", MESSAGES.get(code, MESSAGES["invalid_image"])
    if code == "contact_required" or where.startswith("reporter"):
        return "email", MESSAGES.get(code, MESSAGES["invalid_email"])
    if where == "description":
        return "description", MESSAGES["description"]
    if code == "too_many_requests":
        return "form", MESSAGES["too_many_requests"]
    return "form", MESSAGES["generic"]


def choices(question: Question, language: str) -> list[tuple[str, str]]:
    """A choice question's options (value, label)."""
    return [(value, localized(label, language)) for value, label in (question.spec.values or {}).items()]


def labels(asked: list[Question], language: str) -> Mapping[str, str]:
    """Each question's label by field id (for the error summary)."""
    return {q.id: localized(q.spec.label, language) for q in asked}
