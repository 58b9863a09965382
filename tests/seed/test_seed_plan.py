"""The demo seeder's plans (pure): deterministic, valid, spread over realistic times, covering every story."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from komunikator.cli.demo.plan import plan_tickets, scenarios_for
from komunikator.engine.schema.tenant import Point
from komunikator.engine.service import intake
from komunikator.engine.settings import Settings
from komunikator.engine.tenants import TenantRegistry

END = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


@cache
def registry() -> TenantRegistry:
    return TenantRegistry.load(Settings.from_env())


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
def test_plans_are_deterministic_in_the_seed(slug: str) -> None:
    tenant = registry().tenants[slug]
    first = plan_tickets(tenant, 60, 5, END)
    assert first == plan_tickets(tenant, 60, 5, END)
    assert first != plan_tickets(tenant, 60, 6, END)
    assert sorted(p.index for p in first) == list(range(60))


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
def test_every_submission_is_valid_and_inside_the_city(slug: str) -> None:
    tenant = registry().tenants[slug]
    for plan in plan_tickets(tenant, 300, 1, END):
        sub = intake.Submission(**plan.submission)
        intake.validate_submission(tenant, sub, plan.channel, plan.resident is not None)  # raises if not
        if sub.lat is not None and sub.lon is not None:
            assert tenant.config.map.bounds.contains(Point(lat=sub.lat, lon=sub.lon))
        else:
            assert sub.address


def test_tickets_come_at_realistic_times() -> None:
    tenant = registry().tenants["zgierz"]
    zone = ZoneInfo(tenant.config.time_zone)
    plans = plan_tickets(tenant, 300, 1, END, months=6)
    local = [p.created.astimezone(zone) for p in plans]
    assert all(END - timedelta(days=200) < p.created < END for p in plans)
    hours = Counter(t.hour for t in local)
    assert sum(hours[h] for h in range(5)) * 10 < sum(hours[h] for h in range(8, 20))
    weekday = sum(1 for t in local if t.weekday() < 5) / 5
    weekend = sum(1 for t in local if t.weekday() >= 5) / 2
    assert weekend < weekday  # per day
    months = {(t.year, t.month) for t in local}
    assert len(months) >= 6


def test_stories_move_forward_and_end_before_the_seed_time() -> None:
    tenant = registry().tenants["zgierz"]
    for plan in plan_tickets(tenant, 300, 3, END):
        times = [plan.created, *(s.at for s in plan.steps)]
        assert times == sorted(times), plan
        assert times[-1] < END


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
def test_a_small_city_still_plays_every_story_of_every_process(slug: str) -> None:
    tenant = registry().tenants[slug]
    plans = plan_tickets(tenant, 40, 1, END)
    played = {(p.process, p.scenario) for p in plans}
    for process in tenant.processes:
        for scenario in scenarios_for(tenant, process):
            assert (process, scenario.name) in played
        assert (process, "duplicate") in played


# -- every plan is valid: rehearsed without a database over seeds and moments of a whole year ----------

#: Moments that once broke or could break a plan: the issue's failing moment, both DST changes in
#: Europe/Warsaw, just after local midnight, just before office hours, weekends and public holidays.
AWKWARD_MOMENTS = (
    datetime(2026, 12, 4, 21, 28, tzinfo=UTC),  # `komunikator demo` failed here (seed 1)
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC),  # spring forward
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # fall back
    datetime(2026, 12, 4, 23, 0, 30, tzinfo=UTC),  # 00:00:30 in Warsaw
    datetime(2026, 7, 14, 5, 29, tzinfo=UTC),  # 07:29 in Warsaw, a minute before the office opens
    datetime(2026, 12, 6, 12, 0, tzinfo=UTC), datetime(2026, 12, 5, 2, 0, tzinfo=UTC),  # Sunday, Saturday night
    datetime(2026, 12, 24, 23, 0, tzinfo=UTC), datetime(2026, 12, 25, 11, 0, tzinfo=UTC),  # Christmas
    datetime(2026, 12, 31, 23, 0, 1, tzinfo=UTC), datetime(2027, 1, 6, 8, 0, tzinfo=UTC),  # New Year, Epiphany
    datetime(2026, 4, 6, 6, 0, tzinfo=UTC), datetime(2026, 5, 3, 10, 0, tzinfo=UTC),  # Easter Monday, 3 May
    datetime(2026, 11, 11, 22, 59, 59, tzinfo=UTC), datetime(2026, 8, 15, 12, 0, tzinfo=UTC),
)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
SHIPPED = ("zgierz", "nieporet")


@cache
def cast(slug: str):
    from komunikator.cli.demo.content import RESIDENTS
    from komunikator.cli.demo.rehearsal import rehearsal_cast
    from komunikator.cli.seed_commands import demo_staff

    return rehearsal_cast(registry().tenants[slug], demo_staff(slug), len(RESIDENTS))


def problems(slug: str, seed: int, now: datetime) -> list[str]:
    """What the rehearsal finds wrong with the demo's plan for `slug` (default count) at `now`."""
    from komunikator.cli.demo.rehearsal import rehearse
    from komunikator.cli.demo.seed import DEFAULT_COUNT, DEFAULT_COUNTS

    tenant = registry().tenants[slug]
    players = cast(slug)
    plans = plan_tickets(tenant, DEFAULT_COUNTS.get(slug, DEFAULT_COUNT), seed, now, 6, players.handled_units(),
                         len(players.residents))
    return [str(p) for p in asyncio.run(rehearse(tenant, players, plans, now))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    slug=st.sampled_from(SHIPPED),
    seed=st.integers(1, 50),
    now=st.one_of(
        st.sampled_from(AWKWARD_MOMENTS),
        st.integers(0, 366 * 24 * 3600 - 1).map(lambda s: YEAR_START + timedelta(seconds=s)),
    ),
)
def test_every_plan_rehearses_cleanly_at_any_moment(slug: str, seed: int, now: datetime) -> None:
    assert problems(slug, seed, now) == [], f"komunikator seed {slug} --seed {seed} --now {now.isoformat()}"


