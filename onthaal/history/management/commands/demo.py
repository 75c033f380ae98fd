"""``onthaal demo --year 2024-2025``: a made-up school year to try Onthaal with.

The work is done by :func:`onthaal.history.services.demo_year_generate` and
:func:`~onthaal.history.services.demo_remove`; docs/import.md says how the
year is calibrated.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onthaal.errors import ServiceError
from onthaal.history.services import demo_remove, demo_year_generate


def school_year_parse(text: str) -> int:
    """``2024-2025`` (or ``2024``) → 2024, the calendar year the school year starts in."""
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–/]\s*(\d{2}|\d{4}))?\s*", text)
    if not match:
        raise ValueError(f"'{text}' is not a school year such as 2024-2025")
    start = int(match[1])
    if match[2] is not None and int(match[2]) % 100 != (start + 1) % 100:
        raise ValueError(f"'{text}' is not a school year: the second year must follow the first")
    return start


class Command(BaseCommand):
    help = (
        "Fill the database with a made-up school year calibrated to CLBch@t's published "
        "figures (origin 'demo', operators demo-001 … demo-180), or remove all demo data "
        "with --remove."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", help="school year, e.g. 2024-2025")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed (default 0): same seed, same year"
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="volume factor (default 1: the 7,626 held chats of 2024-2025)",
        )
        parser.add_argument(
            "--remove",
            action="store_true",
            help="delete every demo conversation, registration, event and demo account",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["remove"]:
            removed = demo_remove()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Removed {removed.conversations} demo conversations, "
                    f"{removed.registrations} registrations, {removed.events} events and "
                    f"{removed.accounts} demo accounts."
                )
            )
            if removed.accounts_kept:
                self.stderr.write(
                    f"Kept {removed.accounts_kept} demo account(s) that other rows still use."
                )
            return
        if not options["year"]:
            raise CommandError("give --year (e.g. --year 2024-2025), or --remove")
        try:
            school_year = school_year_parse(options["year"])
            result = demo_year_generate(
                school_year=school_year, seed=options["seed"], scale=options["scale"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"School year {result.school_year}-{result.school_year + 1}: "
                f"{result.conversations} demo conversations ({result.held} held, "
                f"{result.missed} missed), {result.registrations} registrations; "
                f"{result.operators_created} demo operator accounts created."
            )
        )
