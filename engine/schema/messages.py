"""`templates:` and `notifications:` — what is sent, to whom, when."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from komunikator.engine.schema.base import Id, LocalizedText, Strict
from komunikator.engine.schema.refs import RecipientField

Channel = Literal["email", "push", "inbox"]
DEFAULT_CHANNELS: tuple[Channel, ...] = ("email",)

#: An event notification rules listen to: one of the engine's (`ticket_created`, … — the registry's
#: `BUILTIN_EVENTS`) or a plugin's (`lost_and_found.item_expiring`); the compiler checks it exists.
EventName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"),
    Field(description="an event: ticket_created, ticket_state_changed, … or a plugin's PLUGIN.EVENT"),
]


class Template(Strict):
    """A message: a Jinja2 subject and body per locale (HTML is made from the text)."""

    subject: LocalizedText
    text: LocalizedText
    html: LocalizedText | None = Field(None, description="optional hand-written HTML body")
    push: LocalizedText | None = Field(None, description="short text for Web Push and the inbox")


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


class NotificationRule(Strict):
    """On an event, send a template to recipients over channels."""

    on: EventName
    to: Annotated[list[RecipientField], BeforeValidator(_listify)]
    template: Id
    channels: list[Channel] = Field(default_factory=lambda: list(DEFAULT_CHANNELS))
    categories: list[Id] | None = Field(None, description="only for these categories (default: all)")
