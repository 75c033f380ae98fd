"""A queue change is read once and broadcast; waiting visitors find their own
position in it (docs/performance.md, "Load"). And a resend re-broadcasts a
message whose first broadcast was lost, once per socket.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from onthaal.broadcast import COALESCE_SECONDS
from onthaal.chat import consumers, events, selectors, services
from onthaal.chat.models import Message, Sender, Status
from onthaal.chat.tests.test_consumers import (
    drain,
    of_type,
    operator_socket,
    receive_type,
    sync,
    visitor_socket,
)
from onthaal.supervision.models import ConsoleConnection

pytestmark = pytest.mark.django_db(transaction=True)


async def test_waiting_visitors_move_up_and_chatting_visitors_hear_no_more(
    make_conversation, operator, operator_client, chat_open
):
    opened = [await sync(make_conversation)() for _ in range(4)]
    pages = [(await visitor_socket(c, t))[0] for c, t in opened]
    console, snapshot = await operator_socket(operator_client)
    assert snapshot["queue_total"] == 4
    # The opening broadcasts (coalesced, a quarter second later) are not this test's.
    await asyncio.sleep(COALESCE_SECONDS * 2)
    for socket in (*pages, console):
        await drain(socket)

    await sync(services.conversation_accept)(conversation_id=None, operator=operator)

    taken = await receive_type(pages[0], "conversation")
    assert taken["conversation"]["status"] == Status.ACTIVE
    moved = [await receive_type(page, "queue") for page in pages[1:]]
    assert [frame["queue"]["position"] for frame in moved] == [1, 2, 3]
    expected = [await sync(selectors.estimated_wait_seconds)(position=n) for n in (1, 2, 3)]
    assert [frame["queue"]["estimated_wait_seconds"] for frame in moved] == expected
    listing = await receive_type(console, "queue")
    assert [e["id"] for e in listing["queue"]] == [c.pk for c, _t in opened[1:]]
    assert listing["queue_total"] == 3

    # The chatting visitor left the waiting visitors' group: the next change
    # (the last in line stops waiting) reaches only those still waiting.
    await drain(pages[0])
    last, _token = opened[3]
    await sync(services.conversation_end)(
        conversation=last, reason=services.EndReason.VISITOR_ENDED
    )
    assert of_type(await drain(pages[0]), "queue") == []
    assert [(await receive_type(p, "queue"))["queue"]["position"] for p in pages[1:3]] == [1, 2]
    for page in pages:
        await page.disconnect()
    await console.disconnect()


async def test_consoles_get_the_first_entries_and_the_total(
    make_conversation, operator_client, chat_open, monkeypatch
):
    monkeypatch.setattr(events, "QUEUE_LIST_LIMIT", 2)
    opened = [await sync(make_conversation)() for _ in range(3)]
    console, snapshot = await operator_socket(operator_client)
    assert [e["id"] for e in snapshot["queue"]] == [c.pk for c, _t in opened[:2]]
    assert snapshot["queue_total"] == 3

    await sync(make_conversation)()

    listing = await receive_type(console, "queue")
    assert [e["id"] for e in listing["queue"]] == [c.pk for c, _t in opened[:2]]
    assert listing["queue_total"] == 4
    await console.disconnect()


async def test_an_older_queue_state_arriving_late_is_ignored(make_conversation, chat_open):
    first, _ = await sync(make_conversation)()
    conversation, token = await sync(make_conversation)()
    page, welcome = await visitor_socket(conversation, token)
    assert welcome["queue"]["position"] == 2
    await asyncio.sleep(COALESCE_SECONDS * 2)
    await drain(page)
    keys = [selectors.queue_key(first), selectors.queue_key(conversation)]
    # A broadcast read before this socket's hello (another process, slower):
    stale = timezone.now() - timedelta(minutes=1)
    await get_channel_layer().group_send(
        events.QUEUE_VISITORS_GROUP,
        {
            "type": "queue.positions",
            "at": stale.timestamp(),
            "keys": keys[1:],
            "estimate": None,
        },
    )
    assert of_type(await drain(page), "queue") == []
    await page.disconnect()


async def test_a_resend_rebroadcasts_a_message_whose_broadcast_was_lost(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    # As if the process died right after the commit, before its broadcast.
    stored = await sync(Message.objects.create)(
        conversation=conversation,
        sender=Sender.VISITOR,
        body="Ben je daar?",
        client_id="lost-1",
        created_at=timezone.now(),
    )
    assert of_type(await drain(console), "message.new") == []

    page, _ = await visitor_socket(conversation, token)
    frame = {"type": "message.send", "client_id": "lost-1", "body": "Ben je daar?"}
    await page.send_json_to(frame)
    ack = await receive_type(page, "message.ack")
    assert ack["message"]["id"] == stored.pk
    delivered = of_type(await drain(console), "message.new")
    assert [d["message"]["id"] for d in delivered] == [stored.pk]

    # Once per socket: a second resend reaches no socket twice.
    await page.send_json_to(frame)
    await receive_type(page, "message.ack")
    assert of_type(await drain(console), "message.new") == []
    assert of_type(await drain(page), "message.new") == []
    await page.disconnect()
    await console.disconnect()


def test_the_estimate_from_broadcast_inputs_matches_the_selector(
    make_active_conversation, make_conversation, operator, chat_open
):
    make_active_conversation(operator)
    for _ in range(3):
        make_conversation()
    inputs = selectors.wait_estimate_inputs()
    for position in range(1, 6):
        assert selectors.wait_from_inputs(
            position=position, inputs=inputs
        ) == selectors.estimated_wait_seconds(position=position)


async def test_pings_write_presence_in_batches(make_conversation, chat_open, monkeypatch):
    monkeypatch.setattr(consumers, "SEEN_FLUSH_SECONDS", 0.05)
    conversation, token = await sync(make_conversation)()
    page, _ = await visitor_socket(conversation, token)
    await sync(conversation.refresh_from_db)()
    at_hello = conversation.visitor_seen_at

    await page.send_json_to({"type": "ping"})
    await receive_type(page, "pong")
    await asyncio.sleep(0.5)

    await sync(conversation.refresh_from_db)()
    assert conversation.visitor_seen_at > at_hello
    await page.disconnect()


async def test_console_pings_write_presence_in_batches(operator_client, chat_open, monkeypatch):
    monkeypatch.setattr(consumers, "SEEN_FLUSH_SECONDS", 0.05)
    console, _ = await operator_socket(operator_client)
    long_ago = timezone.now() - timedelta(seconds=30)
    await sync(ConsoleConnection.objects.update)(seen_at=long_ago)

    await console.send_json_to({"type": "ping"})
    await receive_type(console, "pong")
    await asyncio.sleep(0.5)

    seen = await sync(lambda: list(ConsoleConnection.objects.values_list("seen_at", flat=True)))()
    assert len(seen) == 1 and seen[0] > long_ago
    await console.disconnect()
