"""Tenant working-day calendar used to compute SLA due dates.

A :class:`WorkCalendar` knows which local dates are working days for one
tenant (office) and does deadline arithmetic in the tenant's time zone.

Rules
-----
* Saturdays and Sundays are never working days.
* Public holidays come from the ``holidays`` library for the tenant's country
  (``PL`` by default).  They are computed lazily per (country, year) and
  cached at module level, because a frozen dataclass cannot carry a mutable
  per-instance cache.
* On top of that a tenant may declare its own days off, e.g. the replacement
  day an office grants when a holiday falls on a Saturday.
* All moments passed in must be timezone-aware; every moment returned is
  timezone-aware UTC.  Working days are always judged on the *local* date in
  the tenant's time zone.

Units accepted by :meth:`WorkCalendar.add`
------------------------------------------
``"minutes"``, ``"hours"``
    Absolute durations (elapsed time); a DST change shifts the local
    wall-clock result by the size of the change.
``"days"``, ``"weeks"``
    Calendar days/weeks in the tenant time zone; the local wall-clock time
    is preserved across DST changes.
``"business_days"``
    N business days after a moment is the *same local wall-clock time* on the
    N-th working day counted from the start's local date: the first working
    day **strictly after** the start date counts as 1.  So Friday 15:00 + 1 is
    Monday 15:00, and Saturday 10:00 + 1 is Monday 10:00 (if Monday is a
    working day).  ``0`` returns the start moment unchanged, even when it lies
    on a non-working day.  Negative amounts count backwards symmetrically (the
    first working day strictly before the start date counts as -1).

Office hours and SLA pauses
---------------------------
The office works from ``opens`` to ``closes`` (local wall-clock, default
7:30–15:30) on each working day. Deadlines written in business days keep
their meaning above (whole working days, the wall-clock time kept); ``hours``
and ``minutes`` run round the clock. A *pause* of the SLA clock is measured
in office working time, to the minute (:meth:`WorkCalendar.working_minutes_between`),
and moves each deadline by that much office time
(:meth:`WorkCalendar.add_working_minutes`): a pause from Friday 15:00 to
Monday 9:00 costs 30 + 90 minutes with the default hours, a pause over a
weekend or a holiday alone costs nothing.

Local times that do not exist or are ambiguous on the target date (DST
gaps/overlaps) are resolved with PEP 495 ``fold=0`` semantics: a
non-existent time is moved forward by the length of the gap, an ambiguous
time maps to its first (earlier) occurrence.  In zones where the clocks move
on Sundays (all of Europe) this never affects business-day results, since
those always land on a working day.  Known limitation: a zone that skips a
whole calendar date (e.g. Pacific/Apia on 2011-12-30) is not special-cased.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["UNITS", "WorkCalendar"]

#: Units accepted by :meth:`WorkCalendar.add`.
UNITS: frozenset[str] = frozenset(
    {"minutes", "hours", "days", "weeks", "business_days"}
)

_WEEKEND: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday

# Note on Christmas Eve: in Poland 24 December is a public holiday from 2025
# on.  The installed ``holidays`` release (>= 0.60, checked with 0.109)
# already includes it for 2025 and later years, so nothing is added here; the
# test suite asserts it for 2026 so that a regression in the library is
# caught.


@functools.lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    """Return the public holidays of ``country`` in ``year`` (cached)."""
    return frozenset(holidays.country_holidays(country, years=year).keys())


def _require_aware(moment: datetime, name: str) -> None:
    """Raise ``ValueError`` unless ``moment`` is a timezone-aware datetime."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime (preferably UTC), "
            f"got naive {moment.isoformat()}"
        )


