from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from onthaal.hours.models import Closure, ExtraOpening, SchoolHoliday, WeeklyHours
from onthaal.hours.selectors import opening_days
from onthaal.hours.services import (
    closure_create,
    extra_opening_create,
    school_calendar_generate,
    school_holiday_create,
    weekly_hours_seed_defaults,
)

pytestmark = pytest.mark.django_db


def generated(school_year: int) -> dict[str, set[tuple[str, date, date]]]:
    label = f"{school_year}-{school_year + 1}"
    return {
        model.__name__: {
            (name.removesuffix(f" {label}"), start, end)
            for name, start, end in model.objects.filter(name__endswith=label).values_list(
                "name", "start", "end"
            )
        }
        for model in (SchoolHoliday, Closure)
    }


def test_calendar_2026_2027_follows_the_flemish_rules() -> None:
    school_calendar_generate(school_year=2026)
    assert generated(2026) == {
        "SchoolHoliday": {
            # 1 November 2026 is a Sunday: the week starting Monday 2 November.
            ("Herfstvakantie", date(2026, 11, 2), date(2026, 11, 8)),
            # 25 December 2026 is a Friday: from the Monday of that week, two weeks.
            ("Kerstvakantie", date(2026, 12, 21), date(2027, 1, 3)),
            # Easter 2027 is 28 March: Easter - 48 days = Monday 8 February.
            ("Krokusvakantie", date(2027, 2, 8), date(2027, 2, 14)),
            # Easter in March: from Easter Monday, two weeks.
            ("Paasvakantie", date(2027, 3, 29), date(2027, 4, 11)),
            ("Zomervakantie", date(2027, 7, 1), date(2027, 8, 31)),
        },
        "Closure": {
            ("Sluiting kerst en nieuwjaar", date(2026, 12, 25), date(2027, 1, 1)),
            ("Zomersluiting", date(2027, 7, 15), date(2027, 8, 15)),
        },
    }


@pytest.mark.parametrize(
    ("school_year", "name", "start", "end"),
    [
        # 1 November 2025 is a Saturday: the week containing it.
        (2025, "Herfstvakantie", date(2025, 10, 27), date(2025, 11, 2)),
        # 25 December 2027 is a Saturday: from the Monday after it.
        (2027, "Kerstvakantie", date(2027, 12, 27), date(2028, 1, 9)),
        # 25 December 2022 is a Sunday: from the Monday after it.
        (2022, "Kerstvakantie", date(2022, 12, 26), date(2023, 1, 8)),
        # Easter 2026 is 5 April (not in March, not after 15 April): first Monday of April.
        (2025, "Paasvakantie", date(2026, 4, 6), date(2026, 4, 19)),
        (2025, "Krokusvakantie", date(2026, 2, 16), date(2026, 2, 22)),
        # Easter 2028 is 16 April (after 15 April): two weeks before Easter Monday,
        # up to and including Easter Monday 17 April.
        (2027, "Paasvakantie", date(2028, 4, 3), date(2028, 4, 17)),
        # Easter 2028 in a leap year: 16 April - 48 days = Monday 28 February.
        (2027, "Krokusvakantie", date(2028, 2, 28), date(2028, 3, 5)),
        # Easter 2019 was 21 April: 8-22 April, as in the real 2018-2019 calendar.
        (2018, "Paasvakantie", date(2019, 4, 8), date(2019, 4, 22)),
        # Easter 2024 was 31 March: from Easter Monday 1 April.
        (2023, "Paasvakantie", date(2024, 4, 1), date(2024, 4, 14)),
    ],
)
def test_calendar_rules_edge_cases(school_year: int, name: str, start: date, end: date) -> None:
    school_calendar_generate(school_year=school_year)
    assert (name, start, end) in generated(school_year)["SchoolHoliday"]


def test_generation_is_idempotent() -> None:
    before = SchoolHoliday.objects.count() + Closure.objects.count()
    assert school_calendar_generate(school_year=2030) == 7
    assert school_calendar_generate(school_year=2030) == 0
    assert SchoolHoliday.objects.count() + Closure.objects.count() == before + 7


