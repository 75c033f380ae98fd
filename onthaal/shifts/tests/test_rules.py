"""The default split of an opening period into blocks of 2.5–3 hours."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from onthaal.shifts.rules import MAX_BLOCK, MIN_BLOCK, block_length_ok, split_period
from onthaal.shifts.tests.conftest import at

DAY = date(2026, 12, 2)


def clocks(blocks: list[tuple[datetime, datetime]]) -> list[str]:
    return [f"{start:%H:%M}–{end:%H:%M}" for start, end in blocks]


@pytest.mark.parametrize(
    ("opens", "closes", "expected"),
    [
        # A school evening: two blocks with an hour of overlap (handover).
        ("17:00", "21:00", ["17:00–19:30", "18:30–21:00"]),
        # A Wednesday or a holiday: three blocks, overlaps of 15 minutes.
        ("14:00", "21:00", ["14:00–16:30", "16:15–18:45", "18:30–21:00"]),
        # Periods that split exactly.
        ("17:00", "20:00", ["17:00–20:00"]),
        ("15:00", "21:00", ["15:00–18:00", "18:00–21:00"]),
        ("15:30", "21:00", ["15:30–18:15", "18:15–21:00"]),
        ("18:30", "21:00", ["18:30–21:00"]),
    ],
)
def test_split_period(opens: str, closes: str, expected: list[str]) -> None:
    blocks = split_period(opens=at(DAY, opens), closes=at(DAY, closes))
    assert clocks(blocks) == expected
    assert all(MIN_BLOCK <= end - start <= MAX_BLOCK for start, end in blocks)
    assert blocks[0][0] == at(DAY, opens)
    assert blocks[-1][1] == at(DAY, closes)
    # Covered without a gap.
    assert all(later[0] <= earlier[1] for earlier, later in itertools.pairwise(blocks))


def test_a_period_under_two_and_a_half_hours_gets_no_block() -> None:
    assert split_period(opens=at(DAY, "19:00"), closes=at(DAY, "21:00")) == []


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("17:00", "19:30", True),
        ("17:00", "20:00", True),
        ("17:00", "19:29", False),
        ("17:00", "20:01", False),
        ("17:00", "21:00", False),
    ],
)
def test_block_length(start: str, end: str, ok: bool) -> None:
    assert block_length_ok(starts_at=at(DAY, start), ends_at=at(DAY, end)) is ok
