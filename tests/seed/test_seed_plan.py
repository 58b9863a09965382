"""The demo seeder's plans (pure): deterministic, valid, spread over realistic times, covering every story."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from komunikator.engine.schema.tenant import Point
from komunikator.engine.service import intake
from komunikator.engine.service.seed_plan import plan_tickets, scenarios_for
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
