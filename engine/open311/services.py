"""A city's categories as Open311 services, and their attributes as a service definition.

Only categories a resident may report (`intake: [public …]`) are services;
staff-only questions are never shown. Texts come in the locale asked for (a
city's locale; its own by default), falling back to the city's language.
"""

from __future__ import annotations

from typing import Any

from komunikator.engine.compiled import CompiledCategory, CompiledTenant
from komunikator.engine.open311.errors import bad_request, not_found
from komunikator.engine.schema.base import text_for
from komunikator.engine.schema.categories import Attribute

#: Komunikator's attribute types → Open311 datatypes (the names follow the spec's).
DATATYPES = {"string": "string", "number": "number", "datetime": "datetime", "text": "text",
             "choice": "singlevaluelist", "multichoice": "multivaluelist"}

#: How each datatype is to be written, per language (`datatype_description` when the YAML gives none).
_HOW = {
    "number": {"pl": "liczba", "en": "a number"},
    "datetime": {"pl": "data i godzina w ISO 8601, np. 2026-12-01T09:30:00+01:00",
                 "en": "a date and time in ISO 8601, e.g. 2026-12-01T09:30:00+01:00"},
    "string": {"pl": "krótki tekst", "en": "a short text"},
    "text": {"pl": "tekst", "en": "text"},
    "singlevaluelist": {"pl": "jedna z wartości (key)", "en": "one of the values (key)"},
    "multivaluelist": {"pl": "jedna lub więcej wartości (key), jako attribute[code][]",
                       "en": "one or more of the values (key), as attribute[code][]"},
}
_RANGE = {"pl": "od {min} do {max}", "en": "from {min} to {max}"}
_MAX_LENGTH = {"pl": "najwyżej {n} znaków", "en": "at most {n} characters"}


def pick_locale(tenant: CompiledTenant, asked: str | None, preferred: str | None) -> str:
    """The locale to answer in: `locale` (400 unless the city has it), else Accept-Language's, else the city's."""
    if asked is not None:
        if asked not in tenant.config.locales:
            raise bad_request(f"locale must be one of {', '.join(tenant.config.locales)}")
        return asked
    return preferred if preferred in tenant.config.locales else tenant.config.locale


def public_categories(tenant: CompiledTenant) -> list[CompiledCategory]:
    """The categories residents may report, in the city's order."""
    return [c for c in tenant.categories.values() if "public" in c.spec.intake]


def public_attributes(category: CompiledCategory) -> list[tuple[str, Attribute]]:
    """The questions a resident answers (staff-only ones left out), in the YAML's order."""
    return [(code, a) for code, a in category.spec.attributes.items() if not a.staff_only]


def service(tenant: CompiledTenant, category: CompiledCategory, locale: str) -> dict[str, Any]:
    """One entry of `GET services`."""
    fallback = tenant.config.locale
    spec = category.spec
    group = tenant.category_groups.get(spec.group) if spec.group else None
    return {
        "service_code": category.name,
        "service_name": text_for(dict(spec.name), locale, fallback),
        "description": text_for(dict(spec.description), locale, fallback) if spec.description else "",
        "metadata": bool(public_attributes(category)),
        "type": "realtime",
        "keywords": ",".join(spec.keywords),
        "group": text_for(dict(group.name), locale, fallback) if group is not None else (spec.group or ""),
    }


def services(tenant: CompiledTenant, locale: str) -> list[dict[str, Any]]:
    """`GET services`: every category a resident may report."""
    return [service(tenant, c, locale) for c in public_categories(tenant)]


def find(tenant: CompiledTenant, code: str) -> CompiledCategory:
    """The public category `code`; 404 for an unknown or staff-only one."""
    category = tenant.categories.get(code)
    if category is None or "public" not in category.spec.intake:
        raise not_found("service")
    return category


def definition(tenant: CompiledTenant, code: str, locale: str) -> dict[str, Any]:
    """`GET services/{service_code}`: the category's questions as Open311 attributes."""
    category = find(tenant, code)
    fallback = tenant.config.locale
    attributes = []
    for order, (name, spec) in enumerate(public_attributes(category), start=1):
        datatype = DATATYPES[spec.type]
        attributes.append({
            "variable": True,
            "code": name,
            "datatype": datatype,
            "required": spec.required,
            "datatype_description": _how(spec, datatype, locale, fallback),
            "order": order,
            "description": text_for(dict(spec.label), locale, fallback),
            "values": [{"key": key, "name": text_for(dict(label), locale, fallback)}
                       for key, label in (spec.values or {}).items()],
        })
    return {"service_code": category.name, "attributes": attributes}


def _how(spec: Attribute, datatype: str, locale: str, fallback: str) -> str:
    """The attribute's own description if it has one, else how to write its datatype (with its limits)."""
    if spec.description:
        return text_for(dict(spec.description), locale, fallback)
    lang = locale if locale in ("pl", "en") else "en"
    parts = [_HOW[datatype][lang]]
    if spec.min is not None or spec.max is not None:
        parts.append(_RANGE[lang].format(min=_num(spec.min, "…"), max=_num(spec.max, "…")))
    if spec.max_length is not None:
        parts.append(_MAX_LENGTH[lang].format(n=spec.max_length))
    return ", ".join(parts)


def _num(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:g}"
