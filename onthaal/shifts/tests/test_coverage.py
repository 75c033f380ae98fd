"""Coverage: blocks under their minimum or without a doctor or nurse are flagged;
``scheduled_now`` says who is on a block at a moment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from conftest import make_staff
from onthaal.hours.models import ExtraOpening
from onthaal.shifts import services
from onthaal.shifts.models import ShiftBlock
from onthaal.shifts.selectors import coverage_for, coverage_in_range, scheduled_now
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import Discipline, User

pytestmark = pytest.mark.django_db


def staff(n: int, discipline: str = Discipline.SOCIAL_WORKER) -> list[User]:
    return [make_staff(pseudonym=f"{discipline[:4]}{i}", discipline=discipline) for i in range(n)]


def plan(coordinator: User, day: date, start: str, end: str, **kwargs: object) -> ShiftBlock:
    return services.shift_block_create(
        starts_at=at(day, start), ends_at=at(day, end), created_by=coordinator, **kwargs
    )


def sign_up(block: ShiftBlock, users: list[User]) -> None:
    for user in users:
        services.shift_signup_create(block_id=block.pk, operator=user)


def test_a_block_without_a_medical_operator_is_flagged(
    coordinator: User, open_sunday: date
) -> None:
    block = plan(coordinator, open_sunday, "17:00", "19:30")
    sign_up(block, staff(4) + staff(1, Discipline.PSYCHO_PEDAGOGUE))
    coverage = coverage_for(block)
    assert coverage.count == 5
    assert coverage.medical_count == 0
    assert coverage.flags == ["missing_medical"]
    assert not coverage.ok


def test_a_block_under_its_minimum_is_flagged(coordinator: User, open_sunday: date) -> None:
    block = plan(coordinator, open_sunday, "17:00", "19:30")
    sign_up(block, staff(2) + staff(1, Discipline.NURSE))
    coverage = coverage_for(block)
    assert coverage.flags == ["understaffed"]
    assert coverage.medical_count == 1


def test_a_covered_block_is_ok(coordinator: User, open_sunday: date) -> None:
    block = plan(coordinator, open_sunday, "17:00", "19:30")
    sign_up(block, staff(3) + staff(1, Discipline.DOCTOR))
    assert coverage_for(block).ok


def test_no_medical_needed_no_medical_flag(coordinator: User, open_sunday: date) -> None:
    block = plan(
        coordinator, open_sunday, "17:00", "19:30", min_operators=2, medical_required=False
    )
    sign_up(block, staff(2))
    assert coverage_for(block).ok


def test_a_block_whose_day_closed_later_is_flagged(coordinator: User, open_sunday: date) -> None:
    # The day was open when the block was planned; then the extra opening
    # that made it open was cancelled.
    block = plan(coordinator, open_sunday, "17:00", "19:30")
    assert "outside_opening_hours" not in coverage_for(block).flags
    ExtraOpening.objects.filter(date=open_sunday).delete()
    assert "outside_opening_hours" in coverage_for(block).flags


def test_coverage_list_flags_every_block_in_one_call(
    coordinator_client: Client,
    coordinator: User,
    open_sunday: date,
    django_assert_max_num_queries: object,
) -> None:
    ok = plan(coordinator, open_sunday, "17:00", "19:30", min_operators=2)
    sign_up(ok, staff(1) + staff(1, Discipline.NURSE))
    plan(coordinator, open_sunday, "18:30", "21:00")
    with django_assert_max_num_queries(9):  # type: ignore[operator]
        body = coordinator_client.get(
            "/api/v1/shifts/blocks",
            {"start": open_sunday.isoformat(), "end": open_sunday.isoformat()},
        ).json()
    assert [(b["flags"], b["ok"]) for b in body["blocks"]] == [
        ([], True),
        (["understaffed", "missing_medical"], False),
    ]
    assert [o["discipline"] for o in body["blocks"][0]["operators"]] == ["nurse", "social_worker"]
    assert coverage_in_range(start=open_sunday, end=open_sunday - timedelta(days=1)) == []


def test_scheduled_now(coordinator: User, open_sunday: date) -> None:
    early = plan(coordinator, open_sunday, "17:00", "19:30")
    late = plan(coordinator, open_sunday, "18:30", "21:00")
    anna, bert, cas = (make_staff(pseudonym=name) for name in ("Anna", "Bert", "Cas"))
    sign_up(early, [anna, cas])
    sign_up(late, [bert, cas])

    def names(clock: str) -> list[str]:
        return [user.pseudonym for user in scheduled_now(at(open_sunday, clock))]

    assert names("16:59") == []
    assert names("17:00") == ["Anna", "Cas"]
    assert names("18:45") == ["Anna", "Bert", "Cas"]  # Cas once
    assert names("19:30") == ["Bert", "Cas"]  # a block ends before its end time
    assert names("21:00") == []
