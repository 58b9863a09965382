"""The plugin's YAML section: `lost_and_found:` in a city that enables it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.schema.base import LocalizedText


class LostAndFoundSettings(BaseModel):
    """How long the office keeps found items, where residents collect them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_days: int = Field(730, ge=1, le=3650, description="days an item is kept before it counts as unclaimed "
                                                           "(two years under the Polish act on found items)")
    office: LocalizedText = Field(description="where residents collect their things (address, opening hours)")
    valuable_over: int = Field(100, ge=0, description="estimated value (PLN) from which an item counts as valuable")
