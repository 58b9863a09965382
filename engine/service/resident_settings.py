"""A resident's settings: which channels they hear on, and (for plugins) which topics and areas they follow.

One row per resident (`resident_settings`), read by delivery and by plugins:

    prefs = await resident_settings.get(scope, user_id)
    prefs.channels            # {"email": True, "push": False}  — a missing channel is on
    prefs.topics, prefs.areas # what plugins stored (ids they define)
    await resident_settings.set_topics(scope, user_id, "waste", ["paper", "glass"])
    ids = await resident_settings.following_topic(scope, "waste:paper")
    ids = await resident_settings.accepting(scope, user_ids, "push")

Topics are strings a plugin owns under its own name (`waste:paper`,
`notices:roadworks`); `set_topics` replaces one plugin's topics and keeps the
others'. Areas are ids of the city's districts (`district:stare-miasto`) or
`point:LAT,LON,METRES`. Account messages (verification, password reset, a
refused-login warning) go out whatever the channels say
(`ESSENTIAL_TEMPLATES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from komunikator.engine.service.errors import invalid
from komunikator.engine.store.errors import Duplicate
from komunikator.engine.store.models import ResidentSettings
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: Channels a resident can switch (the inbox in the portal is always on).
CHANNELS = ("email", "push")
#: Templates delivered whatever the resident's channels say: their account depends on them.
ESSENTIAL_TEMPLATES = frozenset({
    "account_verify", "account_reset", "account_email_change", "account_claim", "login_throttled",
})
_TOPIC = re.compile(r"^[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_.-]{0,63}$")
_AREA = re.compile(r"^(district:[a-z0-9][a-z0-9_-]{0,63}|point:-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?,\d{1,5})$")
MAX_TOPICS = 200
MAX_AREAS = 20


@dataclass(frozen=True)
class Preferences:
    """What a resident chose (defaults for one who never saved anything)."""

    channels: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CHANNELS, True))
    topics: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    def accepts(self, channel: str) -> bool:
        """Whether the resident hears on `channel` (channels they never switched are on)."""
        return self.channels.get(channel, True)


def _prefs(row: ResidentSettings | None) -> Preferences:
    if row is None:
        return Preferences()
    channels = {c: bool(row.channels.get(c, True)) for c in CHANNELS}
    return Preferences(channels, tuple(map(str, row.topics)), tuple(map(str, row.areas)))


async def get(scope: TenantScope, user_id: int) -> Preferences:
    """The resident's preferences (defaults when none are stored)."""
    return _prefs(await scope.find(ResidentSettings, user_id=user_id))


async def accepting(scope: TenantScope, user_ids: Iterable[int], channel: str) -> set[int]:
    """Those of `user_ids` who hear on `channel`."""
    ids = set(user_ids)
    if not ids:
        return set()
    rows = await scope.query(ResidentSettings).filter(user_id__in=ids)
    refusing = {row.user_id for row in rows if not row.channels.get(channel, True)}  # type: ignore[attr-defined]
    return ids - refusing


async def _save(scope: TenantScope, user_id: int, **values: Any) -> Preferences:
    async with transaction():
        row = await scope.find(ResidentSettings, user_id=user_id)
        if row is None:
            try:
                row = await scope.create(ResidentSettings, user_id=user_id, **values)
            except Duplicate:  # saved meanwhile by another request
                row = await scope.get(ResidentSettings, user_id=user_id)
        await scope.query(ResidentSettings).filter(id=row.id).update(**values)
        for name, value in values.items():
            setattr(row, name, value)
    return _prefs(row)


async def set_channels(scope: TenantScope, user_id: int, channels: dict[str, bool]) -> Preferences:
    """Switch channels on or off; 422 for a channel residents cannot choose."""
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise invalid(f"unknown channel {sorted(unknown)[0]!r}; residents choose among: {', '.join(CHANNELS)}",
                      "channels")
    current = await get(scope, user_id)
    return await _save(scope, user_id, channels={**current.channels, **channels})


async def set_topics(scope: TenantScope, user_id: int, owner: str, topics: Sequence[str]) -> Preferences:
    """Replace the topics `owner` (a plugin's name) keeps for the resident; others' topics stay."""
    for topic in topics:
        if not _TOPIC.match(topic) or not topic.startswith(owner + ":"):
            raise invalid(f"{topic!r} is not a topic of {owner!r} (write {owner}:NAME)", "topics")
    current = await get(scope, user_id)
    kept = [t for t in current.topics if not t.startswith(owner + ":")]
    merged = kept + sorted(set(topics))
    if len(merged) > MAX_TOPICS:
        raise invalid(f"at most {MAX_TOPICS} topics", "topics")
    return await _save(scope, user_id, topics=merged)


async def set_areas(scope: TenantScope, user_id: int, areas: Sequence[str]) -> Preferences:
    """Replace the resident's areas (`district:ID` or `point:LAT,LON,METRES`)."""
    for area in areas:
        if not _AREA.match(area):
            raise invalid(f"{area!r} is not an area (district:ID or point:LAT,LON,METRES)", "areas")
    if len(set(areas)) > MAX_AREAS:
        raise invalid(f"at most {MAX_AREAS} areas", "areas")
    return await _save(scope, user_id, areas=sorted(set(areas)))


async def following_topic(scope: TenantScope, topic: str) -> list[int]:
    """Ids of the residents who follow `topic` (for a plugin's recipients), ascending."""
    rows = await scope.query(ResidentSettings).order_by("user_id")
    return [row.user_id for row in rows if topic in row.topics]  # type: ignore[attr-defined]


async def export(scope: TenantScope, user_id: int) -> dict[str, Any]:
    """The stored settings as plain data (for the resident's data export)."""
    prefs = await get(scope, user_id)
    return {"channels": prefs.channels, "topics": list(prefs.topics), "areas": list(prefs.areas)}
