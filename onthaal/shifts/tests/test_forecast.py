"""Staffing from demand: chats per hour forecast from the same weekday and hour
in past weeks, and the operators Erlang C says are needed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client

from onthaal.chat import services as chat_services
from onthaal.chat.models import EndReason
from onthaal.hours.services import extra_opening_create
from onthaal.shifts import services
from onthaal.shifts.selectors import staffing_forecast
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, noon: "now" for the hand-built history below.
NOW = at(date(2026, 11, 23), "12:00")
TARGET_SUNDAY = date(2026, 11, 29)


def open_day(day: date) -> None:
    extra_opening_create(date=day, opens=time(17), closes=time(21), note="tests")


@pytest.fixture
def history(make_conversation: Any, operator: User, settings: Any) -> None:
    """Past Sundays (and one Saturday) with a known number of chats.

    | Sunday | open | chats queued at 17:xx | at 18:xx |
    |---|---|---|---|
    | 22 Nov | yes | 4 held | 1 missed |
    | 15 Nov | yes | 2 held | 0 |
    |  8 Nov | no  | – | – |
    |  1 Nov | yes | 0 | 2 held |
    | earlier | no | – | – |

    Saturday 21 November, open, has 3 chats at 18:xx: another weekday, so
    they do not count. Every held chat lasts 30 minutes.
    """
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1

    def held(moment: datetime) -> None:
        conversation, _token = make_conversation(now=moment)
        chat_services.conversation_accept(
            conversation_id=conversation.pk, operator=operator, now=moment
        )
        chat_services.conversation_end(
            conversation=conversation,
            reason=EndReason.OPERATOR_ENDED,
            actor=operator,
            now=moment + timedelta(minutes=30),
        )

    def missed(moment: datetime) -> None:
        conversation, _token = make_conversation(now=moment)
        chat_services.conversation_end(
            conversation=conversation,
            reason=EndReason.VISITOR_ENDED,  # left the queue: counted as missed
            now=moment + timedelta(minutes=3),
        )

    for day in (date(2026, 11, 22), date(2026, 11, 15), date(2026, 11, 1), date(2026, 11, 21)):
        open_day(day)
    for clock in ("17:00", "17:10", "17:35", "17:59"):
        held(at(date(2026, 11, 22), clock))
    missed(at(date(2026, 11, 22), "18:10"))
    for clock in ("17:05", "17:40"):
        held(at(date(2026, 11, 15), clock))
    for clock in ("18:00", "18:45"):
        held(at(date(2026, 11, 1), clock))
    for clock in ("18:00", "18:20", "18:40"):
        held(at(date(2026, 11, 21), clock))


@pytest.fixture
def target_block(coordinator: User, operator: User) -> Any:
    open_day(TARGET_SUNDAY)
    block = services.shift_block_create(
        starts_at=at(TARGET_SUNDAY, "17:00"),
        ends_at=at(TARGET_SUNDAY, "19:30"),
        min_operators=2,
        created_by=coordinator,
        now=NOW,
    )
    services.shift_signup_create(block_id=block.pk, operator=operator, now=NOW)
    return block


def test_forecast_from_a_hand_built_history(
    history: None, target_block: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(14):
        result = staffing_forecast(
            start=TARGET_SUNDAY, end=TARGET_SUNDAY, target_wait_seconds=180, now=NOW
        )
    assert result.mean_chat_minutes == pytest.approx(30)
    assert result.chat_length_sample == 11  # held chats (the Saturday's too); not the missed one
    assert result.chats_per_operator == 1
    (block,) = result.blocks
    hours = [(h.starts_at.hour, h.arrivals_per_hour, h.weeks) for h in block.hours]
    # 17:xx: (4 + 2 + 0) / 3 open weeks; 18:xx: (1 + 0 + 2) / 3; 19:xx: none.
    assert hours == [(17, 2.0, 3), (18, 1.0, 3), (19, 0.0, 3)]
    # Erlang C, one chat per operator, 30-minute chats (μ = 2/h), target 3 min:
    # 17:xx λ = 2, A = 1: 2 operators wait 10 min (C = 1/3, W = (1/3)/(4 - 2) h);
    #   3 operators 1.36 min (C = 1/11, W = (1/11)/(6 - 2) h). So 3.
    # 18:xx λ = 1, A = 0.5: 1 operator waits 30 min; 2 operators 2 min
    #   (C = 0.1, W = 0.1/(4 - 1) h). So 2.
    assert [h.operators_needed for h in block.hours] == [3, 2, 0]
    assert block.operators_needed == 3
    assert block.recommended == 3  # above the block's minimum of 2
    assert block.coverage.count == 1
    assert block.shortfall == 2


def test_a_looser_target_needs_fewer_operators(history: None, target_block: Any) -> None:
    # Target 15 minutes: 2 operators (10 min) do at 17:xx, and at 18:xx one
    # operator waits 30 min, so 2 there as well.
    result = staffing_forecast(
        start=TARGET_SUNDAY, end=TARGET_SUNDAY, target_wait_seconds=900, now=NOW
    )
    (block,) = result.blocks
    assert [h.operators_needed for h in block.hours] == [2, 2, 0]
    assert (block.recommended, block.shortfall) == (2, 1)


def test_the_mean_is_over_the_last_eight_open_weeks(
    make_conversation: Any, coordinator: User
) -> None:
    # Nine open Sundays before NOW: one chat at 17:xx on each of the last
    # eight, nine chats on the ninth (oldest), which falls outside the mean.
    for weeks_ago in range(1, 10):
        day = date(2026, 11, 22) - timedelta(weeks=weeks_ago - 1)
        open_day(day)
        for minute in range(9 if weeks_ago == 9 else 1):
            conversation, _token = make_conversation(now=at(day, f"17:{minute:02d}"))
            chat_services.conversation_end(
                conversation=conversation,
                reason=EndReason.CLOSED,
                now=at(day, "21:00"),
            )
    open_day(TARGET_SUNDAY)
    services.shift_block_create(
        starts_at=at(TARGET_SUNDAY, "17:00"),
        ends_at=at(TARGET_SUNDAY, "19:30"),
        created_by=coordinator,
        now=NOW,
    )
    result = staffing_forecast(start=TARGET_SUNDAY, end=TARGET_SUNDAY, now=NOW)
    first_hour = result.blocks[0].hours[0]
    assert (first_hour.arrivals_per_hour, first_hour.weeks) == (1.0, 8)
    # Nobody was ever held: the default chat length.
    assert (result.mean_chat_minutes, result.chat_length_sample) == (20.0, 0)


def test_without_history_nothing_is_needed_beyond_the_minimum(target_block: Any) -> None:
    result = staffing_forecast(start=TARGET_SUNDAY, end=TARGET_SUNDAY, now=NOW)
    (block,) = result.blocks
    assert [(h.arrivals_per_hour, h.weeks, h.operators_needed) for h in block.hours] == [
        (0.0, 0, 0)
    ] * 3
    assert block.operators_needed == 0
    assert block.recommended == 2  # the block's minimum


def test_ended_blocks_are_not_forecast(target_block: Any) -> None:
    after = at(TARGET_SUNDAY, "19:30")
    assert staffing_forecast(start=TARGET_SUNDAY, end=TARGET_SUNDAY, now=after).blocks == []


def test_forecast_api(
    coordinator_client: Client, analyst_client: Client, coordinator: User, open_sunday: date
) -> None:
    block = services.shift_block_create(
        starts_at=at(open_sunday, "17:00"), ends_at=at(open_sunday, "19:30"), created_by=coordinator
    )
    query = {"start": open_sunday.isoformat(), "end": open_sunday.isoformat()}
    body = coordinator_client.get(
        "/api/v1/shifts/forecast", {**query, "target_wait_seconds": 60}
    ).json()
    assert body["target_wait_seconds"] == 60
    assert body["mean_chat_minutes"] == 20.0
    (item,) = body["blocks"]
    assert item["id"] == block.pk
    assert (item["operators_needed"], item["recommended"], item["shortfall"]) == (0, 4, 4)
    assert [h["starts_at"] for h in item["hours"]] == [
        at(open_sunday, clock).isoformat() for clock in ("17:00", "18:00", "19:00")
    ]
    assert item["operators"] == []

    analyst_view = analyst_client.get("/api/v1/shifts/forecast", query).json()
    assert "operators" not in analyst_view["blocks"][0]

    for bad in (0, 3601, "x"):
        response = coordinator_client.get(
            "/api/v1/shifts/forecast", {**query, "target_wait_seconds": bad}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
    reversed_range = coordinator_client.get(
        "/api/v1/shifts/forecast",
        {"start": open_sunday.isoformat(), "end": (open_sunday - timedelta(days=1)).isoformat()},
    )
    assert reversed_range.json()["code"] == "invalid_range"
