"""Pure date rules for the default Flemish school calendar and the helpline's hours.

Nothing here touches the database, so both the service layer and the data
migrations can use these functions (a migration must not import the models).

The school-holiday rules are the *traditional* Flemish ones (before the
calendar reform of school year 2022-2023). They give a sensible default that
coordinators then correct in the admin where the real calendar differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter

# The helpline's hours are Belgian wall-clock times, whatever the server's
# TIME_ZONE: a visitor in Flanders reads "open until 21:00" in local time.
HELPLINE_TIMEZONE = ZoneInfo("Europe/Brussels")

SCHOOL_DAY = "school_day"
SCHOOL_HOLIDAY = "school_holiday"

# (kind, weekday with Monday = 0, opens, closes): the hours from DOMAIN.md.
DEFAULT_WEEKLY_HOURS: tuple[tuple[str, int, time, time], ...] = (
    (SCHOOL_DAY, 0, time(17), time(21)),
    (SCHOOL_DAY, 1, time(17), time(21)),
    (SCHOOL_DAY, 2, time(14), time(21)),
    (SCHOOL_DAY, 3, time(17), time(21)),
    (SCHOOL_HOLIDAY, 0, time(14), time(21)),
    (SCHOOL_HOLIDAY, 1, time(14), time(21)),
    (SCHOOL_HOLIDAY, 2, time(14), time(21)),
    (SCHOOL_HOLIDAY, 3, time(14), time(21)),
)


@dataclass(frozen=True)
class CalendarPeriod:
    """A named, inclusive date range the generator creates for one school year.

    ``key`` identifies the generated row (e.g. ``"2026-kerstvakantie"``) so that
    generating twice creates nothing new, even after a coordinator renamed or
    moved the period.
    """

    key: str
    name: str
    start: date
    end: date


def school_year_of(day: date) -> int:
    """The school year ``day`` belongs to, as the calendar year it starts in.

    A school year runs from 1 September to 31 August.
    """
    return day.year if day.month >= 9 else day.year - 1


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday of ``year``."""
    return easter(year)


def _monday_of_week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def autumn_holiday(school_year: int) -> tuple[date, date]:
    """Herfstvakantie: Monday to Sunday of the week containing 1 November.

    If 1 November is a Sunday, the week starting Monday 2 November.
    """
    all_saints = date(school_year, 11, 1)
    if all_saints.weekday() == 6:
        start = all_saints + timedelta(days=1)
    else:
        start = _monday_of_week(all_saints)
    return start, start + timedelta(days=6)


def christmas_holiday(school_year: int) -> tuple[date, date]:
    """Kerstvakantie: two weeks from the Monday of the week containing 25 December.

    If 25 December is a Saturday or Sunday, from the Monday after it.
    """
    christmas = date(school_year, 12, 25)
    if christmas.weekday() >= 5:
        start = christmas + timedelta(days=7 - christmas.weekday())
    else:
        start = _monday_of_week(christmas)
    return start, start + timedelta(days=13)


def carnival_holiday(school_year: int) -> tuple[date, date]:
    """Krokusvakantie: one week from the Monday seven weeks before Easter (Easter - 48 days)."""
    start = easter_sunday(school_year + 1) - timedelta(days=48)
    return start, start + timedelta(days=6)


def easter_holiday(school_year: int) -> tuple[date, date]:
    """Paasvakantie: two weeks.

    - Easter in March: from Easter Monday, for two weeks.
    - Easter after 15 April: from the Monday two weeks before Easter Monday,
      up to and including Easter Monday.
    - Otherwise: from the first Monday of April, for two weeks.
    """
    easter_day = easter_sunday(school_year + 1)
    easter_monday = easter_day + timedelta(days=1)
    if easter_day.month == 3:
        return easter_monday, easter_monday + timedelta(days=13)
    if easter_day > date(easter_day.year, 4, 15):
        return easter_monday - timedelta(days=14), easter_monday
    april_first = date(easter_day.year, 4, 1)
    start = april_first + timedelta(days=(7 - april_first.weekday()) % 7)
    return start, start + timedelta(days=13)


def summer_holiday(school_year: int) -> tuple[date, date]:
    """Zomervakantie: 1 July to 31 August at the end of the school year."""
    return date(school_year + 1, 7, 1), date(school_year + 1, 8, 31)


def _label(school_year: int) -> str:
    return f"{school_year}-{school_year + 1}"


def school_holiday_periods(school_year: int) -> list[CalendarPeriod]:
    """The default school holidays of ``school_year``, in date order."""
    label = _label(school_year)
    rules = (
        ("herfstvakantie", "Herfstvakantie", autumn_holiday),
        ("kerstvakantie", "Kerstvakantie", christmas_holiday),
        ("krokusvakantie", "Krokusvakantie", carnival_holiday),
        ("paasvakantie", "Paasvakantie", easter_holiday),
        ("zomervakantie", "Zomervakantie", summer_holiday),
    )
    periods = []
    for slug, name, rule in rules:
        start, end = rule(school_year)
        periods.append(CalendarPeriod(f"{school_year}-{slug}", f"{name} {label}", start, end))
    return periods


def decreed_closure_periods(school_year: int) -> list[CalendarPeriod]:
    """The decreed closures of ``school_year``: Christmas to New Year, and mid-summer."""
    label = _label(school_year)
    return [
        CalendarPeriod(
            f"{school_year}-sluiting-kerst-nieuwjaar",
            f"Sluiting kerst en nieuwjaar {label}",
            date(school_year, 12, 25),
            date(school_year + 1, 1, 1),
        ),
        CalendarPeriod(
            f"{school_year}-zomersluiting",
            f"Zomersluiting {label}",
            date(school_year + 1, 7, 15),
            date(school_year + 1, 8, 15),
        ),
    ]


@lru_cache(maxsize=32)
def public_holidays(year: int) -> frozenset[date]:
    """Belgian official public holidays of a calendar year (from the `holidays` package)."""
    return frozenset(holidays.country_holidays("BE", years=year).keys())
