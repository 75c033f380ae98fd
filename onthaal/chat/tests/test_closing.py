"""Closing time: no new chats in the last minutes, and who still waits at closing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from onthaal.chat import services
from onthaal.chat.closing import intake_status
from onthaal.chat.models import ConversationEvent, EndReason
from onthaal.chat.tests.test_consumers import receive_type, sync, visitor_socket
from onthaal.errors import Conflict
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.services import closure_create, extra_opening_create

pytestmark = pytest.mark.django_db

CLOSES = timedelta(hours=3)  # school_tuesday_evening is 18:00; the chat closes at 21:00


def test_no_new_chat_in_the_last_minutes_before_closing(
    make_conversation, school_tuesday_evening, settings
) -> None:
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 10
    t = school_tuesday_evening

    make_conversation(now=t + CLOSES - timedelta(minutes=10, seconds=1))
    with pytest.raises(Conflict) as refused:
        make_conversation(now=t + CLOSES - timedelta(minutes=10))

    assert refused.value.code == "chat_closing"
    # Tuesday 6 October 2026 closes at 21:00; Wednesday is open from 14:00.
    assert refused.value.message == (
        "De chat sluit om 21:00 en start geen nieuwe gesprekken meer. "
        "We zijn er weer op woensdag 7 oktober om 14:00."
    )
    assert refused.value.details == {
        "closes_at": "2026-10-06T21:00:00+02:00",
        "next_opening": "2026-10-07T14:00:00+02:00",
    }


def test_the_cut_off_follows_the_setting(
    make_conversation, school_tuesday_evening, settings
) -> None:
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 0
    make_conversation(now=school_tuesday_evening + CLOSES - timedelta(seconds=1))

    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 30
    status = intake_status(at=school_tuesday_evening + CLOSES - timedelta(minutes=20))
    assert (status.is_open, status.accepting) == (True, False)
    assert status.intake_closes_at == school_tuesday_evening + CLOSES - timedelta(minutes=30)


def test_after_closing_the_refusal_stays_chat_closed(
    make_conversation, school_tuesday_evening
) -> None:
    with pytest.raises(Conflict) as refused:
        make_conversation(now=school_tuesday_evening + CLOSES)
    assert refused.value.code == "chat_closed"


def test_a_visitor_still_waiting_at_closing_time_is_closed_and_told(
    make_conversation, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    waiting, _ = make_conversation(now=t + timedelta(hours=2))
    services.conversation_visitor_seen(conversation_id=waiting.pk, now=t + CLOSES)

    assert services.conversations_sweep(now=t + CLOSES) == 1

    waiting.refresh_from_db()
    assert (waiting.end_reason, waiting.ended_at, waiting.accepted_at) == (
        EndReason.CLOSED,
        t + CLOSES,
        None,
    )
    event = ConversationEvent.objects.get(conversation=waiting, kind="ended")
    assert event.data == {"reason": "closed", "waited_seconds": 3600}


# --- the same over HTTP and the websocket, at the real time -------------------------------


@pytest.fixture
def closing_in_five_minutes(db: None) -> datetime:
    """Today the chat is open from midnight until five minutes from now (and
    not by the regular hours). Returns the closing time."""
    now = timezone.now().astimezone(HELPLINE_TIMEZONE)
    closes = (now + timedelta(minutes=5)).replace(second=0, microsecond=0)
    if closes.date() != now.date():
        pytest.skip("too close to midnight for a same-day opening")
    closure_create(name="test", start=now.date(), end=now.date())
    extra_opening_create(date=now.date(), opens=time(0, 0), closes=closes.time(), note="test")
    return closes


def test_the_api_refuses_a_new_chat_in_the_cut_off_and_says_so(
    client, closing_in_five_minutes, settings
) -> None:
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 10

    response = client.post("/api/v1/conversations", {}, content_type="application/json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "chat_closing"
    assert body["message"].startswith(
        f"De chat sluit om {closing_in_five_minutes:%H:%M} en start geen nieuwe gesprekken meer."
    )
    status = client.get("/api/v1/status").json()
    assert (status["open"], status["accepting"]) == (True, False)
    assert datetime.fromisoformat(status["closes_at"]) == closing_in_five_minutes
    assert datetime.fromisoformat(status["intake_closes_at"]) == (
        closing_in_five_minutes - timedelta(minutes=10)
    )


def test_the_visitor_page_shows_the_closing_notice_instead_of_the_intake(
    client, closing_in_five_minutes, settings
) -> None:
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 10

    page = client.get("/").content.decode()

    assert '<section id="view-closed" class="card" aria-labelledby="closed-title">' in page
    assert "De chat start geen nieuwe gesprekken meer" in page
    assert f"De chat sluit om {closing_in_five_minutes:%H:%M}." in page
    assert 'id="view-intake" class="card" aria-labelledby="intake-title" hidden' in page


def test_the_visitor_page_shows_the_intake_before_the_cut_off(
    client, closing_in_five_minutes, settings
) -> None:
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 1

    page = client.get("/").content.decode()

    assert '<section id="view-intake" class="card" aria-labelledby="intake-title">' in page


@pytest.mark.django_db(transaction=True)
async def test_a_waiting_visitor_hears_at_closing_time_that_the_chat_closed(
    make_conversation, school_tuesday_evening
):
    t = school_tuesday_evening
    waiting, token = await sync(make_conversation)(now=t + timedelta(hours=2))
    socket, _welcome = await visitor_socket(waiting, token)  # seen now: not gone

    assert await sync(services.conversations_sweep)(now=t + CLOSES) == 1

    frame = await receive_type(socket, "conversation")
    assert frame["conversation"]["status"] == "ended"
    assert frame["conversation"]["end_reason"] == "closed"
    assert frame["conversation"]["accepted_at"] is None
    await socket.disconnect()
