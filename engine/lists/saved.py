"""Saved views: a name for a list's filter, sort and columns, kept in the database per city.

A view is personal (its owner's), shared with a unit (the owner's; members of
that unit and of the units below it see it) or shared with the whole office
(user managers only). A user picks one default view per list. Creating,
deleting and choosing a default are audited.

A view never widens what anyone reads: opening it is opening the list with
its filter, and the list applies the reader's visibility after the filter,
always (`query.py`).
"""

from __future__ import annotations

import json
from datetime import datetime

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.declared import manages_users
from komunikator.engine.lists.view import View, open_view
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.apply import audit
from komunikator.engine.service.errors import ServiceError, invalid, not_found
from komunikator.engine.store.models import VIEW_SHARING, DefaultView, SavedView
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

MAX_NAME = 100


def _units(tenant: CompiledTenant, user: UserView) -> set[str]:
    """The units whose shared views the user sees: their memberships' units and every unit above them."""
    out: set[str] = set()
    for m in user.memberships:
        out |= {unit for unit, below in tenant.unit_subtree.items() if m.unit in below}
    return out


def may_read(tenant: CompiledTenant, user: UserView, view: SavedView) -> bool:
    """Whether the user may open the saved view (its owner, its unit's members, or everyone for the office)."""
    if str(view.owner_id) == user.id:  # type: ignore[attr-defined]
        return True
    if view.sharing == "office":
        return True
    return view.sharing == "unit" and view.unit is not None and view.unit in _units(tenant, user)


async def readable(scope: TenantScope, tenant: CompiledTenant, user: UserView, list_name: str) -> list[SavedView]:
    """The saved views of a list the user may open: their own first, then shared ones, by name."""
    rows = await scope.query(SavedView).filter(list_name=list_name).order_by("name", "id")
    mine = [v for v in rows if str(v.owner_id) == user.id]  # type: ignore[attr-defined]
    shared = [v for v in rows if v not in mine and may_read(tenant, user, v)]
    return mine + shared


async def save(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, name: str, sharing: str,
               now: datetime, unit: str | None = None) -> SavedView:
    """Save `view` under `name`. `unit` sharing needs a unit of the user's (the first one when not given);
    `office` sharing needs a role that manages users."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        raise invalid(f"the name of a view has 1 to {MAX_NAME} characters", "name")
    if sharing not in VIEW_SHARING:
        raise invalid(f"sharing is one of {', '.join(VIEW_SHARING)}", "sharing")
    own_units = [m.unit for m in user.memberships]
    if sharing == "unit":
        unit = unit or (own_units[0] if own_units else None)
        if unit is None or unit not in own_units:
            raise invalid("a view is shared with a unit you belong to", "unit")
    else:
        unit = None
    if sharing == "office" and not manages_users(tenant, user):
        raise ServiceError(403, "forbidden", "only user managers share views with the whole office")
    params = view.params()
    async with transaction():
        row = await scope.create(SavedView, owner_id=int(user.id), list_name=view.spec.name, name=name,
                                 filter_document=dict(view.filter.document), sort=params["sort"],
                                 columns=params["columns"], sharing=sharing, unit=unit)
        await audit(scope, None, user, "saved_view_create", {}, {
            "view": row.id, "list": view.spec.name, "name": name, "sharing": sharing, "unit": unit,
            "filter": dict(view.filter.document), "sort": params["sort"], "columns": params["columns"]}, now)
    return row


async def find(scope: TenantScope, tenant: CompiledTenant, user: UserView, view_id: int) -> SavedView:
    """A saved view the user may open; 404 otherwise (the same for other people's and missing ones)."""
    row = await scope.find(SavedView, id=view_id) if 0 < view_id < 2**31 else None
    if row is None or not may_read(tenant, user, row):
        raise not_found("saved view")
    return row


def opened(tenant: CompiledTenant, user: UserView, row: SavedView) -> View:
    """The list view a saved view holds, checked again (the configuration may have changed since)."""
    document = json.dumps(row.filter_document, ensure_ascii=False) if row.filter_document else None
    return open_view(tenant, user, row.list_name, filter_text=document, sort=row.sort or None,
                     columns=row.columns or None)


async def delete(scope: TenantScope, tenant: CompiledTenant, user: UserView, view_id: int, now: datetime) -> None:
    """Delete a view: its owner, or a user manager for a view shared with the office."""
    row = await find(scope, tenant, user, view_id)
    if str(row.owner_id) != user.id and not (row.sharing == "office" and manages_users(tenant, user)):  # type: ignore[attr-defined]
        raise ServiceError(403, "forbidden", "only its owner deletes a view")
    async with transaction():
        await audit(scope, None, user, "saved_view_delete", {"view": row.id, "list": row.list_name,
                                                              "name": row.name, "sharing": row.sharing}, {}, now)
        await scope.query(DefaultView).filter(view_id=row.id).delete()
        await scope.query(SavedView).filter(id=row.id).delete()


async def set_default(scope: TenantScope, tenant: CompiledTenant, user: UserView, view_id: int | None,
                      list_name: str, now: datetime) -> None:
    """Make a view the user's default for its list (None: no default)."""
    row = await find(scope, tenant, user, view_id) if view_id is not None else None
    if row is not None and row.list_name != list_name:
        raise invalid("the view belongs to another list", "view")
    async with transaction():
        await scope.query(DefaultView).filter(user_id=int(user.id), list_name=list_name).delete()
        if row is not None:
            await scope.create(DefaultView, user_id=int(user.id), list_name=list_name, view_id=row.id)
        await audit(scope, None, user, "saved_view_default", {}, {"list": list_name,
                                                                   "view": row.id if row else None}, now)


async def default_of(scope: TenantScope, tenant: CompiledTenant, user: UserView, list_name: str) -> SavedView | None:
    """The user's default view of a list, if they chose one and may still open it."""
    chosen = await scope.query(DefaultView).filter(user_id=int(user.id), list_name=list_name).first()
    if chosen is None:
        return None
    row = await scope.find(SavedView, id=chosen.view_id)  # type: ignore[attr-defined]
    return row if row is not None and may_read(tenant, user, row) else None


__all__ = ["default_of", "delete", "find", "may_read", "opened", "readable", "save", "set_default"]
