"""Coordinators edit the hours, holidays, closures and extra openings here.

These are plain CRUD screens: the admin's model forms validate with the
models' ``clean()`` and constraints, so a service per screen would add nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from onthaal.hours.models import Closure, ExtraOpening, SchoolHoliday, WeeklyHours

# ModelAdmin is generic for the type checker (django-stubs) but not at run time.
if TYPE_CHECKING:
    WeeklyHoursModelAdmin = admin.ModelAdmin[WeeklyHours]
    NamedDateRangeModelAdmin = admin.ModelAdmin[SchoolHoliday | Closure]
    ExtraOpeningModelAdmin = admin.ModelAdmin[ExtraOpening]
else:
    WeeklyHoursModelAdmin = NamedDateRangeModelAdmin = ExtraOpeningModelAdmin = admin.ModelAdmin


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(WeeklyHoursModelAdmin):
    list_display = ["kind", "weekday", "opens", "closes", "valid_from"]
    list_filter = ["kind", "valid_from"]
    ordering = ["kind", "valid_from", "weekday"]


class NamedDateRangeAdmin(NamedDateRangeModelAdmin):
    list_display = ["name", "start", "end"]
    search_fields = ["name"]
    date_hierarchy = "start"
    ordering = ["start", "end"]
    readonly_fields = ["generated_key"]


@admin.register(SchoolHoliday)
class SchoolHolidayAdmin(NamedDateRangeAdmin):
    pass


@admin.register(Closure)
class ClosureAdmin(NamedDateRangeAdmin):
    pass


@admin.register(ExtraOpening)
class ExtraOpeningAdmin(ExtraOpeningModelAdmin):
    list_display = ["date", "opens", "closes", "note"]
    search_fields = ["note"]
    date_hierarchy = "date"
    ordering = ["date", "opens"]
