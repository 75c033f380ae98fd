"""Seed the default weekly hours and the default calendar of this and next school year.

The date rules come from ``onthaal.hours.calendar_rules`` (pure functions); the
rows are written through the historical models, as a data migration must. The
loop below mirrors ``services.school_calendar_generate``, which cannot be
imported here because it uses the current models.
"""

from datetime import datetime

from django.db import migrations

from onthaal.hours import calendar_rules


def seed(apps, schema_editor):
    WeeklyHours = apps.get_model("hours", "WeeklyHours")
    SchoolHoliday = apps.get_model("hours", "SchoolHoliday")
    Closure = apps.get_model("hours", "Closure")

    if not WeeklyHours.objects.exists():
        WeeklyHours.objects.bulk_create(
            WeeklyHours(kind=kind, weekday=weekday, opens=opens, closes=closes)
            for kind, weekday, opens, closes in calendar_rules.DEFAULT_WEEKLY_HOURS
        )

    today = datetime.now(calendar_rules.HELPLINE_TIMEZONE).date()
    current = calendar_rules.school_year_of(today)
    for school_year in (current, current + 1):
        for model, periods in (
            (SchoolHoliday, calendar_rules.school_holiday_periods(school_year)),
            (Closure, calendar_rules.decreed_closure_periods(school_year)),
        ):
            for period in periods:
                model.objects.get_or_create(
                    generated_key=period.key,
                    defaults={"name": period.name, "start": period.start, "end": period.end},
                )


class Migration(migrations.Migration):
    dependencies = [
        ("hours", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
