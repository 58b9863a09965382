"""Plan a demo city's tickets: who reports what, where and when, and what happens next.

Pure and deterministic: `plan_tickets(tenant, count, seed, end, …)` returns
the same plans for the same arguments, whatever the database holds. Each
plan is a submission plus a story — dated steps (verify, take, complete,
delegate, withdraw, ask the resident, reject, merge as a duplicate, reopen,
comments …) that `seed.py` drives through the service layer.

A ticket's scenario depends on its age (yesterday's reports are still new,
last quarter's are mostly resolved); a coverage pass first places, in every
process, at least one ticket in each state the process can reach and one of
each kind of story (delegated, withdrawn, reopened, overdue, answered).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from komunikator.cli.demo import content
from komunikator.cli.demo.stories import (
    BY_NAME,
    Scenario,
    StoryBuilder,
    family,
    has_sibling,
    scenarios_for,
    siblings,
)
from komunikator.engine.compiled import CompiledCategory, CompiledTenant
from komunikator.engine.schema.categories import Attribute

#: Share of tickets that are duplicates of an earlier one.
DUPLICATE_SHARE = 0.06
#: Weight of a weekend day against a weekday when residents report.
WEEKEND_WEIGHT = 0.55
#: Residents' reports by local hour (0–23): quiet nights, mornings and evenings busiest.
HOUR_WEIGHTS = (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 4.0, 4.5, 4.0, 3.5, 3.5, 3.0, 3.0, 3.5, 4.0, 4.5, 4.5,
                4.0, 3.5, 2.5, 1.2, 0.5)
#: The office's working hours (local), when staff act.
OFFICE_OPENS, OFFICE_CLOSES = 7.5, 15.5
#: How much likelier recent days are than old ones (1: evenly spread).
RECENCY = 1.4
#: Timers of waiting states fire after 14 days: waiting tickets are younger.
WAITING_MAX_AGE = 11


@dataclass(frozen=True)
class Step:
    """One thing that happens to a ticket after it is submitted."""

    at: datetime
    kind: str  # see seed.py `_Story` for what each kind does
    text: str | None = None
    target: str | None = None  # a unit, category, priority or visibility, by kind
    person: bool = False  # delegate: to a person of the target unit rather than to the unit
    ref: int | None = None  # duplicate: the master's plan index


@dataclass(frozen=True)
class TicketPlan:
    """A ticket to create and its story."""

    index: int
    scenario: str
    process: str
    created: datetime
    channel: str  # public | staff
    submission: Mapping[str, Any]  # intake.Submission fields
    resident: int | None = None  # index into content.RESIDENTS: the reporter has an account
    photos: int = 0
    steps: tuple[Step, ...] = ()


# -- time -----------------------------------------------------------------------------------------


def _local_hours(t: datetime, zone: ZoneInfo) -> tuple[datetime, float]:
    local = t.astimezone(zone)
    return local, local.hour + local.minute / 60


def office_time(t: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """`t`, or the start of the next working hours (Mon–Fri) plus a little, in UTC."""
    local, hour = _local_hours(t, zone)
    if local.weekday() < 5 and OFFICE_OPENS <= hour < OFFICE_CLOSES:
        return t
    day = local.date() if hour < OFFICE_OPENS else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = OFFICE_OPENS * 60 + rng.uniform(0, 150)
    opening = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minutes)
    return opening.astimezone(UTC)


def submission_time(day_start: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """A resident's reporting moment on a local day (`day_start`: midnight in the tenant's zone)."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    moment = day_start + timedelta(hours=hour, minutes=rng.uniform(0, 59.9))
    return moment.astimezone(UTC)


def _random_day(rng: random.Random, end: datetime, zone: ZoneInfo, low: float, high: float,
                skew: float = 1.0) -> datetime:
    """A local midnight between `high` and `low` days before `end`, weekends less likely.

    `skew` > 1 makes recent days likelier (the service is used more and more).
    """
    while True:
        back = low + (high - low) * rng.random() ** skew
        local = (end - timedelta(days=back)).astimezone(zone)
        if local.weekday() < 5 or rng.random() < WEEKEND_WEIGHT:
            return datetime(local.year, local.month, local.day, tzinfo=zone)


def _created(rng: random.Random, end: datetime, zone: ZoneInfo, low: float, high: float,
             skew: float = 1.0) -> datetime:
    for _ in range(20):
        moment = submission_time(_random_day(rng, end, zone, low, high, skew), zone, rng)
        if moment < end - timedelta(minutes=30):
            return moment
    return end - timedelta(hours=rng.uniform(1, 3))


