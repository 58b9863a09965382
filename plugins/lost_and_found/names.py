"""The plugin's names and the argument models its YAML uses: light to import (the compiler reads them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = "lost_and_found"
#: The permission to keep the register (granted to roles in YAML).
MANAGE = f"{NAME}.manage"
#: The event of an item nobody claimed in time (notification rules name it).
UNCLAIMED = f"{NAME}.item_unclaimed"
#: Kinds of things, as the register sorts them.
KINDS = ("documents", "keys", "phone", "wallet", "bag", "bicycle", "jewellery", "clothing", "other")


class ValuableArgs(BaseModel):
    """`found_item_valuable` or `{found_item_valuable: 500}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    over: int | None = Field(None, ge=0, description="PLN (default: the city's `valuable_over`)")


class RegisterArgs(BaseModel):
    """`register_found_item` or `{register_found_item: keys}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal[KINDS] | None = Field(  # type: ignore[valid-type]
        None, description="the kind (default: the report's `kind` attribute, else other)")
