"""``onthaal calendar [--year 2026]``: generate the default school calendar."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from onthaal.hours import calendar_rules
from onthaal.hours.services import school_calendar_generate


class Command(BaseCommand):
    help = (
        "Maakt de standaard Vlaamse schoolvakanties en de vaste sluitingen aan voor een "
        "schooljaar (zonder --year: het huidige en het volgende). Bestaande periodes blijven "
        "ongemoeid."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--year",
            type=int,
            help="Beginjaar van het schooljaar, bv. 2026 voor 2026-2027.",
        )

    def handle(self, *args: Any, year: int | None = None, **options: Any) -> None:
        if year is None:
            today = datetime.now(calendar_rules.HELPLINE_TIMEZONE).date()
            current = calendar_rules.school_year_of(today)
            years = [current, current + 1]
        else:
            years = [year]
        for school_year in years:
            try:
                created = school_calendar_generate(school_year=school_year)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                _("Schooljaar %(start)d-%(end)d: %(count)d periode(s) aangemaakt.")
                % {"start": school_year, "end": school_year + 1, "count": created}
            )
