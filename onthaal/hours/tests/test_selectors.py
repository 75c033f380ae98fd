from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from onthaal.hours.models import DayKind, WeeklyHours
from onthaal.hours.selectors import OpeningStatus, opening_days, opening_periods, opening_status
from onthaal.hours.services import closure_create, extra_opening_create

BRUSSELS = ZoneInfo("Europe/Brussels")

pytestmark = pytest.mark.usefixtures("hours_calendar")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


def open_until(closes: datetime) -> OpeningStatus:
    return OpeningStatus(is_open=True, closes_at=closes, next_opening=None)


def closed_until(next_opening: datetime | None) -> OpeningStatus:
    return OpeningStatus(is_open=False, closes_at=None, next_opening=next_opening)


# --- school days -------------------------------------------------------------


def test_school_tuesday_evening_is_open_until_21() -> None:
    assert opening_status(at=at(2026, 10, 6, 18)) == open_until(at(2026, 10, 6, 21))


def test_school_tuesday_afternoon_is_closed_until_17() -> None:
    assert opening_status(at=at(2026, 10, 6, 16)) == closed_until(at(2026, 10, 6, 17))


def test_opening_and_closing_instants() -> None:
    assert opening_status(at=at(2026, 10, 6, 17)) == open_until(at(2026, 10, 6, 21))
    assert opening_status(at=at(2026, 10, 6, 21)) == closed_until(at(2026, 10, 7, 14))


def test_school_wednesday_opens_at_14() -> None:
    assert opening_status(at=at(2026, 10, 7, 13, 59)) == closed_until(at(2026, 10, 7, 14))
    assert opening_status(at=at(2026, 10, 7, 14, 30)) == open_until(at(2026, 10, 7, 21))


def test_friday_is_closed_until_monday_17() -> None:
    assert opening_status(at=at(2026, 10, 9, 18)) == closed_until(at(2026, 10, 12, 17))


def test_school_week_periods() -> None:
    assert opening_periods(start=date(2026, 10, 5), end=date(2026, 10, 11)) == [
        (at(2026, 10, 5, 17), at(2026, 10, 5, 21)),
        (at(2026, 10, 6, 17), at(2026, 10, 6, 21)),
        (at(2026, 10, 7, 14), at(2026, 10, 7, 21)),
        (at(2026, 10, 8, 17), at(2026, 10, 8, 21)),
    ]


def test_status_accepts_any_aware_timezone() -> None:
    # 16:30 UTC is 18:30 in Brussels (summer time until 25 October 2026).
    status = opening_status(at=datetime(2026, 10, 6, 16, 30, tzinfo=UTC))
    assert status == open_until(at(2026, 10, 6, 21))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        opening_status(at=datetime(2026, 10, 6, 18))


# --- school holidays ---------------------------------------------------------


def test_autumn_holiday_week_has_holiday_hours() -> None:
    # Herfstvakantie 2026: Mon 2 - Sun 8 November (1 November is a Sunday).
    assert opening_status(at=at(2026, 11, 2, 14, 30)) == open_until(at(2026, 11, 2, 21))
    assert opening_status(at=at(2026, 11, 5, 12)) == closed_until(at(2026, 11, 5, 14))
    # Friday of the holiday: closed; Monday 9 November is a school day again.
    assert opening_status(at=at(2026, 11, 6, 15)) == closed_until(at(2026, 11, 9, 17))
    assert opening_days(start=date(2026, 11, 2), end=date(2026, 11, 8)) == [
        date(2026, 11, 2),
        date(2026, 11, 3),
        date(2026, 11, 4),
        date(2026, 11, 5),
    ]


def test_carnival_holiday_generated_from_easter_has_holiday_hours() -> None:
    # Easter 2027 is 28 March, so the krokusvakantie starts Monday 8 February.
    assert opening_status(at=at(2027, 2, 8, 15)) == open_until(at(2027, 2, 8, 21))
    assert opening_status(at=at(2027, 2, 1, 15)) == closed_until(at(2027, 2, 1, 17))


# --- decreed closures --------------------------------------------------------


def test_christmas_closure_until_after_new_year() -> None:
    # 21-24 December are in the Christmas holiday, before the closure: holiday hours.
    assert opening_status(at=at(2026, 12, 24, 15)) == open_until(at(2026, 12, 24, 21))
    # The Christmas holiday runs until Sunday 3 January, so Monday 4 January is a school day.
    assert opening_status(at=at(2026, 12, 24, 22)) == closed_until(at(2027, 1, 4, 17))
    assert opening_status(at=at(2026, 12, 27, 15)) == closed_until(at(2027, 1, 4, 17))
    assert opening_status(at=at(2026, 12, 28, 15)) == closed_until(at(2027, 1, 4, 17))
    assert opening_days(start=date(2026, 12, 25), end=date(2027, 1, 3)) == []


