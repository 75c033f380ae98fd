"""The queue as operators and visitors see it: order, position, wait estimate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onthaal.chat import services
from onthaal.staff.models import Availability

pytestmark = pytest.mark.django_db

DEFAULT_CHAT_SECONDS = 20 * 60  # DOMAIN.md: a chat lasts 20 minutes on average


def visitor_queue(visitor_client, conversation, token):
    response = visitor_client(token, conversation.pk).get(
        f"/api/v1/conversations/{conversation.pk}"
    )
    assert response.status_code == 200
    return response.json()["queue"]


def test_operators_see_the_queue_oldest_first_then_by_id(
    make_conversation, operator_client, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    late, _ = make_conversation(now=t + timedelta(minutes=5), audience="parent", age=None)
    tie_a, _ = make_conversation(now=t)
    tie_b, _ = make_conversation(now=t)
    early, _ = make_conversation(now=t - timedelta(minutes=10))

    response = operator_client.get("/api/v1/queue")

    assert response.status_code == 200
    queue = response.json()["queue"]
    assert [entry["id"] for entry in queue] == [early.pk, tie_a.pk, tie_b.pk, late.pk]
    last = queue[-1]
    assert (last["audience"], last["age"], last["gender"], last["referral_source"]) == (
        "parent",
        None,
        "girl",
        "smartschool",
    )
    assert last["device_class"] == "desktop"
    assert last["waiting_seconds"] >= 0


def test_accepted_and_ended_chats_leave_the_queue(
    make_conversation, make_active_conversation, operator, operator_client, chat_open
) -> None:
    waiting, _ = make_conversation()
    make_active_conversation(operator)
    gone, _ = make_conversation()
    services.conversation_end(conversation=gone, reason="visitor_ended")

    queue = operator_client.get("/api/v1/queue").json()["queue"]

    assert [entry["id"] for entry in queue] == [waiting.pk]


def test_queue_position_counts_who_is_ahead(
    make_conversation, visitor_client, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    first, first_token = make_conversation(now=t)
    second, second_token = make_conversation(now=t)
    third, third_token = make_conversation(now=t + timedelta(seconds=1))

    assert visitor_queue(visitor_client, third, third_token)["position"] == 3
    assert visitor_queue(visitor_client, second, second_token)["position"] == 2

    services.conversation_accept(conversation_id=None, operator=operator)  # takes `first`

    assert visitor_queue(visitor_client, first, first_token) is None  # no longer queued
    assert visitor_queue(visitor_client, second, second_token)["position"] == 1
    assert visitor_queue(visitor_client, third, third_token)["position"] == 2


def test_no_estimate_when_nobody_is_available(
    make_conversation, visitor_client, staff_factory, chat_open
) -> None:
    staff_factory(availability=Availability.PAUSED)
    staff_factory(availability=Availability.OFFLINE)
    conversation, token = make_conversation()

    assert visitor_queue(visitor_client, conversation, token) == {
        "position": 1,
        "estimated_wait_seconds": None,
    }


def test_no_wait_when_a_slot_is_free(
    make_conversation, visitor_client, operator, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    first, first_token = make_conversation()
    second, second_token = make_conversation()
    third, third_token = make_conversation()

    assert visitor_queue(visitor_client, first, first_token)["estimated_wait_seconds"] == 0
    assert visitor_queue(visitor_client, second, second_token)["estimated_wait_seconds"] == 0
    # Two slots, three waiting: the third waits for one chat to end.
    assert visitor_queue(visitor_client, third, third_token)["estimated_wait_seconds"] == (
        DEFAULT_CHAT_SECONDS // 2
    )


def test_the_wait_follows_the_mean_chat_length_and_the_free_slots(
    make_conversation, make_active_conversation, visitor_client, operator, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    make_active_conversation(operator)  # the one slot is busy
    conversation, token = make_conversation()

    # No chat ended in the last 30 days: the 20-minute default applies.
    assert visitor_queue(visitor_client, conversation, token) == {
        "position": 1,
        "estimated_wait_seconds": DEFAULT_CHAT_SECONDS,
    }


def test_a_paused_operators_chats_do_not_fill_the_slots_of_an_available_one(
    make_conversation,
    make_active_conversation,
    visitor_client,
    staff_factory,
    chat_open,
    settings,
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    pausing = staff_factory()
    make_active_conversation(pausing)
    make_active_conversation(pausing)
    pausing.availability = Availability.PAUSED  # still finishing two chats
    pausing.save(update_fields=["availability"])
    staff_factory()  # available, no chats: two free slots
    conversation, token = make_conversation()

    assert visitor_queue(visitor_client, conversation, token)["estimated_wait_seconds"] == 0


def test_queue_listing_runs_a_fixed_number_of_queries(
    make_conversation, operator_client, chat_open, django_assert_max_num_queries
) -> None:
    make_conversation()
    operator_client.get("/api/v1/queue")
    # Measured: 3 (session, user, the queue), whatever the queue's length.
    with django_assert_max_num_queries(3):
        assert len(operator_client.get("/api/v1/queue").json()["queue"]) == 1
    for _ in range(5):
        make_conversation()
    with django_assert_max_num_queries(3):
        assert len(operator_client.get("/api/v1/queue").json()["queue"]) == 6
