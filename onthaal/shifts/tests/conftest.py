"""Fixtures of the shifts tests: staff of every role and open days in the future."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import logged_in_client, make_staff
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE, public_holidays, school_year_of
from onthaal.hours.services import (
    extra_opening_create,
    school_calendar_generate,
    weekly_hours_seed_defaults,
)
from onthaal.staff.models import Availability, Discipline, Role, User

BlockTimes = Callable[[date, str, str], tuple[datetime, datetime]]


def at(day: date, clock: str) -> datetime:
    """``day`` at ``clock`` ("17:30"), Europe/Brussels."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=HELPLINE_TIMEZONE)


@pytest.fixture
def analyst(db: None) -> User:
    return make_staff(username="analist", role=Role.ANALYST, availability=Availability.OFFLINE)


@pytest.fixture
def analyst_client(analyst: User) -> Client:
    return logged_in_client(analyst)


@pytest.fixture
def nurse(db: None) -> User:
    return make_staff(username="nurse", pseudonym="Noor", discipline=Discipline.NURSE)


@pytest.fixture
def doctor(db: None) -> User:
    return make_staff(username="doctor", pseudonym="Dries", discipline=Discipline.DOCTOR)


@pytest.fixture
def open_sunday(db: None) -> date:
    """A Sunday at least a week ahead, open 17:00–21:00 by an extra opening.

    Sundays have no weekly hours, so the extra opening is the day's only
    opening period, whatever the school calendar says.
    """
    today = timezone.localdate(timezone=HELPLINE_TIMEZONE)
    day = today + timedelta(days=(6 - today.weekday()) % 7 + 7)
    extra_opening_create(date=day, opens=time(17), closes=time(21), note="tests")
    return day


@pytest.fixture
def open_saturday_long(db: None, open_sunday: date) -> date:
    """The Saturday before ``open_sunday``, open 14:00–21:00 by an extra opening."""
    day = open_sunday - timedelta(days=1)
    extra_opening_create(date=day, opens=time(14), closes=time(21), note="tests")
    return day


@pytest.fixture
def future_public_holiday(db: None) -> date:
    """The next official public holiday more than a week ahead, on a Monday to
    Thursday outside the decreed closures: a weekday that has weekly hours,
    closed only by the holiday."""
    today = timezone.localdate(timezone=HELPLINE_TIMEZONE)
    candidates = sorted(
        day
        for year in (today.year, today.year + 1)
        for day in public_holidays(year)
        if day > today + timedelta(days=8)
        and day.weekday() <= 3
        # Not in the decreed closures, so that only the holiday closes it.
        and not (day.month == 12 and day.day >= 20)
        and not (day.month == 1 and day.day <= 6)
        and day.month not in (7, 8)
    )
    holiday = candidates[0]
    weekly_hours_seed_defaults()
    school_calendar_generate(school_year=school_year_of(holiday))
    return holiday
