"""Reads: is the chat open, when does it close or open next, which periods were open.

The rules, for one date in Europe/Brussels:

1. Every extra opening of that date applies, whatever else holds.
2. Otherwise-regular hours are cancelled by a closure or an official Belgian
   public holiday.
3. Else the weekly hours apply: the school-holiday hours if the date lies in a
   school holiday, the school-day hours if not.

Periods of one date that overlap or touch are merged, so ``closes_at`` is the
end of the whole stretch the chat stays open. Periods never cross midnight.

Every public function runs a fixed number of queries (one per table), whatever
the range of dates: the rows are few, and the day-by-day rules run in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from onthaal.hours import calendar_rules
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.models import Closure, DayKind, ExtraOpening, SchoolHoliday, WeeklyHours

# How far ahead ``opening_status`` looks for the next opening. The longest
# regular closed stretch (mid-summer) is about a month.
NEXT_OPENING_HORIZON_DAYS = 120


@dataclass(frozen=True)
class OpeningStatus:
    is_open: bool
    closes_at: datetime | None  # end of the current period when open
    next_opening: datetime | None  # start of the next period when closed; None if none found


@dataclass(frozen=True)
class _WeeklyVersion:
    valid_from: date  # date.min for the undated version
    hours: dict[int, tuple[time, time]]  # weekday -> (opens, closes)


class _Calendar:
    """The hours data for a date range, loaded with one query per table."""

    def __init__(self, *, start: date, end: date) -> None:
        versions: dict[tuple[str, date], dict[int, tuple[time, time]]] = defaultdict(dict)
        for row in WeeklyHours.objects.all():
            key = (row.kind, row.valid_from or date.min)
            versions[key][row.weekday] = (row.opens, row.closes)
        self._versions: dict[str, list[_WeeklyVersion]] = defaultdict(list)
        # Newest first, so the first version valid on a date is the one that applies.
        for (kind, valid_from), hours in sorted(
            versions.items(), key=lambda item: item[0][1], reverse=True
        ):
            self._versions[kind].append(_WeeklyVersion(valid_from, hours))

        overlapping = {"start__lte": end, "end__gte": start}
        self._holidays = list(
            SchoolHoliday.objects.filter(**overlapping).values_list("start", "end")
        )
        self._closures = list(Closure.objects.filter(**overlapping).values_list("start", "end"))
        self._extras: dict[date, list[tuple[time, time]]] = defaultdict(list)
        for day, opens, closes in ExtraOpening.objects.filter(date__range=(start, end)).values_list(
            "date", "opens", "closes"
        ):
            self._extras[day].append((opens, closes))
        self._public_holidays = frozenset().union(
            *(calendar_rules.public_holidays(year) for year in range(start.year, end.year + 1))
        )

    def _weekly_hours(self, day: date) -> tuple[time, time] | None:
        in_holiday = any(start <= day <= end for start, end in self._holidays)
        kind = DayKind.SCHOOL_HOLIDAY if in_holiday else DayKind.SCHOOL_DAY
        for version in self._versions.get(kind, []):
            if version.valid_from <= day:
                return version.hours.get(day.weekday())
        return None

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The merged opening periods of ``day``, as aware Brussels datetimes, in order."""
        times = list(self._extras.get(day, []))
        closed = day in self._public_holidays or any(
            start <= day <= end for start, end in self._closures
        )
        if not closed:
            regular = self._weekly_hours(day)
            if regular is not None:
                times.append(regular)
        merged: list[tuple[time, time]] = []
        for opens, closes in sorted(times):
            if merged and opens <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
            else:
                merged.append((opens, closes))
        return [
            (
                datetime.combine(day, opens, tzinfo=HELPLINE_TIMEZONE),
                datetime.combine(day, closes, tzinfo=HELPLINE_TIMEZONE),
            )
            for opens, closes in merged
        ]


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def opening_status(*, at: datetime) -> OpeningStatus:
    """Whether the chat is open at ``at`` (aware), and until when or from when.

    When open, ``closes_at`` is the end of the current period; when closed,
    ``next_opening`` is the start of the next period within
    ``NEXT_OPENING_HORIZON_DAYS`` days, or None. Datetimes are in Europe/Brussels.
    Runs four queries.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("opening_status needs a timezone-aware datetime")
    today = at.astimezone(HELPLINE_TIMEZONE).date()
    # Compare in UTC: aware datetimes sharing one tzinfo compare by wall clock,
    # which is wrong around a DST change.
    at = at.astimezone(UTC)
    last = today + timedelta(days=NEXT_OPENING_HORIZON_DAYS)
    calendar = _Calendar(start=today, end=last)
    for day in _days(today, last):
        for opens, closes in calendar.periods(day):
            if at < opens:
                return OpeningStatus(is_open=False, closes_at=None, next_opening=opens)
            if at < closes:
                return OpeningStatus(is_open=True, closes_at=closes, next_opening=None)
    return OpeningStatus(is_open=False, closes_at=None, next_opening=None)


def opening_periods(*, start: date, end: date) -> list[tuple[datetime, datetime]]:
    """All opening periods on the dates ``start`` to ``end`` inclusive, in order.

    Each period is an (opens, closes) pair of aware Europe/Brussels datetimes.
    Runs four queries.
    """
    if start > end:
        return []
    calendar = _Calendar(start=start, end=end)
    return [period for day in _days(start, end) for period in calendar.periods(day)]


def opening_days(*, start: date, end: date) -> list[date]:
    """The dates from ``start`` to ``end`` inclusive with at least one opening period."""
    if start > end:
        return []
    calendar = _Calendar(start=start, end=end)
    return [day for day in _days(start, end) if calendar.periods(day)]