def _timeline(created: datetime, raw: list[tuple[float, str, dict[str, Any]]], end: datetime, zone: ZoneInfo,
              rng: random.Random) -> tuple[Step, ...]:
    """Date the steps: gaps after the previous step, office steps in working hours, all before `end`."""
    steps: list[Step] = []
    at = created
    for position, (gap, kind, options) in enumerate(raw):
        office = options.pop("office", False)
        at = at + timedelta(hours=gap)
        if office:
            at = office_time(at, zone, rng)
        latest = end - timedelta(minutes=2 * (len(raw) - position))
        earliest = (steps[-1].at if steps else created) + timedelta(seconds=30)
        at = max(min(at, latest), earliest)
        steps.append(Step(at=at, kind=kind, **options))
    return tuple(steps)


# -- what residents write -------------------------------------------------------------------------


def _description(rng: random.Random, category: CompiledCategory) -> str:
    templates = content.DESCRIPTIONS.get(category.name)
    landmark = rng.choice(content.LANDMARKS)
    if templates:
        body = rng.choice(templates).format(landmark=landmark)
    else:
        name = category.spec.name.get("pl") or category.name
        body = f"{name.lower()} – {landmark}."
    opening = rng.choice(content.OPENINGS)
    text = f"{opening}{body}" if opening else body
    return text[0].upper() + text[1:] + rng.choice(content.CLOSINGS)


def _attribute(rng: random.Random, name: str, spec: Attribute, created: datetime) -> Any:
    if spec.type == "choice":
        return rng.choice(sorted(spec.values or {}))
    if spec.type == "multichoice":
        options = sorted(spec.values or {})
        return sorted(rng.sample(options, k=min(len(options), rng.choice((1, 1, 2)))))
    if spec.type == "number":
        low = spec.min if spec.min is not None else 1
        high = min(spec.max if spec.max is not None else low + 10, low + 6)
        return int(rng.uniform(max(low, 1), max(high, 1)) + 0.5)
    if spec.type == "datetime":
        return (created - timedelta(hours=rng.uniform(2, 60))).date().isoformat()
    text = rng.choice(content.TEXT_VALUES.get(name, ("b/d",)))
    return text[: spec.max_length] if spec.max_length else text


def _attributes(rng: random.Random, category: CompiledCategory, channel: str, created: datetime,
                also_required: CompiledCategory | None = None) -> dict[str, Any]:
    """Answers to `category`'s questions: every required one (of `also_required` too), some optional ones."""
    required = {n for n, s in also_required.spec.attributes.items() if s.required} if also_required else set()
    out = {}
    for name, spec in category.spec.attributes.items():
        if spec.staff_only and channel != "staff":
            continue
        if spec.required or name in required or rng.random() < 0.6:
            out[name] = _attribute(rng, name, spec, created)
    return out


