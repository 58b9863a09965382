"""What the plugin adds to the engine: a condition and an effect for processes, a recipient form, a job,
a home-page block."""

from __future__ import annotations

from typing import Any

from komunikator.engine.delivery.recipients import Addressee, ResolveContext
from komunikator.engine.jobs import JobContext
from komunikator.engine.runtime.conditions import ConditionContext
from komunikator.engine.runtime.effects import PluginEffect
from komunikator.engine.schema.base import text_for
from komunikator.engine.service.apply import EffectContext
from komunikator.engine.service.row_views import unpack_attribute
from komunikator.engine.store.errors import NotFound
from komunikator.engine.store.scope import TenantScope
from komunikator.plugins.lost_and_found import register
from komunikator.plugins.lost_and_found.names import MANAGE, NAME, RegisterArgs, ValuableArgs
from komunikator.plugins.lost_and_found.register import NewItem


def found_item_valuable(ctx: ConditionContext, args: ValuableArgs | None) -> bool:
    """The report's `value` attribute reaches the threshold (a valuable item goes to the police too)."""
    threshold = args.over if args is not None and args.over is not None else None
    if threshold is None:
        threshold = register.settings_of(ctx.tenant).valuable_over
    value = ctx.ticket.attributes.get("value")
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= threshold


async def register_found_item(ctx: EffectContext, effect: PluginEffect) -> None:
    """Applied in the transition's transaction: the reported item enters the register, linked to the ticket."""
    ticket = ctx.ticket
    attributes = {a.name: unpack_attribute(a.value)
                  for a in await ctx.scope.ticket_attributes().filter(ticket_id=ticket.id)}
    args: RegisterArgs | None = effect.args
    kind = (args.kind if args is not None and args.kind else None) or attributes.get("kind") or "other"
    value = attributes.get("value")
    place = ticket.address or (f"{ticket.lat:.5f}, {ticket.lon:.5f}" if ticket.lat is not None else "—")
    item = NewItem(description=ticket.description[:500], kind=kind if kind in register.KINDS else "other",
                   found_on=register.local_day(ctx.tenant, ticket.created_at), found_at=place[:300],
                   value=int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None)
    await register.add_item(ctx.scope, ctx.tenant, item, ctx.actor, ctx.now, ticket=ticket)


async def keepers(ctx: ResolveContext, argument: str | None) -> list[Addressee]:
    """`lost_and_found.keepers`: staff whose role grants `lost_and_found.manage` (in any unit)."""
    roles = {name for name, role in ctx.tenant.roles.items() if MANAGE in role.permissions}
    return await ctx.resolver.members_with(lambda m: m.role in roles)


async def expire_job(ctx: JobContext) -> int:
    """Every city with the plugin: items kept past their day become unclaimed and the keepers are told."""
    done = 0
    for slug in ctx.cities_with(NAME):
        try:
            scope = await TenantScope.for_slug(slug)
        except NotFound:  # a city no one has used yet keeps no items
            continue
        done += await register.expire(scope, ctx.tenants.tenants[slug], ctx.now)
    return done


async def latest_block(ctx: Any) -> dict[str, Any] | None:
    """The home page's "recently found" block: the five newest items still kept (none: no block)."""
    rows = await register.list_items(ctx.scope, "kept", limit=5)
    if not rows:
        return None
    return {"items": [register.item_data(r, ctx.tenant) for r in rows],
            "office": text_for(dict(register.settings_of(ctx.tenant).office), ctx.language)}


__all__ = ["expire_job", "found_item_valuable", "keepers", "latest_block", "register_found_item"]
