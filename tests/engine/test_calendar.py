"""Tests for komunikator.engine.runtime.calendar (real ``holidays`` data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from komunikator.engine.runtime.calendar import UNITS, WorkCalendar

WARSAW = ZoneInfo("Europe/Warsaw")
MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6


def warsaw(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """Local Warsaw wall-clock time converted to an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(WARSAW)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar.for_tenant("Europe/Warsaw")


# --- public holidays --------------------------------------------------------


def test_christmas_eve_2026_is_a_public_holiday(cal: WorkCalendar) -> None:
    # 24 Dec is a public holiday in Poland from 2025 on; 2026-12-24 is Thursday.
    assert date(2026, 12, 24).weekday() == 3
    assert not cal.is_working_day(date(2026, 12, 24))
    assert not cal.is_working_day(date(2026, 12, 25))  # Friday, Christmas Day
    assert not cal.is_working_day(date(2026, 12, 26))  # Saturday, 2nd day
    assert cal.is_working_day(date(2026, 12, 23))
    assert cal.is_working_day(date(2026, 12, 28))


def test_due_date_across_christmas_2026(cal: WorkCalendar) -> None:
    start = warsaw(2026, 12, 23, 10, 0)  # Wednesday
    assert cal.add(start, 1, "business_days") == warsaw(2026, 12, 28, 10, 0)
    assert cal.add(start, 2, "business_days") == warsaw(2026, 12, 29, 10, 0)
    # 31 Dec is a working day, 1 Jan 2027 (Friday) is not.
    assert cal.add(start, 4, "business_days") == warsaw(2026, 12, 31, 10, 0)
    assert cal.add(start, 5, "business_days") == warsaw(2027, 1, 4, 10, 0)
    assert cal.working_days_between(start, warsaw(2027, 1, 4, 10, 0)) == 5


def test_easter_monday_2027(cal: WorkCalendar) -> None:
    assert date(2027, 3, 29).weekday() == MONDAY
    assert not cal.is_working_day(date(2027, 3, 29))
    # Friday 12:00 CET -> Tuesday 12:00 CEST: Easter Monday skipped and the
    # spring DST change (Sunday 2027-03-28) crossed on the way.
    start = warsaw(2027, 3, 26, 12, 0)
    due = cal.add(start, 1, "business_days")
    assert due == warsaw(2027, 3, 30, 12, 0)
    assert start == datetime(2027, 3, 26, 11, 0, tzinfo=UTC)
    assert due == datetime(2027, 3, 30, 10, 0, tzinfo=UTC)


def test_other_country_uses_its_own_holidays() -> None:
    de = WorkCalendar.for_tenant("Europe/Berlin", country="DE")
    pl = WorkCalendar.for_tenant("Europe/Warsaw")
    assert de.is_working_day(date(2026, 12, 24))  # not a federal holiday in DE
    assert not pl.is_working_day(date(2026, 12, 24))
    # German Unity Day, Friday 2025-10-03: off in DE, an ordinary day in PL.
    assert date(2025, 10, 3).weekday() == FRIDAY
    assert not de.is_working_day(date(2025, 10, 3))
    assert pl.is_working_day(date(2025, 10, 3))


# --- tenant days off ----------------------------------------------------------


def test_saturday_holiday_with_tenant_replacement_day() -> None:
    # Assumption Day 15 Aug 2026 falls on a Saturday; the office declares
    # Monday 2026-11-09 as its replacement day off.
    assert date(2026, 8, 15).weekday() == SATURDAY
    assert date(2026, 11, 9).weekday() == MONDAY
    plain = WorkCalendar.for_tenant("Europe/Warsaw")
    office = WorkCalendar.for_tenant(
        "Europe/Warsaw", {date(2026, 11, 9): "za 15 sierpnia 2026"}
    )
    assert not plain.is_working_day(date(2026, 8, 15))
    assert plain.is_working_day(date(2026, 11, 9))
    assert not office.is_working_day(date(2026, 11, 9))

    start = warsaw(2026, 11, 6, 9, 30)  # Friday
    assert plain.add(start, 1, "business_days") == warsaw(2026, 11, 9, 9, 30)
    assert office.add(start, 1, "business_days") == warsaw(2026, 11, 10, 9, 30)
    # 2026-11-11 (Wednesday) is Independence Day.
    assert office.add(start, 2, "business_days") == warsaw(2026, 11, 12, 9, 30)
    assert office.working_days_between(start, warsaw(2026, 11, 12, 9, 30)) == 2


