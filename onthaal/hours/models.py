"""Opening hours as data: weekly hours, school holidays, closures and extra openings.

How a date's opening periods follow from these rows is decided in one place,
:mod:`onthaal.hours.selectors`. In short: an extra opening always applies; a
closure or an official public holiday cancels the weekly hours; otherwise the
weekly hours of the day's kind (school day or school holiday) apply.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from onthaal.hours import calendar_rules


class DayKind(models.TextChoices):
    SCHOOL_DAY = calendar_rules.SCHOOL_DAY, _("schooldag")
    SCHOOL_HOLIDAY = calendar_rules.SCHOOL_HOLIDAY, _("schoolvakantie")


class Weekday(models.IntegerChoices):
    # The same numbering as ``date.weekday()``.
    MONDAY = 0, _("maandag")
    TUESDAY = 1, _("dinsdag")
    WEDNESDAY = 2, _("woensdag")
    THURSDAY = 3, _("donderdag")
    FRIDAY = 4, _("vrijdag")
    SATURDAY = 5, _("zaterdag")
    SUNDAY = 6, _("zondag")


class WeeklyHours(models.Model):
    """The period a weekday is open, for school days or for school holidays.

    A weekday without a row is closed. Rows sharing a ``valid_from`` form one
    version of the weekly hours of their kind; for a date, the version with the
    latest ``valid_from`` on or before it applies (an empty ``valid_from`` is the
    oldest version, valid for all years). So to change the hours from a new
    school year on, add a full week of rows with that school year's first day.
    """

    kind = models.CharField(_("soort dag"), max_length=20, choices=DayKind.choices)
    weekday = models.PositiveSmallIntegerField(_("weekdag"), choices=Weekday.choices)
    opens = models.TimeField(_("opent om"))
    closes = models.TimeField(_("sluit om"))
    valid_from = models.DateField(
        _("geldig vanaf"),
        null=True,
        blank=True,
        help_text=_(
            "Leeg: geldt voor alle jaren, tot een versie met een latere datum. "
            "Een versie bevat alle weekdagen die open zijn."
        ),
    )

    class Meta:
        verbose_name = _("openingsuren per weekdag")
        verbose_name_plural = _("openingsuren per weekdag")
        ordering = ["kind", "valid_from", "weekday"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")),
                name="hours_weeklyhours_opens_before_closes",
                violation_error_message=_("Het openingsuur moet voor het sluitingsuur liggen."),
            ),
            models.CheckConstraint(
                condition=Q(weekday__lte=6),
                name="hours_weeklyhours_weekday_valid",
            ),
            models.UniqueConstraint(
                fields=["kind", "weekday", "valid_from"],
                name="hours_weeklyhours_one_per_day_version",
                violation_error_message=_("Deze weekdag heeft al openingsuren in deze versie."),
            ),
            # NULLs are distinct in a unique index, so the undated version needs its own.
            models.UniqueConstraint(
                fields=["kind", "weekday"],
                condition=Q(valid_from__isnull=True),
                name="hours_weeklyhours_one_per_day_undated",
                violation_error_message=_("Deze weekdag heeft al openingsuren in deze versie."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.get_weekday_display()} "
            f"{self.opens:%H:%M}-{self.closes:%H:%M}"
        )

    def clean(self) -> None:
        super().clean()
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": _("Het sluitingsuur moet na het openingsuur liggen.")})


class NamedDateRange(models.Model):
    """An inclusive date range with a name, optionally created by the calendar generator."""

    name = models.CharField(_("naam"), max_length=100)
    start = models.DateField(_("begindatum"))
    end = models.DateField(_("einddatum"), help_text=_("Deze dag telt mee."))
    generated_key = models.CharField(
        _("sleutel"),
        max_length=60,
        blank=True,
        default="",
        editable=False,
        help_text=_("Gezet als de periode door de standaardkalender is aangemaakt."),
    )

    class Meta:
        abstract = True
        ordering = ["start", "end"]

    def __str__(self) -> str:
        return f"{self.name} ({self.start:%d/%m/%Y}-{self.end:%d/%m/%Y})"

    def clean(self) -> None:
        super().clean()
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValidationError({"end": _("De einddatum mag niet voor de begindatum liggen.")})


def _date_range_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(start__lte=F("end")),
            name=f"{prefix}_start_not_after_end",
            violation_error_message=_("De einddatum mag niet voor de begindatum liggen."),
        ),
        models.UniqueConstraint(
            fields=["generated_key"],
            condition=~Q(generated_key=""),
            name=f"{prefix}_unique_generated_key",
        ),
    ]


class SchoolHoliday(NamedDateRange):
    """A school-holiday period: the school-holiday weekly hours apply."""

    class Meta(NamedDateRange.Meta):
        verbose_name = _("schoolvakantie")
        verbose_name_plural = _("schoolvakanties")
        constraints = _date_range_constraints("hours_schoolholiday")


class Closure(NamedDateRange):
    """A period the chat is closed (decreed or ad hoc); only extra openings still apply."""

    class Meta(NamedDateRange.Meta):
        verbose_name = _("sluiting")
        verbose_name_plural = _("sluitingen")
        constraints = _date_range_constraints("hours_closure")


class ExtraOpening(models.Model):
    """An extra opening on one date; it applies whatever else holds that day.

    It adds to the day's regular hours (overlapping periods are merged), e.g. an
    afternoon opening after a critical incident, during a holiday or closure.
    """

    date = models.DateField(_("datum"))
    opens = models.TimeField(_("opent om"))
    closes = models.TimeField(_("sluit om"))
    note = models.CharField(_("opmerking"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("extra opening")
        verbose_name_plural = _("extra openingen")
        ordering = ["date", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")),
                name="hours_extraopening_opens_before_closes",
                violation_error_message=_("Het openingsuur moet voor het sluitingsuur liggen."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": _("Het sluitingsuur moet na het openingsuur liggen.")})
