"""The plugin's JSON API, under `/api/v1/plugins/lost_and_found` (404 in a city that has not enabled it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from komunikator.engine.runtime.access import has_permission
from komunikator.plugins.lost_and_found import register
from komunikator.plugins.lost_and_found.names import KINDS, MANAGE
from komunikator.plugins.lost_and_found.register import NewItem
from komunikator.web.actors import StaffActor
from komunikator.web.deps import Now, Scope
from komunikator.web.errors import ApiError
from komunikator.web.tenancy import Tenant


class ItemIn(BaseModel):
    """A found item handed in at the office."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=500)
    kind: Literal[KINDS] = "other"  # type: ignore[valid-type]
    found_on: date
    found_at: str = Field(min_length=1, max_length=300)
    value: int | None = Field(None, ge=0, lt=10_000_000, description="estimated, in PLN")


class ReturnIn(BaseModel):
    """Who took the item back."""

    model_config = ConfigDict(extra="forbid")

    returned_to: str = Field(min_length=1, max_length=200)


def router() -> APIRouter:
    """The routes (a factory: the app mounts them under the plugin's prefix, gated per city)."""
    api = APIRouter()

    def keeper(tenant: Any, actor: Any) -> None:
        if not has_permission(tenant, actor.view, MANAGE):
            raise ApiError(403, "forbidden", f"keeping the register needs the permission {MANAGE!r}")

    @api.get("/items")
    async def items(tenant: Tenant, scope: Scope,
                    status: Annotated[Literal["kept", "returned", "unclaimed"], Query()] = "kept",
                    after: Annotated[int | None, Query(ge=1, lt=2**31)] = None) -> dict[str, Any]:
        """Found items, newest first (public: residents look for their things); `after` pages by id."""
        rows = await register.list_items(scope, status, after)
        return {"items": [register.item_data(r, tenant) for r in rows],
                "next": rows[-1].id if len(rows) == register.PAGE else None}

    @api.post("/items", status_code=201)
    async def add(body: ItemIn, tenant: Tenant, scope: Scope, actor: StaffActor, now: Now) -> dict[str, Any]:
        """Register an item (staff with `lost_and_found.manage`)."""
        keeper(tenant, actor)
        row = await register.add_item(scope, tenant, NewItem(body.description, body.kind, body.found_on,
                                                             body.found_at, body.value), actor.view, now)
        return register.item_data(row, tenant)

    @api.post("/items/{item_id}/return")
    async def give_back(item_id: int, body: ReturnIn, tenant: Tenant, scope: Scope, actor: StaffActor,
                        now: Now) -> dict[str, Any]:
        """The owner took it (staff with `lost_and_found.manage`); 409 when it left the register already."""
        keeper(tenant, actor)
        if not 0 < item_id < 2**31:
            raise ApiError(404, "not_found", "no such item")
        row = await register.return_item(scope, item_id, body.returned_to, actor.view, now)
        return register.item_data(row, tenant)

    return api