def test_days_off_accepts_iterable_and_mapping() -> None:
    a = WorkCalendar.for_tenant("Europe/Warsaw", [date(2026, 11, 9)])
    b = WorkCalendar.for_tenant("Europe/Warsaw", {date(2026, 11, 9): "reason"})
    assert a == b
    assert hash(a) == hash(b)
    assert a.days_off == frozenset({date(2026, 11, 9)})


def test_days_off_rejects_datetimes() -> None:
    with pytest.raises(TypeError, match="date"):
        WorkCalendar.for_tenant("Europe/Warsaw", [datetime(2026, 11, 9)])


# --- business-day rules -------------------------------------------------------


def test_friday_plus_one_business_day_is_monday(cal: WorkCalendar) -> None:
    start = warsaw(2026, 10, 2, 15, 0)
    assert local(start).weekday() == FRIDAY
    due = cal.add(start, 1, "business_days")
    assert due == warsaw(2026, 10, 5, 15, 0)
    assert local(due).weekday() == MONDAY


@pytest.mark.parametrize("day", [3, 4])  # Saturday, Sunday
def test_weekend_start_plus_one_is_monday(cal: WorkCalendar, day: int) -> None:
    start = warsaw(2026, 10, day, 10, 0)
    assert local(start).weekday() in (SATURDAY, SUNDAY)
    assert cal.add(start, 1, "business_days") == warsaw(2026, 10, 5, 10, 0)


def test_zero_business_days_is_identity(cal: WorkCalendar) -> None:
    saturday = warsaw(2026, 10, 3, 10, 0)
    assert cal.add(saturday, 0, "business_days") == saturday


def test_negative_business_days_count_backwards(cal: WorkCalendar) -> None:
    assert cal.add(warsaw(2026, 12, 28, 8, 0), -1, "business_days") == warsaw(
        2026, 12, 23, 8, 0
    )
    assert cal.add(warsaw(2026, 10, 3, 8, 0), -1, "business_days") == warsaw(
        2026, 10, 2, 8, 0
    )


def test_result_is_utc_even_for_non_utc_input(cal: WorkCalendar) -> None:
    start = datetime(2026, 10, 2, 15, 0, tzinfo=WARSAW)
    for unit in sorted(UNITS):
        result = cal.add(start, 1, unit)
        assert result.tzinfo is UTC
    assert cal.add(start, 1, "business_days") == warsaw(2026, 10, 5, 15, 0)


# --- DST ------------------------------------------------------------------------


def test_autumn_dst_keeps_local_wall_clock(cal: WorkCalendar) -> None:
    # Clocks go back on Sunday 2026-10-25 (CEST +02:00 -> CET +01:00).
    friday = warsaw(2026, 10, 23, 10, 0)
    assert friday == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    due = cal.add(friday, 1, "business_days")
    assert local(due).time() == time(10, 0)
    assert local(due).date() == date(2026, 10, 26)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)

    saturday = warsaw(2026, 10, 24, 10, 0)
    assert local(cal.add(saturday, 1, "days")) == datetime(
        2026, 10, 25, 10, 0, tzinfo=WARSAW
    )
    assert cal.add(saturday, 1, "days") - saturday == timedelta(hours=25)
    assert local(cal.add(saturday, 1, "weeks")).time() == time(10, 0)
    # Absolute durations do not preserve the wall clock.
    assert cal.add(saturday, 24, "hours") - saturday == timedelta(hours=24)
    assert local(cal.add(saturday, 24, "hours")).time() == time(9, 0)
    assert cal.add(saturday, 90, "minutes") == saturday + timedelta(minutes=90)


