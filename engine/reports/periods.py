"""A report's period and its time buckets, in the city's time zone.

Days, ISO weeks (Monday first) and months are cut at local midnight and
turned into UTC instants here, in Python; the database only compares each
row's timestamp with the buckets' bounds. So both databases bucket the same
rows identically, daylight saving included (SQLite has no time zones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from komunikator.engine.schema.reports import Period

#: At most this many buckets (a day dimension over years would be unreadable anyway).
MAX_BUCKETS = 400


@dataclass(frozen=True)
class Bucket:
    """One day, week or month: its key (`2026-05`, `2026-W19`, `2026-05-14`), first local day and UTC bounds."""

    key: str
    first_day: date
    start: datetime
    end: datetime


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _month_start(day: date, back: int = 0) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def _unit_start(day: date, unit: str) -> date:
    if unit == "months":
        return _month_start(day)
    if unit == "weeks":
        return day - timedelta(days=day.weekday())
    return day


def period_start(period: Period, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant counted: the start of the period's first local day, week or month (None: all)."""
    if period.unit is None:
        return None
    today = now.astimezone(zone).date()
    if period.unit == "months":
        first = _month_start(today, period.amount - 1)
    elif period.unit == "weeks":
        first = _unit_start(today, "weeks") - timedelta(weeks=period.amount - 1)
    else:
        first = today - timedelta(days=period.amount - 1)
    return _local_midnight(first, zone)


def _next(day: date, dimension: str) -> date:
    if dimension == "month":
        return _month_start(day, -1)
    return day + timedelta(days=7 if dimension == "week" else 1)


def _key(day: date, dimension: str) -> str:
    if dimension == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if dimension == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


def buckets(dimension: str, start: datetime, now: datetime, zone: ZoneInfo) -> list[Bucket]:
    """The buckets of `dimension` (day, week, month) covering `start` … `now`, oldest first.

    The first bucket starts at `start` even when the period began mid-week
    (a month-long period grouped by week): no row before the period counts.
    """
    unit = {"day": "days", "week": "weeks", "month": "months"}[dimension]
    day = _unit_start(start.astimezone(zone).date(), unit)
    last = now.astimezone(zone).date()
    out: list[Bucket] = []
    while day <= last:
        following = _next(day, dimension)
        out.append(Bucket(_key(day, dimension), day, max(_local_midnight(day, zone), start),
                          _local_midnight(following, zone)))
        if len(out) > MAX_BUCKETS:
            raise ValueError(f"too many {dimension}s in the period (more than {MAX_BUCKETS})")
        day = following
    return out


__all__ = ["MAX_BUCKETS", "Bucket", "buckets", "period_start"]