@dataclass(frozen=True)
class WorkCalendar:
    """Working-day calendar of one tenant.

    Prefer :meth:`for_tenant` to build instances.  Instances are immutable,
    hashable and all their methods are pure.
    """

    time_zone: str
    """IANA time zone name of the tenant, e.g. ``"Europe/Warsaw"``."""

    country: str = "PL"
    """Country code passed to ``holidays.country_holidays``."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    """Tenant-specific extra non-working dates (local dates)."""

    opens: time = time(7, 30)
    """Local wall-clock time the office opens on a working day."""

    closes: time = time(15, 30)
    """Local wall-clock time the office closes on a working day."""

    def __post_init__(self) -> None:
        """Validate the time zone, the country and the days off."""
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone: {self.time_zone!r}") from exc
        try:
            holidays.country_holidays(self.country)
        except NotImplementedError as exc:
            raise ValueError(
                f"country {self.country!r} is not supported by the holidays library"
            ) from exc
        days = frozenset(self.days_off)
        for day in days:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"days_off must contain date objects, got {day!r}")
        object.__setattr__(self, "days_off", days)
        if not self.opens < self.closes:
            raise ValueError(f"the office must open before it closes, got {self.opens}–{self.closes}")

    @classmethod
    def for_tenant(
        cls,
        time_zone: str,
        days_off: Mapping[date, str] | Iterable[date] = (),
        country: str = "PL",
        office_hours: tuple[time, time] = (time(7, 30), time(15, 30)),
    ) -> WorkCalendar:
        """Build the calendar of a tenant.

        ``days_off`` are the tenant's own non-working dates, either as plain
        dates or as a mapping ``date -> reason`` (the reasons are documentation
        only and are not kept). ``office_hours`` is (opens, closes), local.
        """
        opens, closes = office_hours
        return cls(time_zone=time_zone, country=country, days_off=frozenset(days_off), opens=opens, closes=closes)

    @property
    def zone(self) -> ZoneInfo:
        """The tenant's time zone as a :class:`zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.time_zone)

    def local_date(self, moment: datetime) -> date:
        """Return the date of ``moment`` in the tenant time zone."""
        _require_aware(moment, "moment")
        return moment.astimezone(self.zone).date()

    def is_working_day(self, d: date) -> bool:
        """Tell whether the local date ``d`` is a working day for the tenant.

        A working day is a Monday-Friday that is neither a public holiday of
        the tenant's country nor one of the tenant's own days off.  Pass a
        ``date``; for a moment in time use :meth:`local_date` first.
        """
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(
                "is_working_day() takes a date; convert moments with local_date()"
            )
        if d.weekday() in _WEEKEND or d in self.days_off:
            return False
        return d not in _public_holidays(self.country, d.year)

    def add(self, start: datetime, amount: int, unit: str) -> datetime:
        """Return ``start`` shifted by ``amount`` ``unit``s, as an aware UTC datetime.

        ``unit`` is one of :data:`UNITS`.  See the module docstring for the
        exact meaning of each unit, the business-day counting rule and the
        handling of DST transitions.
        """
        _require_aware(start, "start")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"amount must be an int, got {amount!r}")
        if unit not in UNITS:
            raise ValueError(
                f"unknown unit {unit!r}; expected one of {', '.join(sorted(UNITS))}"
            )

        if unit == "minutes":
            return start.astimezone(UTC) + timedelta(minutes=amount)
        if unit == "hours":
            return start.astimezone(UTC) + timedelta(hours=amount)

        local = start.astimezone(self.zone)
        if unit == "days":
            target = local.date() + timedelta(days=amount)
        elif unit == "weeks":
            target = local.date() + timedelta(weeks=amount)
        else:  # business_days
            if amount == 0:
                return start.astimezone(UTC)
            target = self._nth_working_day(local.date(), amount)
        return self._at_wall_clock(target, local.time())

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Count working days after ``start``'s local date up to ``end``'s local date.

        Both local dates are taken in the tenant time zone; the start date is
        excluded and the end date included.  Returns 0 if ``end <= start``.
        This is the inverse of ``add(start, n, "business_days")`` for
        ``n >= 0``.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return 0
        day = self.local_date(start)
        last = self.local_date(end)
        count = 0
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole minutes of office time (working days, ``opens``–``closes``, local) between two moments.

        Returns 0 if ``end <= start``; the inverse of :meth:`add_working_minutes`
        for a ``start`` inside office hours.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return 0
        total = timedelta()
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            if self.is_working_day(day):
                lo = max(self._at_wall_clock(day, self.opens), start)
                hi = min(self._at_wall_clock(day, self.closes), end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` of office time after ``start`` (UTC); ``start`` itself for 0 or less.

        Office time outside ``start``'s own office hours is not counted: from
        Friday 17:00, 90 working minutes end on Monday at 9:00 (the office
        opening at 7:30). Ending exactly at closing time returns the closing time.
        """
        _require_aware(start, "start")
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise TypeError(f"minutes must be an int, got {minutes!r}")
        if minutes <= 0:
            return start.astimezone(UTC)
        remaining = timedelta(minutes=minutes)
        day = self.local_date(start)
        cursor = start
        for _ in range(366 * 50):  # bounded: a tenant cannot declare every day off for 50 years
            if self.is_working_day(day):
                lo = max(self._at_wall_clock(day, self.opens), cursor)
                closes = self._at_wall_clock(day, self.closes)
                if lo < closes:
                    if remaining <= closes - lo:
                        return (lo + remaining).astimezone(UTC)
                    remaining -= closes - lo
            day += timedelta(days=1)
        raise ValueError("no working time found within 50 years")

    def _nth_working_day(self, origin: date, n: int) -> date:
        """Return the ``n``-th working day strictly after (``n < 0``: before) ``origin``."""
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        day = origin
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def _at_wall_clock(self, day: date, wall: time) -> datetime:
        """Return the UTC moment of local wall-clock ``wall`` on local date ``day``.

        Uses ``fold=0``: ambiguous times map to their first occurrence,
        non-existent times are moved forward by the length of the gap.
        """
        local = datetime.combine(day, wall.replace(fold=0), tzinfo=self.zone)
        return local.astimezone(UTC)