def test_nonexistent_local_time_moves_forward(cal: WorkCalendar) -> None:
    # 2026-03-29 02:30 does not exist in Warsaw (clocks jump 02:00 -> 03:00).
    start = warsaw(2026, 3, 28, 2, 30)
    result = cal.add(start, 1, "days")
    assert local(result) == datetime(2026, 3, 29, 3, 30, tzinfo=WARSAW)


# --- working_days_between / local_date ---------------------------------------


def test_working_days_between(cal: WorkCalendar) -> None:
    friday = warsaw(2026, 10, 2, 15, 0)
    assert cal.working_days_between(friday, warsaw(2026, 10, 5, 9, 0)) == 1
    assert cal.working_days_between(friday, warsaw(2026, 10, 4, 9, 0)) == 0
    assert cal.working_days_between(friday, warsaw(2026, 10, 2, 18, 0)) == 0
    assert cal.working_days_between(friday, friday) == 0
    assert cal.working_days_between(friday, warsaw(2026, 9, 1, 9, 0)) == 0
    assert cal.working_days_between(friday, warsaw(2026, 10, 9, 15, 0)) == 5
    # December 2026: 23 working days, minus 24, 25 (Thu, Fri) = 21.
    assert (
        cal.working_days_between(
            warsaw(2026, 11, 30, 12, 0), warsaw(2026, 12, 31, 12, 0)
        )
        == 21
    )


def test_local_date_uses_tenant_zone(cal: WorkCalendar) -> None:
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert cal.local_date(moment) == date(2027, 1, 1)
    assert not cal.is_working_day(cal.local_date(moment))


# --- errors ---------------------------------------------------------------------


def test_naive_datetimes_are_rejected(cal: WorkCalendar) -> None:
    naive = datetime(2026, 10, 2, 15, 0)
    aware = warsaw(2026, 10, 2, 15, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(naive, 1, "business_days")
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_days_between(naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_days_between(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.local_date(naive)


def test_unknown_unit_is_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="unknown unit 'months'"):
        cal.add(warsaw(2026, 10, 2, 15, 0), 1, "months")


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        WorkCalendar.for_tenant("Europe/Atlantis")
    with pytest.raises(ValueError, match="not supported"):
        WorkCalendar.for_tenant("Europe/Warsaw", country="XX")


def test_is_working_day_rejects_datetimes(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="local_date"):
        cal.is_working_day(datetime(2026, 10, 2, 15, 0, tzinfo=UTC))


# --- properties -----------------------------------------------------------------

ZONES = ["Europe/Warsaw", "America/New_York", "Asia/Tokyo", "Africa/Cairo", "UTC"]

starts = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.just(UTC),
)
calendars = st.builds(
    WorkCalendar.for_tenant,
    time_zone=st.sampled_from(ZONES),
    days_off=st.frozensets(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 3, 31)), max_size=20
    ),
)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=starts, n=st.integers(min_value=0, max_value=60))
def test_business_days_property(
    calendar: WorkCalendar, start: datetime, n: int
) -> None:
    due = calendar.add(start, n, "business_days")
    assert due.tzinfo is UTC
    if n == 0:
        assert due == start
    else:
        assert due > start
        assert calendar.is_working_day(calendar.local_date(due))
    assert calendar.working_days_between(start, due) == n


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=60))
def test_business_days_preserve_warsaw_wall_clock(start: datetime, n: int) -> None:
    # Warsaw changes clocks on Sundays, so a working day never has a gap or an
    # overlap and the local wall-clock time is always preserved exactly.
    cal = WorkCalendar.for_tenant("Europe/Warsaw")
    due = cal.add(start, n, "business_days")
    assert local(due).time() == local(start).time()
