from __future__ import annotations

import pytest

from onthaal.hours.services import school_calendar_generate, weekly_hours_seed_defaults


@pytest.fixture
def hours_calendar(db: None) -> None:
    """The default weekly hours and the default calendars of 2025-26 to 2027-28.

    The data migration seeds the weekly hours and the calendar around the day it
    runs; both services are idempotent, so this only fills what the tests need
    and what a transactional test may have flushed.
    """
    weekly_hours_seed_defaults()
    for school_year in (2025, 2026, 2027):
        school_calendar_generate(school_year=school_year)
