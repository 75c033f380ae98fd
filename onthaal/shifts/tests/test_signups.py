"""Operators sign up for blocks and withdraw, before the block starts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from onthaal.errors import Conflict
from onthaal.shifts import services
from onthaal.shifts.models import ShiftBlock, ShiftSignup
from onthaal.shifts.selectors import operator_shifts
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/shifts/blocks"


@pytest.fixture
def block(coordinator: User, open_sunday: date) -> ShiftBlock:
    return services.shift_block_create(
        starts_at=at(open_sunday, "17:00"), ends_at=at(open_sunday, "19:30"), created_by=coordinator
    )


def test_an_operator_signs_up_and_withdraws(
    operator_client: Client, operator: User, block: ShiftBlock
) -> None:
    response = operator_client.post(f"{URL}/{block.pk}/signup")
    assert response.status_code == 201
    body = response.json()["block"]
    assert (body["signed_up"], body["you_signed_up"]) == (1, True)
    assert "operators" not in body  # names are for coordinators
    assert ShiftSignup.objects.filter(block=block, operator=operator).exists()

    mine = operator_client.get("/api/v1/shifts/mine").json()
    assert [shift["id"] for shift in mine["shifts"]] == [block.pk]

    response = operator_client.delete(f"{URL}/{block.pk}/signup")
    assert response.status_code == 200
    assert response.json()["block"]["signed_up"] == 0
    assert operator_client.get("/api/v1/shifts/mine").json()["shifts"] == []


def test_no_double_signup(operator_client: Client, block: ShiftBlock) -> None:
    assert operator_client.post(f"{URL}/{block.pk}/signup").status_code == 201
    again = operator_client.post(f"{URL}/{block.pk}/signup")
    assert again.status_code == 409
    assert again.json()["code"] == "already_signed_up"
    assert ShiftSignup.objects.count() == 1


def test_withdrawing_without_a_signup(operator_client: Client, block: ShiftBlock) -> None:
    response = operator_client.delete(f"{URL}/{block.pk}/signup")
    assert response.status_code == 409
    assert response.json()["code"] == "not_signed_up"


def test_unknown_block(operator_client: Client, db: None) -> None:
    assert operator_client.post(f"{URL}/999999/signup").json()["code"] == "not_found"
    assert operator_client.delete(f"{URL}/999999/signup").status_code == 404


def test_no_signup_or_withdrawal_once_the_block_started(operator: User, block: ShiftBlock) -> None:
    before = block.starts_at - timedelta(minutes=1)
    services.shift_signup_create(block_id=block.pk, operator=operator, now=before)
    with pytest.raises(Conflict) as caught:
        services.shift_signup_withdraw(block_id=block.pk, operator=operator, now=block.starts_at)
    assert caught.value.code == "block_started"
    assert ShiftSignup.objects.filter(operator=operator).exists()

    late = User.objects.create(username="late", pseudonym="Laat")
    with pytest.raises(Conflict) as caught:
        services.shift_signup_create(
            block_id=block.pk, operator=late, now=block.starts_at + timedelta(minutes=5)
        )
    assert caught.value.code == "block_started"


def test_an_analyst_cannot_sign_up(analyst_client: Client, block: ShiftBlock) -> None:
    response = analyst_client.post(f"{URL}/{block.pk}/signup")
    assert response.status_code == 403
    assert response.json()["code"] == "role_cannot_chat"
    assert not ShiftSignup.objects.exists()


def test_a_coordinator_may_sign_up_too(coordinator_client: Client, block: ShiftBlock) -> None:
    response = coordinator_client.post(f"{URL}/{block.pk}/signup")
    assert response.status_code == 201
    assert [o["pseudonym"] for o in response.json()["block"]["operators"]] == ["Coördinator"]


def test_mine_lists_only_my_blocks_that_have_not_ended(
    operator: User, other_operator: User, coordinator: User, open_sunday: date
) -> None:
    first = services.shift_block_create(
        starts_at=at(open_sunday, "17:00"), ends_at=at(open_sunday, "19:30"), created_by=coordinator
    )
    second = services.shift_block_create(
        starts_at=at(open_sunday, "18:30"), ends_at=at(open_sunday, "21:00"), created_by=coordinator
    )
    services.shift_signup_create(block_id=first.pk, operator=operator)
    services.shift_signup_create(block_id=second.pk, operator=other_operator)
    assert operator_shifts(operator=operator, since=at(open_sunday, "12:00")) == [first]
    assert operator_shifts(operator=operator, since=at(open_sunday, "19:30")) == []
