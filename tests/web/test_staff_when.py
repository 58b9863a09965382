"""`i18n.when` writes the staff pages' all-digit moments directly: exactly as Babel writes them, in every
language and time zone, across summer-time changes and half-hour offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from komunikator.web.staff.i18n import NUMERIC, when

ZONES = ["Europe/Warsaw", "America/New_York", "Asia/Kolkata", "UTC"]


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
       zone=st.sampled_from(ZONES), language=st.sampled_from(["pl", "en"]))
def test_the_numeric_moment_is_written_as_babel_writes_it(moment: datetime, zone: str, language: str) -> None:
    expected = format_datetime(moment.astimezone(ZoneInfo(zone)), NUMERIC, locale=language)
    assert when(moment, language, zone) == expected
    assert when(moment.isoformat(), language, zone) == expected


def test_other_patterns_still_go_through_babel() -> None:
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET, half an hour before summer time
    assert when(moment, "pl", "Europe/Warsaw") == "29.03.2026, 01:30"
    assert when(moment, "pl", "Europe/Warsaw", "d MMMM yyyy") == "29 marca 2026"
    assert when(moment, "en", "Europe/Warsaw", "d MMMM yyyy") == "29 March 2026"
    assert when(None, "pl", "Europe/Warsaw") == ""
