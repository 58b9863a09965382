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
from komunikator.plugins.lost_and_found import api, behaviour, cli, pages
from komunikator.plugins.lost_and_found.register import MANAGE, NAME, UNCLAIMED
from komunikator.plugins.lost_and_found.settings import LostAndFoundSettings

HERE = Path(__file__).parent

plugin = Plugin(
    name=NAME,
    description="lost and found: the register of items handed in at the office",
    section=LostAndFoundSettings,
    conditions=(ConditionDef("found_item_valuable", "the report's `value` attribute reaches a threshold (PLN)",
                             behaviour.ValuableArgs, "over", behaviour.found_item_valuable),),
    effects=(EffectDef("register_found_item", "put the reported item in the register of found items",
                       behaviour.RegisterArgs, "kind", apply=behaviour.register_found_item),),
    events=(EventDef(UNCLAIMED, "an item was kept its full time and nobody claimed it",
                     MappingProxyType({"event.id": "the item's number", "event.description": "what it is",
                                       "event.found_on": "when it was found", "event.kept_until": "its last day"})),),
    recipients=(RecipientDef(f"{NAME}.keepers", "staff whose role has lost_and_found.manage", behaviour.keepers),),
    permissions=MappingProxyType({MANAGE: "register found items and hand them back"}),
    models="komunikator.plugins.lost_and_found.models",
    migrations="komunikator.plugins.lost_and_found.migrations",
    api=api.router,
    pages=pages.router,
    templates=HERE / "templates",
    translations=HERE / "locale",
    cli=cli.app,
    jobs=(JobDef(f"{NAME}.expire", "mark items nobody claimed in time, tell the keepers", 3600.0,
                 behaviour.expire_job),),
    nav=(NavEntry(MappingProxyType({"pl": "Rzeczy znalezione", "en": "Found items"}), f"/{NAME}", "portal"),
         NavEntry(MappingProxyType({"pl": "Rzeczy znalezione", "en": "Found items"}), f"/{NAME}", "staff", MANAGE)),
    home=(HomeBlock("recently_found", f"{NAME}/recently_found.html", behaviour.latest_block),),
)

__all__ = ["plugin"]
