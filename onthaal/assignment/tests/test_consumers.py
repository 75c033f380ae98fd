"""Offers on the operator's websocket: the offer frame, accept, decline, time-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import logged_in_client
from onthaal.assignment import services
from onthaal.assignment.models import Offer, Outcome
from onthaal.chat.models import Conversation, Status
from onthaal.chat.tests.test_consumers import (
    TIMEOUT,
    operator_socket,
    receive_type,
    sync,
    visitor_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def auto(settings):
    settings.ONTHAAL_ASSIGNMENT = "auto"
    settings.ONTHAAL_OFFER_TIMEOUT_SECONDS = 30
    return settings


async def test_a_new_visitor_is_offered_and_the_operator_accepts(
    auto, make_conversation, operator, chat_open
):
    socket, snapshot = await operator_socket(await sync(logged_in_client)(operator))
    assert snapshot["offers"] == []

    # A new visitor starts an assignment round at once (no sweeper needed).
    conversation, token = await sync(make_conversation)(audience="parent", age=None)
    offer = (await receive_type(socket, "offer"))["offer"]
    assert offer["conversation_id"] == conversation.pk
    assert offer["outcome"] == "open"
    assert offer["conversation"]["audience"] == "parent"
    assert offer["conversation"]["status"] == "queued"
    visitor, welcome = await visitor_socket(conversation, token)
    assert welcome["conversation"]["status"] == "queued"

    await socket.send_json_to({"type": "offer.accept", "offer_id": offer["id"]})

    frames: dict[str, dict] = {}
    while len(frames) < 2:
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == "offer.closed" or (
            frame["type"] == "conversation" and frame["conversation"]["status"] == "active"
        ):
            frames[frame["type"]] = frame
    assigned, closed = frames["conversation"], frames["offer.closed"]
    assert assigned["conversation"]["operator_id"] == operator.pk
    assert closed["offer"] == {
        "id": offer["id"],
        "conversation_id": conversation.pk,
        "outcome": "accepted",
    }
    seen = await receive_type(visitor, "conversation")
    assert seen["conversation"]["status"] == "active"
    await socket.disconnect()
    await visitor.disconnect()


async def test_declining_over_the_websocket_returns_the_chat_to_the_queue(
    auto, make_conversation, operator, chat_open
):
    socket, _snapshot = await operator_socket(await sync(logged_in_client)(operator))
    conversation, _token = await sync(make_conversation)()
    offer = (await receive_type(socket, "offer"))["offer"]

    await socket.send_json_to({"type": "offer.decline", "offer_id": offer["id"]})

    closed = await receive_type(socket, "offer.closed")
    assert closed["offer"]["outcome"] == "declined"
    refreshed = await sync(Conversation.objects.get)(pk=conversation.pk)
    assert refreshed.status == Status.QUEUED
    # Answering again is refused with a code the console can show.
    await socket.send_json_to({"type": "offer.accept", "offer_id": offer["id"]})
    error = await receive_type(socket, "error")
    assert (error["code"], error["in_reply_to"]) == ("offer_closed", "offer.accept")
    await socket.disconnect()


async def test_an_expired_offer_is_taken_off_the_console_and_reconnects_show_open_ones(
    auto, make_conversation, operator, chat_open
):
    client = await sync(logged_in_client)(operator)
    socket, _snapshot = await operator_socket(client)
    await sync(make_conversation)()
    offer = (await receive_type(socket, "offer"))["offer"]

    # A console that reconnects gets its open offers in the snapshot.
    again, snapshot = await operator_socket(client)
    assert [o["id"] for o in snapshot["offers"]] == [offer["id"]]

    await sync(services.offers_expire)(now=timezone.now() + timedelta(seconds=31))

    for console in (socket, again):
        closed = await receive_type(console, "offer.closed")
        assert (closed["offer"]["id"], closed["offer"]["outcome"]) == (offer["id"], "expired")
        await console.disconnect()


async def test_offer_frames_are_checked_and_offers_are_private(
    auto, make_conversation, operator, other_operator, chat_open, settings
):
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    await sync(make_conversation)()
    await sync(services.offers_assign)()
    offer = await sync(Offer.objects.get)()
    not_theirs = other_operator if offer.operator_id == operator.pk else operator
    socket, snapshot = await operator_socket(await sync(logged_in_client)(not_theirs))
    assert snapshot["offers"] == []

    await socket.send_json_to({"type": "offer.accept", "offer_id": "1"})
    error = await receive_type(socket, "error")
    assert error["code"] == "invalid_frame"
    for action in ("offer.accept", "offer.decline"):
        await socket.send_json_to({"type": action, "offer_id": offer.pk})
        error = await receive_type(socket, "error")
        assert (error["code"], error["in_reply_to"]) == ("not_found", action)
    assert await sync(lambda: Offer.objects.get().outcome)() == Outcome.OPEN
    # Nothing about the colleague's offer reaches this console (queue
    # updates, e.g. after this console's presence changed the estimates, may).
    while not await socket.receive_nothing(timeout=TIMEOUT / 10):
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        assert frame["type"] == "queue", frame
    await socket.disconnect()
