"""Writes for opening hours: the default calendar, weekly hours, closures and extra openings.

Coordinators edit the same rows through the Django admin, which validates
them with the models' ``clean()`` and constraints; these functions are for
code (the data migration's twin, the CLI, tests).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from onthaal.hours import calendar_rules
from onthaal.hours.models import (
    Closure,
    ExtraOpening,
    NamedDateRange,
    SchoolHoliday,
    WeeklyHours,
)

# A guard against typos such as --year 226, not a limit of the rules.
MIN_SCHOOL_YEAR = 2000
MAX_SCHOOL_YEAR = 2100


@transaction.atomic
def school_calendar_generate(*, school_year: int) -> int:
    """Create the default school holidays and decreed closures of one school year.

    ``school_year`` is the calendar year the school year starts in (2026 for
    1 Sep 2026 - 31 Aug 2027). Idempotent: a period created before (recognised
    by its generated key, even if a coordinator has since renamed or moved it)
    is left alone. A generated period a coordinator deleted is created again.
    Returns the number of rows created.

    Raises ValueError for a school year outside 2000-2100.
    """
    if not MIN_SCHOOL_YEAR <= school_year <= MAX_SCHOOL_YEAR:
        raise ValueError(
            f"school_year must lie between {MIN_SCHOOL_YEAR} and {MAX_SCHOOL_YEAR}, "
            f"got {school_year}"
        )
    holidays = calendar_rules.school_holiday_periods(school_year)
    closures = calendar_rules.decreed_closure_periods(school_year)
    return _date_ranges_create_missing(SchoolHoliday, holidays) + _date_ranges_create_missing(
        Closure, closures
    )


def _date_ranges_create_missing[M: NamedDateRange](
    model: type[M], periods: list[calendar_rules.CalendarPeriod]
) -> int:
    """Create the periods whose generated key is not in ``model``'s table yet."""
    existing = set(
        model._default_manager.filter(generated_key__in=[p.key for p in periods]).values_list(
            "generated_key", flat=True
        )
    )
    new_rows = [
        model(name=p.name, start=p.start, end=p.end, generated_key=p.key)
        for p in periods
        if p.key not in existing
    ]
    model._default_manager.bulk_create(new_rows)
    return len(new_rows)


@transaction.atomic
def weekly_hours_seed_defaults() -> int:
    """Create the default weekly hours (valid for all years) if there are none.

    The data migration seeds the same rows; this restores them, e.g. after a
    test flushed the tables. Does nothing when any weekly hours exist.
    Returns the number of rows created.
    """
    if WeeklyHours.objects.exists():
        return 0
    rows = [
        WeeklyHours(kind=kind, weekday=weekday, opens=opens, closes=closes)
        for kind, weekday, opens, closes in calendar_rules.DEFAULT_WEEKLY_HOURS
    ]
    WeeklyHours.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def school_holiday_create(*, name: str, start: dt.date, end: dt.date) -> SchoolHoliday:
    """Add a school-holiday period (inclusive dates). Raises ValidationError if start > end."""
    holiday = SchoolHoliday(name=name, start=start, end=end)
    holiday.full_clean()
    holiday.save()
    return holiday


@transaction.atomic
def closure_create(*, name: str, start: dt.date, end: dt.date) -> Closure:
    """Add an ad-hoc closure (inclusive dates). Raises ValidationError if start > end."""
    closure = Closure(name=name, start=start, end=end)
    closure.full_clean()
    closure.save()
    return closure


@transaction.atomic
def extra_opening_create(
    *, date: dt.date, opens: dt.time, closes: dt.time, note: str = ""
) -> ExtraOpening:
    """Add an extra opening on ``date``; it applies even during a closure or holiday.

    Raises ValidationError unless opens < closes.
    """
    opening = ExtraOpening(date=date, opens=opens, closes=closes, note=note)
    opening.full_clean()
    opening.save()
    return opening