def _fold(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    return text.translate(table).lower()


def _person(rng: random.Random, phone_only: bool = False) -> dict[str, Any]:
    first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
    if first.endswith("a") and last.endswith("ski"):
        last = last[:-1] + "a"  # Kowalski → Kowalska
    elif first.endswith("a") and last.endswith("cki"):
        last = last[:-1] + "a"
    person: dict[str, Any] = {"name": f"{first} {last}"}
    if not phone_only:
        style = rng.choice(("{f}.{l}", "{f}{l}", "{i}.{l}", "{f}.{l}{n}"))
        local = style.format(f=_fold(first), l=_fold(last), i=_fold(first[0]), n=rng.randint(1, 99))
        person["email"] = f"{local}@example.pl"
    if phone_only or rng.random() < 0.3:
        person["phone"] = f"+48 {rng.randint(500, 899)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return person


def _place(rng: random.Random, tenant: CompiledTenant, category: str) -> tuple[str | None, float, float]:
    places = content.SHORE_PLACES.get(tenant.slug) if category == "lakeshore_litter" else None
    places = places or content.PLACES.get(tenant.slug)
    bounds = tenant.config.map.bounds
    if places:
        street, lat, lon, locality = rng.choice(places)
        number = f" {rng.randint(1, 120)}" if street.startswith(("ul.", "pl.")) else ""
        address: str | None = f"{street}{number}, {locality}"
    else:  # a tenant the seeder has no street list for: around the map's centre
        lat, lon = tenant.config.map.center.lat, tenant.config.map.center.lon
        address = None
    inside = tenant.geography.contains if tenant.geography is not None else (lambda _lat, _lon: True)
    for _ in range(20):  # a pin near the place, inside the city's boundary when it ships one
        near_lat = min(max(lat + rng.gauss(0, 0.0012), bounds.south + 1e-4), bounds.north - 1e-4)
        near_lon = min(max(lon + rng.gauss(0, 0.0018), bounds.west + 1e-4), bounds.east - 1e-4)
        if inside(near_lat, near_lon):
            lat, lon = near_lat, near_lon
            break
    return address, round(lat, 6), round(lon, 6)


# -- plans ----------------------------------------------------------------------------------------


def _category_weight(category: CompiledCategory, month: int) -> float:
    season = content.SEASONS.get(category.name)
    weight = content.FREQUENCY.get(category.name, 1.0)
    return weight if season is None or month in season else weight * 0.03


def _usable(tenant: CompiledTenant) -> list[CompiledCategory]:
    return [c for c in tenant.categories.values() if "public" in c.spec.intake or "staff" in c.spec.intake]


def _sibling(rng: random.Random, tenant: CompiledTenant, category: CompiledCategory) -> str | None:
    options = siblings(tenant, category)
    return rng.choice(options) if options else None


@dataclass
class _Draft:
    index: int
    scenario: Scenario
    category: CompiledCategory
    created: datetime
    master: int | None = None


class Planner:
    """Makes the plans of one tenant (see `plan_tickets`)."""

    def __init__(self, tenant: CompiledTenant, seed: int | str, end: datetime, months: float,
                 handled_units: frozenset[str], residents: int) -> None:
        self.tenant = tenant
        self.rng = random.Random(f"komunikator-seed:{tenant.slug}:{seed}")  # noqa: S311 - a demo, not a secret
        self.end = end
        self.days = max(months * 30.4, 1.0)
        self.zone = ZoneInfo(tenant.config.time_zone)
        self.units = handled_units
        self.residents = residents
        self.categories = _usable(tenant)
        self.by_process: dict[str, list[CompiledCategory]] = {}
        for category in self.categories:
            self.by_process.setdefault(category.process, []).append(category)

    def _pick_category(self, created: datetime, among: Sequence[CompiledCategory] | None = None) -> CompiledCategory:
        pool = list(among or self.categories)
        month = created.astimezone(self.zone).month
        return self.rng.choices(pool, weights=[_category_weight(c, month) for c in pool])[0]

    def _pick_scenario(self, category: CompiledCategory, created: datetime) -> Scenario:
        age = (self.end - created).total_seconds() / 86400
        bucket = 0 if age < 3 else 1 if age < 14 else 2
        options = [s for s in scenarios_for(self.tenant, category.process)
                   if not (s.name == "waiting" and age > WAITING_MAX_AGE)]
        weights = [s.weights[bucket] for s in options]
        if not any(weights):
            return options[0]
        return self.rng.choices(options, weights=weights)[0]

    def drafts(self, count: int) -> list[_Draft]:
        """Scenario, category and submission time of every ticket (duplicates point at a master)."""
        duplicates = min(max(round(count * DUPLICATE_SHARE), len(self.by_process)), count // 3)
        drafts: list[_Draft] = []
        # coverage first: every scenario of every process, once
        for process in sorted(self.by_process):
            for scenario in scenarios_for(self.tenant, process):
                if len(drafts) >= count - duplicates:
                    break
                low, high = scenario.age
                created = _created(self.rng, self.end, self.zone, low, min(high, self.days))
                pool = self.by_process[process]
                if scenario.name == "reclassified":
                    pool = [c for c in pool if has_sibling(self.tenant, c)]
                category = self._pick_category(created, pool)
                drafts.append(_Draft(len(drafts), scenario, category, created))
        while len(drafts) < count - duplicates:
            created = _created(self.rng, self.end, self.zone, 0, self.days, RECENCY)
            category = self._pick_category(created)
            drafts.append(_Draft(len(drafts), self._pick_scenario(category, created), category, created))
        # duplicates: a second report of the same problem, hours or days after the first
        covered: set[str] = set()
        for _ in range(duplicates):
            masters = [d for d in drafts if d.master is None and d.created < self.end - timedelta(hours=6)
                       and d.scenario.ends_in != "rejected"]
            fresh = [d for d in masters if d.category.process not in covered]
            if not (fresh or masters):
                break
            master = self.rng.choice(fresh or masters)
            covered.add(master.category.process)
            room = (self.end - master.created).total_seconds() / 3600 - 1
            created = master.created + timedelta(hours=self.rng.uniform(0.5, max(min(room, 96), 0.6)))
            dup = BY_NAME["m_new" if family(self.tenant, master.category.process) == "multi" else "new"]
            drafts.append(_Draft(len(drafts), dup, master.category, created, master=master.index))
        return drafts

    def plan(self, draft: _Draft, drafts: Sequence[_Draft]) -> TicketPlan:
        """The submission and dated story of one draft."""
        rng = self.rng
        category = draft.category
        scenario = draft.scenario
        submitted = category  # a reclassified report was filed under a sibling by mistake
        if draft.master is None and scenario.name == "reclassified":
            wrong = _sibling(rng, self.tenant, category)
            if wrong is None:
                scenario = BY_NAME["resolved"]
            else:
                submitted = self.tenant.categories[wrong]
        # the report must fit both categories: the one filed and the one it ends in
        both = (category, submitted)
        channels = [c for c in ("public", "staff") if all(c in k.spec.intake for k in both)]
        channel = "staff" if "public" not in channels or ("staff" in channels and rng.random() < 0.15) else "public"
        needs_reporter = "ask_resident" in scenario.needs or not all(k.spec.anonymous for k in both)
        resident = None
        if channel == "public" and self.residents and rng.random() < (0.5 if scenario.name == "answered" else 0.1):
            resident = rng.randrange(self.residents)
        reporter = None
        if resident is None and (needs_reporter or rng.random() < 0.55):
            reporter = _person(rng, phone_only=channel == "staff" and rng.random() < 0.5)
        raw_steps: list[tuple[float, str, dict[str, Any]]] = []
        if draft.master is not None:
            master = drafts[draft.master]
            raw_steps.append((rng.uniform(0.3, 20), "duplicate", {"office": True, "ref": master.index}))
        else:
            reachable = reporter is not None or resident is not None
            ctx = StoryBuilder(rng, self.tenant.slug, category, self.units, reachable, resident is not None)
            scenario.build(ctx)
            raw_steps = ctx.steps
            for position, (_gap, kind, options) in enumerate(raw_steps):
                if kind == "reclassify":
                    options["target"] = category.name
                if kind == "edit":
                    raw_steps[position] = (_gap, kind, {**options, "text": self._corrected_address(category)})
        address, lat, lon = _place(rng, self.tenant, category.name)
        if draft.master is not None:
            master_plan = self._plans[draft.master]
            address = master_plan.submission.get("address")
            lat = round(float(master_plan.submission.get("lat") or lat) + rng.gauss(0, 0.0003), 6)
            lon = round(float(master_plan.submission.get("lon") or lon) + rng.gauss(0, 0.0004), 6)
        submission: dict[str, Any] = {
            "category": submitted.name,
            "description": _description(rng, category),
            "attributes": _attributes(rng, submitted, channel, draft.created, also_required=category),
            "address": address,
        }
        if not (channel == "staff" and address and rng.random() < 0.4):  # phone calls: sometimes no map pin
            submission["lat"], submission["lon"] = lat, lon
        if reporter is not None:
            submission["reporter"] = reporter
        photos = 0
        rules = {k.spec.photo for k in both}
        if "required" in rules:
            photos = rng.choice((1, 1, 2))
        elif rules == {"optional"} and channel == "public" and rng.random() < 0.3:
            photos = rng.choice((1, 1, 1, 2))
        photos = min(photos, self.tenant.config.max_attachments)
        steps = _timeline(draft.created, raw_steps, self.end, self.zone, rng)
        name = "duplicate" if draft.master is not None else scenario.name
        return TicketPlan(draft.index, name, category.process, draft.created, channel, submission, resident,
                          photos, steps)

    def _corrected_address(self, category: CompiledCategory) -> str:
        address, _lat, _lon = _place(self.rng, self.tenant, category.name)
        return address or "okolice wskazane na mapie"

    def plans(self, count: int) -> list[TicketPlan]:
        """Every plan, by index (submit them in `created` order)."""
        drafts = self.drafts(count)
        self._plans: dict[int, TicketPlan] = {}
        # masters first, so duplicates can copy their location
        for draft in sorted(drafts, key=lambda d: (d.master is not None, d.index)):
            self._plans[draft.index] = self.plan(draft, drafts)
        return [self._plans[d.index] for d in drafts]


def plan_tickets(
    tenant: CompiledTenant,
    count: int,
    seed: int | str,
    end: datetime,
    months: float = 6,
    handled_units: frozenset[str] | None = None,
    residents: int = len(content.RESIDENTS),
) -> list[TicketPlan]:
    """`count` ticket plans for `tenant`, submitted over the `months` before `end`.

    `handled_units` are the units someone can take tasks of (delegation
    targets); residents is how many resident accounts exist to report and
    answer. Deterministic in all arguments.
    """
    if end.tzinfo is None:
        raise ValueError("`end` must be timezone-aware")
    if count < 0:
        raise ValueError("count must not be negative")
    units = handled_units if handled_units is not None else frozenset(tenant.units)
    return Planner(tenant, seed, end, months, units, residents).plans(count)

