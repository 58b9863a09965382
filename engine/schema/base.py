"""Building blocks shared by every schema model: strict models, ids, texts, durations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema


def yaml_value(value: Any) -> str:
    """A value as it would be written in YAML, for messages: `2026-05-02`, `true`, `'text'`, `[1, 2]`.

    Python's repr (`datetime.date(2026, 5, 2)`) means nothing to a person editing YAML.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{yaml_value(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return repr(str(value))


class Strict(BaseModel):
    """Base of every YAML-facing model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: What an identifier looks like (snake_case, ASCII).
ID_PATTERN = r"^[a-z][a-z0-9_]*$"

#: Identifiers of units, roles, categories, states, transitions, templates…
Id = Annotated[
    str,
    Field(pattern=ID_PATTERN, max_length=64, description="snake_case identifier"),
]

#: Locale codes the product ships translations for.
Locale = Literal["pl", "en"]


def _localized(value: Any) -> Any:
    # A bare string is the same text in every locale.
    if isinstance(value, str):
        return {"*": value}
    return value


#: A resident- or staff-facing text: `{pl: …, en: …}`, or one string for all locales.
LocalizedText = Annotated[
    dict[Literal["pl", "en", "*"], str],
    BeforeValidator(_localized),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"pl": {"type": "string"}, "en": {"type": "string"}},
                    "additionalProperties": False,
                },
            ],
            "description": "text per locale (`{pl: …, en: …}`) or one string for all locales",
        }
    ),
]


#: The keys of a localized text: a locale, or `*` for all of them.
TextKey = Literal["pl", "en", "*"]


def text_for(text: Mapping[TextKey, str] | Mapping[str, str], locale: str, fallback: str = "pl") -> str:
    """Pick a localized text's value for a locale, falling back sensibly."""
    texts = cast(Mapping[str, str], text)  # read-only, so looking up any str key is safe
    return texts.get(locale) or texts.get("*") or texts.get(fallback) or next(iter(texts.values()), "")


DurationUnit = Literal["minutes", "hours", "days", "weeks", "business_days"]

_UNIT_WORDS: dict[str, DurationUnit] = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "business day": "business_days",
    "business days": "business_days",
    "working day": "business_days",
    "working days": "business_days",
}
_DURATION_RE = re.compile(r"^\s*(\d{1,5})\s+([a-z ]+?)\s*$")


@dataclass(frozen=True)
class Duration:
    """An amount of time: `14 business days`, `2 hours`, `30 days`."""

    amount: int
    unit: DurationUnit

    def __str__(self) -> str:
        word = self.unit.replace("_", " ")
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"


def parse_duration(value: Any) -> Duration:
    """Parse the duration syntax; raise ValueError with a helpful message."""
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as '14 business days', got {yaml_value(value)}")
    match = _DURATION_RE.match(value.lower())
    unit = _UNIT_WORDS.get(match.group(2)) if match else None
    if not match or unit is None:
        raise ValueError(
            f"cannot read duration {yaml_value(value)}: write a number and a unit, e.g. "
            "'14 business days', '1 working day', '30 days', '2 weeks', '4 hours', '90 minutes'"
        )
    return Duration(int(match.group(1)), unit)


DurationField = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d+ (minutes?|hours?|days?|weeks?|(business|working) days?)$",
            "description": "a number and a unit: `14 business days`, `30 days`, `4 hours`",
        }
    ),
]