def test_generation_keeps_coordinators_edits() -> None:
    school_calendar_generate(school_year=2030)
    holiday = SchoolHoliday.objects.get(name="Herfstvakantie 2030-2031")
    holiday.name = "Herfstvakantie (aangepast)"
    holiday.start = date(2030, 10, 21)
    holiday.save(update_fields=["name", "start"])
    assert school_calendar_generate(school_year=2030) == 0
    holiday.refresh_from_db()
    assert (holiday.name, holiday.start) == ("Herfstvakantie (aangepast)", date(2030, 10, 21))


def test_generation_refuses_an_implausible_year() -> None:
    with pytest.raises(ValueError, match="school_year"):
        school_calendar_generate(school_year=226)


def test_command_generates_a_school_year() -> None:
    out = StringIO()
    call_command("calendar", "--year", "2031", stdout=out)
    assert "Schooljaar 2031-2032: 7 periode(s) aangemaakt." in out.getvalue()
    out = StringIO()
    call_command("calendar", "--year", "2031", stdout=out)
    assert "Schooljaar 2031-2032: 0 periode(s) aangemaakt." in out.getvalue()


def test_command_without_year_covers_this_and_next_school_year() -> None:
    out = StringIO()
    call_command("calendar", stdout=out)
    assert out.getvalue().count("Schooljaar ") == 2


def test_command_rejects_an_implausible_year() -> None:
    with pytest.raises(CommandError):
        call_command("calendar", "--year", "1999", stdout=StringIO())


def test_migration_seeded_the_default_weekly_hours() -> None:
    # The test database is built by the migrations, which seed these rows.
    assert weekly_hours_seed_defaults() == 0
    assert WeeklyHours.objects.count() == 8


def test_weekly_hours_seed_restores_the_defaults() -> None:
    WeeklyHours.objects.all().delete()
    assert weekly_hours_seed_defaults() == 8
    school_calendar_generate(school_year=2026)
    assert opening_days(start=date(2026, 10, 5), end=date(2026, 10, 11)) == [
        date(2026, 10, 5),
        date(2026, 10, 6),
        date(2026, 10, 7),
        date(2026, 10, 8),
    ]


def test_date_ranges_must_not_end_before_they_start() -> None:
    with pytest.raises(ValidationError) as closure_error:
        closure_create(name="Omgekeerd", start=date(2026, 10, 8), end=date(2026, 10, 7))
    assert "end" in closure_error.value.message_dict
    with pytest.raises(ValidationError):
        school_holiday_create(name="Omgekeerd", start=date(2026, 10, 8), end=date(2026, 10, 7))
    one_day = closure_create(name="Eén dag", start=date(2026, 10, 8), end=date(2026, 10, 8))
    assert one_day.pk is not None


def test_extra_opening_must_open_before_it_closes() -> None:
    with pytest.raises(ValidationError) as error:
        extra_opening_create(date=date(2026, 10, 8), opens=time(18), closes=time(18))
    assert "closes" in error.value.message_dict


def test_database_enforces_the_rules_too() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Closure.objects.create(name="Omgekeerd", start=date(2026, 10, 8), end=date(2026, 10, 7))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtraOpening.objects.create(date=date(2026, 10, 8), opens=time(18), closes=time(17))
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyHours.objects.create(kind="school_day", weekday=0, opens=time(9), closes=time(10))


def test_calendar_2025_2026_matches_the_published_flemish_calendar() -> None:
    """The dates Flemish schools published for 2025–26 (traditional calendar)."""
    from onthaal.hours import calendar_rules as rules

    assert rules.autumn_holiday(2025) == (date(2025, 10, 27), date(2025, 11, 2))
    assert rules.christmas_holiday(2025) == (date(2025, 12, 22), date(2026, 1, 4))
    assert rules.carnival_holiday(2025) == (date(2026, 2, 16), date(2026, 2, 22))
    assert rules.easter_holiday(2025) == (date(2026, 4, 6), date(2026, 4, 19))
    assert rules.summer_holiday(2025) == (date(2026, 7, 1), date(2026, 8, 31))
