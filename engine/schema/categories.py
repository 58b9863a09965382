"""`category_groups:` and `categories:` — what residents can report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from komunikator.engine.schema.base import DurationField, Id, LocalizedText, Strict, yaml_value

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")

#: Who may file a category: residents (public) and/or staff.
Intake = Literal["public", "staff"]
INTAKES: tuple[Intake, ...] = ("public", "staff")

#: Attribute types; the names follow Open311 GeoReport v2 datatypes
#: (choice = singlevaluelist, multichoice = multivaluelist).
AttributeType = Literal["string", "number", "datetime", "text", "choice", "multichoice"]


class Attribute(Strict):
    """A category-specific question asked on the report form."""

    type: AttributeType
    label: LocalizedText
    description: LocalizedText | None = None
    required: bool = False
    values: dict[Id, LocalizedText] | None = Field(None, description="the options of choice/multichoice")
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(None, ge=1)
    default: Any = None
    staff_only: bool = Field(False, description="asked of staff only, never shown to residents")

    @model_validator(mode="after")
    def _consistent(self) -> Attribute:
        choice = self.type in ("choice", "multichoice")
        if choice and not self.values:
            raise ValueError(f"an attribute of type {self.type} needs `values`")
        if not choice and self.values:
            raise ValueError(f"`values` only go with choice or multichoice, not {self.type}")
        if (self.min is not None or self.max is not None) and self.type != "number":
            raise ValueError("`min`/`max` only go with type number")
        if self.max_length is not None and self.type not in ("string", "text"):
            raise ValueError("`max_length` only goes with string or text")
        return self

    def check_value(self, value: Any) -> str | None:
        """None if `value` fits this attribute, otherwise what is wrong."""
        if self.type in ("string", "text"):
            if not isinstance(value, str):
                return f"expected text, got {yaml_value(value)}"
            if self.max_length is not None and len(value) > self.max_length:
                return f"longer than {self.max_length} characters"
            return None
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"expected a number, got {yaml_value(value)}"
            if self.min is not None and value < self.min:
                return f"{value} is below the minimum {self.min:g}"
            if self.max is not None and value > self.max:
                return f"{value} is above the maximum {self.max:g}"
            return None
        if self.type == "datetime":
            if isinstance(value, dt.date):
                return None
            if isinstance(value, str):
                try:
                    dt.datetime.fromisoformat(value)
                except ValueError:
                    return f"expected an ISO 8601 date or time, got {yaml_value(value)}"
                return None
            return f"expected an ISO 8601 date or time, got {yaml_value(value)}"
        options = self.values or {}
        if self.type == "choice":
            # isinstance first: a list or dict from JSON is unhashable and would raise in `in`
            if isinstance(value, str) and value in options:
                return None
            return f"{yaml_value(value)} is not one of {sorted(options)}"
        if not isinstance(value, list):
            return f"expected a list of options, got {yaml_value(value)}"
        unknown = [v for v in value if not isinstance(v, str) or v not in options]
        return f"{yaml_value(unknown)} not among {sorted(options)}" if unknown else None


class CategoryGroup(Strict):
    """A heading that groups categories on the report form."""

    name: LocalizedText
    icon: str | None = None
    order: int = 0


class Sla(Strict):
    """Service levels of a category; priorities may shorten them."""

    verify: DurationField | None = Field(None, description="time to verify a new report")
    resolve: DurationField | None = Field(None, description="time to resolve")
    by_priority: dict[Priority, dict[Id, DurationField]] = Field(
        default_factory=dict,
        description="per priority, SLA names replaced by shorter ones: {urgent: {resolve: 1 business day}}",
    )

    def named(self) -> dict[str, Any]:
        """The base SLAs that are set, by name."""
        return {k: v for k, v in (("verify", self.verify), ("resolve", self.resolve)) if v is not None}


class NearbyReports(Strict):
    """Which open reports the portal's form shows before sending, as possibly the same problem ("Is this yours?")."""

    distance: int = Field(150, ge=0, le=5000, description="metres from the pin (0: ask nothing, show none)")
    days: int = Field(30, ge=1, le=365, description="reported within this many days")


class Category(Strict):
    """What a resident can report and how the office handles it."""

    name: LocalizedText
    description: LocalizedText | None = None
    group: Id | None = None
    process: Id | None = None
    unit: Id | None = Field(None, description="the responsible unit")
    priority: Priority = "normal"
    sla: Sla = Sla()
    intake: list[Intake] = Field(default_factory=lambda: list(INTAKES))
    public_map: Literal["shown", "blurred", "hidden"] = Field(
        "shown", description="how public pages and feeds show its reports: shown (the pin as reported), blurred "
        "(the pin rounded to about 100 m), hidden (not at all: no map, no list, its public page a 404)")
    anonymous: bool = Field(True, description="may be reported without contact data")
    photo: Literal["optional", "required", "none"] = "optional"
    keywords: list[str] = Field(default_factory=list)
    attributes: dict[Id, Attribute] = Field(default_factory=dict)
    nearby: NearbyReports = Field(NearbyReports(), description="open reports of this category near the pin, "
                                  "shown on the portal's form so a resident can follow one instead of a duplicate")
