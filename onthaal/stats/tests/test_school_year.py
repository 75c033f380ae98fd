"""School years: 1 September – 31 August, named by the year they start in."""

from __future__ import annotations

from datetime import date

import pytest

from onthaal.errors import InvalidInput
from onthaal.stats.figures import (
    school_year_dates,
    school_year_filters,
    school_year_label,
    school_year_of,
    school_year_parse,
)


@pytest.mark.parametrize("value", [2024, "2024", "2024-2025", "2024–2025", " 2024/2025 "])
def test_parse_accepts_a_year_or_a_label(value: object) -> None:
    assert school_year_parse(value) == 2024  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["2024-2026", "24-25", "abc", "", "1999", "2024-", "20245"])
def test_parse_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        school_year_parse(value)
    assert error.value.code == "invalid_school_year"


def test_label_dates_and_membership() -> None:
    assert school_year_label(2024) == "2024-2025"
    assert school_year_dates(2024) == (date(2024, 9, 1), date(2025, 8, 31))
    assert school_year_of(date(2024, 8, 31)) == 2023
    assert school_year_of(date(2024, 9, 1)) == 2024
    filters = school_year_filters(2024, audience="pupil")
    assert (filters.start, filters.end, filters.audience) == (
        date(2024, 9, 1),
        date(2025, 8, 31),
        "pupil",
    )