def test_mid_summer_closure() -> None:
    # Wednesday 14 July 2027: summer holiday hours.
    assert opening_status(at=at(2027, 7, 14, 14)) == open_until(at(2027, 7, 14, 21))
    # Closed from Thursday 15 July up to and including Sunday 15 August.
    assert opening_status(at=at(2027, 7, 14, 21)) == closed_until(at(2027, 8, 16, 14))
    assert opening_status(at=at(2027, 7, 15, 15)) == closed_until(at(2027, 8, 16, 14))
    assert opening_status(at=at(2027, 8, 16, 15)) == open_until(at(2027, 8, 16, 21))
    assert opening_days(start=date(2027, 7, 15), end=date(2027, 8, 15)) == []


# --- public holidays ---------------------------------------------------------


def test_easter_monday_in_the_easter_holiday_is_closed() -> None:
    # Paasvakantie 2027 starts on Easter Monday 29 March; the holiday hours
    # resume on Tuesday.
    assert opening_status(at=at(2027, 3, 29, 15)) == closed_until(at(2027, 3, 30, 14))


def test_ascension_day_is_closed() -> None:
    # Thursday 6 May 2027; Friday is closed anyway, so Monday 10 May 17:00.
    assert opening_status(at=at(2027, 5, 6, 18)) == closed_until(at(2027, 5, 10, 17))


def test_labour_day_is_closed() -> None:
    # Monday 1 May 2028 is a school day but a public holiday.
    assert opening_status(at=at(2028, 5, 1, 18)) == closed_until(at(2028, 5, 2, 17))


def test_armistice_day_is_closed() -> None:
    # Wednesday 11 November 2026.
    assert opening_status(at=at(2026, 11, 11, 15)) == closed_until(at(2026, 11, 12, 17))


# --- coordinators' closures and extra openings ------------------------------------


def test_ad_hoc_closure() -> None:
    closure_create(name="Studiedag", start=date(2026, 10, 7), end=date(2026, 10, 8))
    assert opening_status(at=at(2026, 10, 7, 15)) == closed_until(at(2026, 10, 12, 17))
    assert opening_days(start=date(2026, 10, 5), end=date(2026, 10, 11)) == [
        date(2026, 10, 5),
        date(2026, 10, 6),
    ]


def test_extra_opening_overrides_decreed_closure() -> None:
    extra_opening_create(
        date=date(2026, 12, 28), opens=time(10), closes=time(12), note="Na een schoolincident"
    )
    assert opening_status(at=at(2026, 12, 28, 9)) == closed_until(at(2026, 12, 28, 10))
    assert opening_status(at=at(2026, 12, 28, 11)) == open_until(at(2026, 12, 28, 12))
    assert opening_status(at=at(2026, 12, 28, 12)) == closed_until(at(2027, 1, 4, 17))


def test_extra_opening_overrides_public_holiday_and_weekend() -> None:
    extra_opening_create(date=date(2026, 11, 11), opens=time(19), closes=time(21))
    extra_opening_create(date=date(2026, 10, 10), opens=time(10), closes=time(13))
    assert opening_status(at=at(2026, 11, 11, 20)) == open_until(at(2026, 11, 11, 21))
    assert opening_status(at=at(2026, 10, 9, 22)) == closed_until(at(2026, 10, 10, 10))


def test_extra_opening_next_to_regular_hours_extends_the_period() -> None:
    extra_opening_create(date=date(2026, 10, 6), opens=time(15), closes=time(17))
    assert opening_status(at=at(2026, 10, 6, 16)) == open_until(at(2026, 10, 6, 21))
    assert opening_periods(start=date(2026, 10, 6), end=date(2026, 10, 6)) == [
        (at(2026, 10, 6, 15), at(2026, 10, 6, 21))
    ]


def test_separate_extra_opening_on_an_open_day() -> None:
    extra_opening_create(date=date(2026, 10, 6), opens=time(10), closes=time(12))
    assert opening_status(at=at(2026, 10, 6, 11)) == open_until(at(2026, 10, 6, 12))
    assert opening_status(at=at(2026, 10, 6, 12)) == closed_until(at(2026, 10, 6, 17))


# --- weekly hours are data ---------------------------------------------------------


