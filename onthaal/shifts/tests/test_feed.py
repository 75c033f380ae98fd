"""Each operator's iCalendar feed, opened by a secret token alone."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from onthaal.hours.services import extra_opening_create
from onthaal.shifts import services
from onthaal.shifts.models import CalendarFeed, ShiftBlock
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocks(coordinator: User, open_sunday: date) -> list[ShiftBlock]:
    return [
        services.shift_block_create(
            starts_at=at(open_sunday, start), ends_at=at(open_sunday, end), created_by=coordinator
        )
        for start, end in [("17:00", "19:30"), ("18:30", "21:00")]
    ]


def feed_url(client: Client) -> str:
    response = client.post("/api/v1/shifts/feed")
    assert response.status_code == 201
    url: str = response.json()["url"]
    assert url.startswith("http://testserver/diensten/agenda/")
    assert url.endswith(".ics")
    return url.removeprefix("http://testserver")


def events(response: Any) -> list[Any]:
    calendar = Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_the_feed_lists_my_shifts_and_nothing_else(
    operator_client: Client,
    operator: User,
    other_operator: User,
    blocks: list[ShiftBlock],
    chat_open: Any,
    make_ended_conversation: Any,
) -> None:
    services.shift_signup_create(block_id=blocks[0].pk, operator=operator)
    services.shift_signup_create(block_id=blocks[1].pk, operator=other_operator)
    make_ended_conversation(operator)  # visitor data exists; the feed must not show it
    path = feed_url(operator_client)

    response = Client().get(path)  # a calendar app: no session
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert response.content.endswith(b"END:VCALENDAR\r\n")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Onthaal//Diensten//NL"

    (event,) = events(response)
    assert event.decoded("DTSTART") == blocks[0].starts_at.astimezone(UTC)
    assert event.decoded("DTEND") == blocks[0].ends_at.astimezone(UTC)
    assert str(event["UID"]) == f"shift-{blocks[0].pk}-{operator.pk}@testserver"
    assert str(event["SUMMARY"]) == "Dienst CLBch@t"
    # Only the block's own facts: no visitor, no colleague.
    assert set(event.keys()) == {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "URL", "TRANSP"}
    text = response.content.decode()
    for secret in ("Jonas", "smartschool", "pupil", "Lotte"):
        assert secret not in text


def test_an_empty_feed_is_still_a_calendar(operator_client: Client, db: None) -> None:
    response = Client().get(feed_url(operator_client))
    assert response.status_code == 200
    assert events(response) == []


def test_a_withdrawn_shift_leaves_the_feed(
    operator_client: Client, operator: User, blocks: list[ShiftBlock]
) -> None:
    services.shift_signup_create(block_id=blocks[0].pk, operator=operator)
    path = feed_url(operator_client)
    assert len(events(Client().get(path))) == 1
    services.shift_signup_withdraw(block_id=blocks[0].pk, operator=operator)
    assert events(Client().get(path)) == []


def test_a_wrong_token_is_not_found(operator_client: Client, db: None) -> None:
    path = feed_url(operator_client)
    wrong = path.replace("/agenda/", "/agenda/x")
    assert Client().get(wrong).status_code == 404
    assert Client().get("/diensten/agenda/.ics").status_code == 404
    assert Client().get("/diensten/agenda/").status_code == 404


def test_only_the_hash_of_the_token_is_stored(operator_client: Client, operator: User) -> None:
    path = feed_url(operator_client)
    token = path.removeprefix("/diensten/agenda/").removesuffix(".ics")
    stored = CalendarFeed.objects.get(operator=operator).token_hash
    assert token not in stored
    assert len(stored) == 64


def test_regenerating_revokes_the_old_address(operator_client: Client, db: None) -> None:
    old = feed_url(operator_client)
    new = feed_url(operator_client)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


def test_a_revoked_feed_is_gone(operator_client: Client, db: None) -> None:
    path = feed_url(operator_client)
    assert operator_client.get("/api/v1/shifts/mine").json()["calendar_feed"] is True
    assert operator_client.delete("/api/v1/shifts/feed").status_code == 204
    assert Client().get(path).status_code == 404
    assert operator_client.get("/api/v1/shifts/mine").json()["calendar_feed"] is False


def test_a_deactivated_account_has_no_feed(operator_client: Client, operator: User) -> None:
    path = feed_url(operator_client)
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    assert Client().get(path).status_code == 404


def test_the_feed_keeps_past_shifts_for_90_days(
    operator: User, coordinator: User, open_sunday: date, operator_client: Client
) -> None:
    planned = []
    for weeks_ago in (2, 15):  # 1–7 days ago, and about 100 days ago
        day = open_sunday - timedelta(weeks=weeks_ago)
        extra_opening_create(date=day, opens=time(17), closes=time(21))
        block = services.shift_block_create(
            starts_at=at(day, "17:00"),
            ends_at=at(day, "19:30"),
            created_by=coordinator,
            now=at(day, "12:00"),
        )
        services.shift_signup_create(block_id=block.pk, operator=operator, now=at(day, "12:00"))
        planned.append(block)
    (event,) = events(Client().get(feed_url(operator_client)))
    assert event.decoded("DTSTART") == planned[0].starts_at.astimezone(UTC)


def test_an_analyst_has_no_feed(analyst_client: Client) -> None:
    response = analyst_client.post("/api/v1/shifts/feed")
    assert response.status_code == 403
    assert response.json()["code"] == "role_cannot_chat"
