"""Coordinators plan blocks: 2.5–3 h, inside the opening hours, never on a closed day."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.test import Client

from onthaal.errors import Conflict
from onthaal.hours.services import extra_opening_create
from onthaal.shifts import services
from onthaal.shifts.models import ShiftBlock
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/shifts/blocks"


def create(client: Client, day: date, start: str, end: str, **extra: Any) -> Any:
    return client.post(
        URL,
        {
            "starts_at": at(day, start).isoformat(),
            "ends_at": at(day, end).isoformat(),
            **extra,
        },
        content_type="application/json",
    )


def test_a_coordinator_plans_a_block_with_defaults(
    coordinator_client: Client, open_sunday: date
) -> None:
    response = create(coordinator_client, open_sunday, "17:00", "19:30")
    assert response.status_code == 201, response.json()
    block = response.json()["block"]
    assert block["min_operators"] == 4
    assert block["medical_required"] is True
    assert block["starts_at"] == at(open_sunday, "17:00").isoformat()
    assert block["signed_up"] == 0
    assert block["flags"] == ["understaffed", "missing_medical"]
    assert ShiftBlock.objects.count() == 1


def test_a_block_may_ask_for_its_own_minimum_and_no_medical(
    coordinator_client: Client, open_sunday: date
) -> None:
    response = create(
        coordinator_client, open_sunday, "18:00", "21:00", min_operators=2, medical_required=False
    )
    assert response.status_code == 201
    block = response.json()["block"]
    assert (block["min_operators"], block["medical_required"]) == (2, False)
    assert block["flags"] == ["understaffed"]


@pytest.mark.parametrize(
    ("start", "end"), [("17:00", "19:00"), ("17:00", "20:30"), ("17:00", "21:00")]
)
def test_a_block_lasts_two_and_a_half_to_three_hours(
    coordinator_client: Client, open_sunday: date, start: str, end: str
) -> None:
    response = create(coordinator_client, open_sunday, start, end)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_block_length"


@pytest.mark.parametrize(
    ("start", "end"), [("16:00", "18:30"), ("18:45", "21:15"), ("21:00", "23:30")]
)
def test_a_block_lies_inside_the_opening_hours(
    coordinator_client: Client, open_sunday: date, start: str, end: str
) -> None:
    response = create(coordinator_client, open_sunday, start, end)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "outside_opening_hours"
    assert body["details"]["periods"] == [
        {
            "opens": at(open_sunday, "17:00").isoformat(),
            "closes": at(open_sunday, "21:00").isoformat(),
        }
    ]


def test_a_block_cannot_span_two_opening_periods(
    coordinator_client: Client, open_sunday: date
) -> None:
    # A second period the same day, 11:00–14:00: a block 12:00–14:30 would
    # cover the closed gap after 14:00.
    extra_opening_create(date=open_sunday, opens=time(11), closes=time(14))
    assert create(coordinator_client, open_sunday, "11:00", "14:00").status_code == 201
    response = create(coordinator_client, open_sunday, "12:00", "14:30")
    assert response.json()["code"] == "outside_opening_hours"


def test_a_block_on_a_closed_day_is_refused(coordinator_client: Client, open_sunday: date) -> None:
    response = create(coordinator_client, open_sunday + timedelta(days=7), "17:00", "19:30")
    assert response.status_code == 409
    assert response.json()["code"] == "day_closed"


def test_a_block_on_a_public_holiday_cannot_exist(
    coordinator_client: Client, future_public_holiday: date
) -> None:
    # Mondays to Thursdays have weekly hours (17:00–21:00 on school days,
    # 14:00–21:00 in holidays), so a week earlier the same block is fine...
    week_before = future_public_holiday - timedelta(days=7)
    assert create(coordinator_client, week_before, "18:00", "20:30").status_code == 201
    # ...but the public holiday closes the chat, and the block is refused.
    response = create(coordinator_client, future_public_holiday, "18:00", "20:30")
    assert response.status_code == 409
    assert response.json()["code"] == "day_closed"
    assert not ShiftBlock.objects.filter(starts_at=at(future_public_holiday, "18:00")).exists()


def test_a_block_that_started_cannot_be_planned(coordinator: User, open_sunday: date) -> None:
    with pytest.raises(Conflict) as caught:
        services.shift_block_create(
            starts_at=at(open_sunday, "17:00"),
            ends_at=at(open_sunday, "19:30"),
            created_by=coordinator,
            now=at(open_sunday, "17:00"),
        )
    assert caught.value.code == "block_started"


def test_the_same_block_twice_is_refused_but_overlap_is_allowed(
    coordinator_client: Client, open_sunday: date
) -> None:
    assert create(coordinator_client, open_sunday, "17:00", "19:30").status_code == 201
    again = create(coordinator_client, open_sunday, "17:00", "19:30")
    assert again.status_code == 409
    assert again.json()["code"] == "block_exists"
    # An overlapping block is a handover, not a mistake.
    assert create(coordinator_client, open_sunday, "18:30", "21:00").status_code == 201


def test_malformed_input(coordinator_client: Client, open_sunday: date) -> None:
    naive = coordinator_client.post(
        URL,
        {"starts_at": f"{open_sunday}T17:00:00", "ends_at": f"{open_sunday}T19:30:00"},
        content_type="application/json",
    )
    assert naive.status_code == 400
    assert naive.json()["code"] == "invalid"
    zero = create(coordinator_client, open_sunday, "17:00", "19:30", min_operators=0)
    assert zero.status_code == 400
    assert zero.json()["code"] == "invalid"
    missing = coordinator_client.post(URL, {}, content_type="application/json")
    assert missing.status_code == 400
    assert set(missing.json()["details"]["fields"]) == {"starts_at", "ends_at"}


def test_a_coordinator_deletes_a_future_block_with_its_signups(
    coordinator_client: Client, operator_client: Client, open_sunday: date
) -> None:
    block_id = create(coordinator_client, open_sunday, "17:00", "19:30").json()["block"]["id"]
    assert operator_client.post(f"{URL}/{block_id}/signup").status_code == 201
    response = coordinator_client.delete(f"{URL}/{block_id}")
    assert response.status_code == 204
    assert not ShiftBlock.objects.exists()
    assert coordinator_client.delete(f"{URL}/{block_id}").json()["code"] == "not_found"


def test_a_started_block_is_history_and_stays(coordinator: User, open_sunday: date) -> None:
    block = services.shift_block_create(
        starts_at=at(open_sunday, "17:00"),
        ends_at=at(open_sunday, "19:30"),
        created_by=coordinator,
        now=at(open_sunday - timedelta(days=1), "12:00"),
    )
    with pytest.raises(Conflict) as caught:
        services.shift_block_delete(
            block_id=block.pk, actor=coordinator, now=at(open_sunday, "18:00")
        )
    assert caught.value.code == "block_started"


# --- default blocks ---------------------------------------------------------------------


def test_generate_default_blocks_for_a_range(
    coordinator_client: Client, open_sunday: date, open_saturday_long: date
) -> None:
    response = coordinator_client.post(
        f"{URL}/generate",
        {"start": open_saturday_long.isoformat(), "end": open_sunday.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201
    created = [(b["starts_at"], b["ends_at"]) for b in response.json()["created"]]
    expected = [
        (open_saturday_long, "14:00", "16:30"),
        (open_saturday_long, "16:15", "18:45"),
        (open_saturday_long, "18:30", "21:00"),
        (open_sunday, "17:00", "19:30"),
        (open_sunday, "18:30", "21:00"),
    ]
    assert created == [(at(d, s).isoformat(), at(d, e).isoformat()) for d, s, e in expected]
    blocks = ShiftBlock.objects.all()
    assert {(b.min_operators, b.medical_required) for b in blocks} == {(4, True)}

    # Generating again creates nothing: each period already has blocks.
    again = coordinator_client.post(
        f"{URL}/generate",
        {"start": open_saturday_long.isoformat(), "end": open_sunday.isoformat()},
        content_type="application/json",
    ).json()
    assert again["created"] == []
    assert [item["reason"] for item in again["skipped"]] == ["already_planned"] * 2


def test_generate_leaves_a_planned_period_alone_and_skips_short_ones(
    coordinator_client: Client, open_sunday: date
) -> None:
    create(coordinator_client, open_sunday, "18:00", "21:00")
    short_day = open_sunday + timedelta(days=7)
    extra_opening_create(date=short_day, opens=time(19), closes=time(21))
    for day, reason in [(open_sunday, "already_planned"), (short_day, "too_short")]:
        body = coordinator_client.post(
            f"{URL}/generate",
            {"start": day.isoformat(), "end": day.isoformat(), "min_operators": 5},
            content_type="application/json",
        ).json()
        assert body["created"] == []
        assert [item["reason"] for item in body["skipped"]] == [reason]
    assert ShiftBlock.objects.count() == 1


def test_generate_refuses_a_reversed_range(coordinator_client: Client, open_sunday: date) -> None:
    response = coordinator_client.post(
        f"{URL}/generate",
        {"start": open_sunday.isoformat(), "end": (open_sunday - timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_range"