def test_new_weekly_hours_version_applies_from_its_date() -> None:
    # From 1 September 2027 school days are open Monday 16:00-20:00 only.
    WeeklyHours.objects.create(
        kind=DayKind.SCHOOL_DAY,
        weekday=0,
        opens=time(16),
        closes=time(20),
        valid_from=date(2027, 9, 1),
    )
    # Before: the old version (a school Wednesday opens at 14:00).
    assert opening_status(at=at(2027, 6, 30, 15)) == open_until(at(2027, 6, 30, 21))
    # From then on: the Wednesday has no row in the new version, so it is closed.
    assert opening_status(at=at(2027, 8, 31, 22)) == closed_until(at(2027, 9, 6, 16))
    assert opening_status(at=at(2027, 9, 1, 15)) == closed_until(at(2027, 9, 6, 16))
    assert opening_days(start=date(2027, 9, 6), end=date(2027, 9, 12)) == [date(2027, 9, 6)]
    # The summer holiday still uses the holiday hours, which have no new version.
    assert opening_status(at=at(2027, 8, 30, 15)) == open_until(at(2027, 8, 30, 21))


def test_no_opening_within_the_horizon() -> None:
    WeeklyHours.objects.all().delete()
    assert opening_status(at=at(2026, 10, 6, 18)) == closed_until(None)


# --- daylight saving time ----------------------------------------------------


def test_next_opening_across_spring_forward() -> None:
    # Sunday 29 March 2026 02:00 CET becomes 03:00 CEST.
    status = opening_status(at=at(2026, 3, 28, 12))
    assert status == closed_until(at(2026, 3, 30, 17))
    assert status.next_opening is not None
    assert status.next_opening.utcoffset() == timedelta(hours=2)
    assert status.next_opening == datetime(2026, 3, 30, 15, tzinfo=UTC)


def test_extra_opening_on_spring_forward_sunday() -> None:
    extra_opening_create(date=date(2026, 3, 29), opens=time(14), closes=time(16))
    # 12:30 UTC is 14:30 CEST.
    status = opening_status(at=datetime(2026, 3, 29, 12, 30, tzinfo=UTC))
    assert status == open_until(datetime(2026, 3, 29, 14, tzinfo=UTC))
    assert opening_status(at=datetime(2026, 3, 29, 11, 30, tzinfo=UTC)) == closed_until(
        datetime(2026, 3, 29, 12, tzinfo=UTC)
    )


def test_extra_opening_on_fall_back_sunday() -> None:
    # Sunday 25 October 2026 03:00 CEST becomes 02:00 CET.
    extra_opening_create(date=date(2026, 10, 25), opens=time(14), closes=time(16))
    # 12:30 UTC is 13:30 CET: closed, opening at 14:00 CET = 13:00 UTC.
    status = opening_status(at=datetime(2026, 10, 25, 12, 30, tzinfo=UTC))
    assert status == closed_until(datetime(2026, 10, 25, 13, tzinfo=UTC))
    assert opening_status(at=datetime(2026, 10, 25, 13, 30, tzinfo=UTC)) == open_until(
        datetime(2026, 10, 25, 15, tzinfo=UTC)
    )


def test_periods_around_fall_back_have_the_right_offsets() -> None:
    periods = opening_periods(start=date(2026, 10, 22), end=date(2026, 10, 26))
    assert [(opens.utcoffset(), closes.utcoffset()) for opens, closes in periods] == [
        (timedelta(hours=2), timedelta(hours=2)),  # Thursday 22 October, CEST
        (timedelta(hours=1), timedelta(hours=1)),  # Monday 26 October, CET
    ]
    assert periods[1] == (
        datetime(2026, 10, 26, 16, tzinfo=UTC),
        datetime(2026, 10, 26, 20, tzinfo=UTC),
    )


# --- ranges and cost ---------------------------------------------------------


def test_opening_days_of_a_month() -> None:
    # October 2026: school days only (the autumn holiday starts 2 November).
    days = opening_days(start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert len(days) == 17
    assert all(day.weekday() <= 3 for day in days)
    assert days == sorted(days)


def test_empty_range() -> None:
    assert opening_periods(start=date(2026, 10, 8), end=date(2026, 10, 7)) == []
    assert opening_days(start=date(2026, 10, 8), end=date(2026, 10, 7)) == []


@pytest.mark.parametrize(
    "moment",
    [
        at(2026, 10, 6, 18),  # open
        at(2026, 10, 9, 18),  # closed over a weekend
        at(2027, 7, 15, 12),  # a month-long closure ahead
    ],
)
def test_opening_status_query_count(
    moment: datetime,
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    extra_opening_create(date=date(2026, 10, 10), opens=time(10), closes=time(12))
    with django_assert_max_num_queries(4):
        opening_status(at=moment)


def test_range_selectors_query_count(
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    with django_assert_max_num_queries(4):
        opening_periods(start=date(2026, 9, 1), end=date(2027, 8, 31))
    with django_assert_max_num_queries(4):
        opening_days(start=date(2026, 9, 1), end=date(2027, 8, 31))
