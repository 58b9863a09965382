"""Lost and found (biuro rzeczy znalezionych): the example plugin, using every surface of the protocol.

A city enables it (`plugins: [lost_and_found]` and a `lost_and_found:`
section) and gets: a register of found items in its own table and
migrations; an API (`/api/v1/plugins/lost_and_found/items`) and a page for
residents (`/lost_and_found`); the permission `lost_and_found.manage` for
roles; the effect `register_found_item` and the condition
`found_item_valuable` for its processes; the event
`lost_and_found.item_unclaimed` and the recipient form
`lost_and_found.keepers` for its notification rules; the job
`lost_and_found.expire`; commands `komunikator lost_and_found import|list`;
a navigation entry and a home-page block. See docs/plugins.md.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from komunikator.engine.config.registry import (
    ConditionDef,
    EffectDef,
    EventDef,
    HomeBlock,
    JobDef,
    NavEntry,
    Plugin,
    RecipientDef,
)
from komunikator.plugins.lost_and_found.names import MANAGE, NAME, UNCLAIMED, RegisterArgs, ValuableArgs
from komunikator.plugins.lost_and_found.settings import LostAndFoundSettings

HERE = Path(__file__).parent


# The behaviour is imported when first used: `komunikator check` reads this object and should not pay
# for the web, the store and the delivery layers it never calls.


def _valuable(ctx: Any, args: Any) -> bool:
    from komunikator.plugins.lost_and_found.behaviour import found_item_valuable

    return found_item_valuable(ctx, args)


async def _register(ctx: Any, effect: Any) -> None:
    from komunikator.plugins.lost_and_found.behaviour import register_found_item

    await register_found_item(ctx, effect)


async def _keepers(ctx: Any, argument: str | None) -> list[Any]:
    from komunikator.plugins.lost_and_found.behaviour import keepers

    return await keepers(ctx, argument)


async def _expire(ctx: Any) -> int:
    from komunikator.plugins.lost_and_found.behaviour import expire_job

    return await expire_job(ctx)


async def _kept(ctx: Any) -> int:
    from komunikator.plugins.lost_and_found.register import kept_count

    return await kept_count(ctx.scope)


async def _latest(ctx: Any) -> Any:
    from komunikator.plugins.lost_and_found.behaviour import latest_block

    return await latest_block(ctx)


def _api() -> Any:
    from komunikator.plugins.lost_and_found.api import router

    return router()


def _pages() -> Any:
    from komunikator.plugins.lost_and_found.pages import router

    return router()


def _cli() -> Any:
    from komunikator.plugins.lost_and_found.cli import app

    return app()


plugin = Plugin(
    name=NAME,
    description="lost and found: the register of items handed in at the office",
    section=LostAndFoundSettings,
    conditions=(ConditionDef("found_item_valuable", "the report's `value` attribute reaches a threshold (PLN)",
                             ValuableArgs, "over", _valuable),),
    effects=(EffectDef("register_found_item", "put the reported item in the register of found items",
                       RegisterArgs, "kind", apply=_register),),
    events=(EventDef(UNCLAIMED, "an item was kept its full time and nobody claimed it",
                     MappingProxyType({"event.id": "the item's number", "event.description": "what it is",
                                       "event.found_on": "when it was found", "event.kept_until": "its last day"})),),
    recipients=(RecipientDef(f"{NAME}.keepers", "staff whose role has lost_and_found.manage", _keepers),),
    permissions=MappingProxyType({MANAGE: "register found items and hand them back"}),
    models="komunikator.plugins.lost_and_found.models",
    migrations="komunikator.plugins.lost_and_found.migrations",
    api=_api,
    pages=_pages,
    templates=HERE / "templates",
    translations=HERE / "locale",
    cli=_cli,
    jobs=(JobDef(f"{NAME}.expire", "mark items nobody claimed in time, tell the keepers", 3600.0, _expire),),
    nav=(NavEntry(MappingProxyType({"pl": "Rzeczy znalezione", "en": "Found items"}), f"/{NAME}", "portal"),
         NavEntry(MappingProxyType({"pl": "Rzeczy znalezione", "en": "Found items"}), f"/{NAME}", "staff", MANAGE,
                  count=_kept)),  # the staff link shows how many items the register keeps
    home=(HomeBlock("recently_found", f"{NAME}/recently_found.html", _latest),),
)

__all__ = ["plugin"]