@pytest.mark.slow
@pytest.mark.parametrize("slug", SHIPPED)
def test_seeds_1_to_50_over_a_whole_year(slug: str) -> None:
    """Each seed at a moment of its own, the fifty spread over the year (every hour of the day turns up)."""
    found = {}
    for seed in range(1, 51):
        now = YEAR_START + timedelta(days=seed * 7.3, hours=seed * 5 % 24, minutes=seed * 13 % 60)
        if wrong := problems(slug, seed, now):
            found[(seed, now.isoformat())] = wrong[:3]
    assert found == {}


@pytest.mark.parametrize("slug", SHIPPED)
@pytest.mark.parametrize("now", AWKWARD_MOMENTS[:7], ids=lambda t: t.strftime("%Y%m%dT%H%M%S"))
def test_seed_1_at_awkward_moments(slug: str, now: datetime) -> None:
    assert problems(slug, 1, now) == []


def test_a_reclassified_report_fits_the_category_it_ends_in() -> None:
    """The issue's case: a report filed as injured_animal (contact required) must carry the reporter's contact."""
    from komunikator.cli.demo.rehearsal import check_report, target_submission

    tenant = registry().tenants["zgierz"]
    players = cast("zgierz")
    seen = 0
    for seed in range(1, 30):
        for plan in plan_tickets(tenant, 200, seed, AWKWARD_MOMENTS[0], 6, players.handled_units(),
                                 len(players.residents)):
            for step in plan.steps:
                if step.kind == "reclassify":
                    seen += 1
                    filed = intake.Submission(**plan.submission)
                    check_report(tenant, plan, filed)  # raises if not
                    check_report(tenant, plan, target_submission(plan, step.target or "", tenant))
    assert seen > 50


def test_the_rehearsal_catches_what_the_service_would_refuse() -> None:
    """A plan broken on purpose (the old bug: contact missing for a category that needs it) is reported."""
    from dataclasses import replace

    from komunikator.cli.demo.rehearsal import rehearse

    tenant = registry().tenants["zgierz"]
    players = cast("zgierz")
    plans = plan_tickets(tenant, 60, 1, END, 6, players.handled_units(), len(players.residents))
    victim = next(p for p in plans if not tenant.categories[p.submission["category"]].spec.anonymous
                  and p.resident is None)
    broken = replace(victim, submission={k: v for k, v in victim.submission.items() if k != "reporter"})
    found = asyncio.run(rehearse(tenant, players, [broken if p is victim else p for p in plans], END))
    assert [(p.index, p.at) for p in found][:1] == [(victim.index, "submit")]
    assert "contact_required" in str(found[0])
