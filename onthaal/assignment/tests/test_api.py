"""The HTTP side of offers, and the missed chats of a day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onthaal.assignment import services
from onthaal.assignment.models import Offer, Outcome
from onthaal.chat import services as chat_services
from onthaal.chat.models import EndReason

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto(settings):
    settings.ONTHAAL_ASSIGNMENT = "auto"
    return settings


def test_an_operator_lists_accepts_and_declines_offers_over_http(
    auto, make_conversation, operator, operator_client, chat_open
) -> None:
    first, _ = make_conversation()
    second, _ = make_conversation()
    services.offers_assign()

    listed = operator_client.get("/api/v1/offers").json()
    assert listed["assignment"] == "auto"
    assert [o["conversation_id"] for o in listed["offers"]] == [first.pk, second.pk]
    assert listed["offers"][0]["conversation"]["age"] == 15
    one, two = (o["id"] for o in listed["offers"])

    accepted = operator_client.post(f"/api/v1/offers/{one}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["conversation"]["status"] == "active"
    declined = operator_client.post(f"/api/v1/offers/{two}/decline")
    assert declined.json() == {
        "offer": {"id": two, "conversation_id": second.pk, "outcome": "declined"}
    }
    again = operator_client.post(f"/api/v1/offers/{two}/accept")
    assert (again.status_code, again.json()["code"]) == (409, "offer_closed")
    assert operator_client.get("/api/v1/offers").json()["offers"] == []


def test_an_offer_whose_visitor_left_cannot_be_accepted(
    auto, make_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_conversation()
    services.offers_assign()
    offer = Offer.objects.get()
    chat_services.conversation_end(conversation=conversation, reason=EndReason.VISITOR_ENDED)

    response = operator_client.post(f"/api/v1/offers/{offer.pk}/accept")

    assert (response.status_code, response.json()["code"]) == (409, "offer_closed")
    offer.refresh_from_db()
    assert offer.outcome == Outcome.WITHDRAWN


def test_coordinators_see_the_missed_chats_of_a_day_with_their_waits(
    make_conversation,
    make_active_conversation,
    operator,
    coordinator_client,
    school_tuesday_evening,
) -> None:
    t = school_tuesday_evening
    gave_up, _ = make_conversation(now=t)
    chat_services.conversation_end(
        conversation=gave_up, reason=EndReason.VISITOR_ENDED, now=t + timedelta(minutes=2)
    )
    at_closing, _ = make_conversation(now=t + timedelta(hours=2, minutes=45))
    chat_services.conversation_visitor_seen(
        conversation_id=at_closing.pk, now=t + timedelta(hours=3)
    )
    chat_services.conversations_sweep(now=t + timedelta(hours=3))
    make_active_conversation(operator, now=t)  # held: not missed

    body = coordinator_client.get("/api/v1/missed-chats", {"day": "2026-10-06"}).json()

    assert body["day"] == "2026-10-06"
    assert body["count"] == 2
    assert body["mean_wait_seconds"] == (120 + 900) // 2
    assert body["longest_wait_seconds"] == 900
    assert [(c["id"], c["end_reason"], c["waited_seconds"]) for c in body["chats"]] == [
        (at_closing.pk, "closed", 900),
        (gave_up.pk, "missed", 120),
    ]
    other_day = coordinator_client.get("/api/v1/missed-chats", {"day": "2026-10-07"}).json()
    assert (other_day["count"], other_day["chats"], other_day["mean_wait_seconds"]) == (0, [], None)
    bad = coordinator_client.get("/api/v1/missed-chats", {"day": "gisteren"})
    assert bad.status_code == 400
