"""The chat's hot statements on the event loop's own PostgreSQL connections
(onthaal/ops/loopdb.py): what they store, their fallbacks, a broken
connection, and the switch that turns them off.

PostgreSQL only (scripts/test.sh runs them in its second pass); on SQLite
the same services run in the database thread, which the chat tests cover.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

from onthaal.chat import events, services
from onthaal.chat.models import Conversation, EndReason, Message, Sender
from onthaal.errors import Conflict, InvalidInput, PermissionDenied
from onthaal.ops import loopdb

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the loop's own connections are PostgreSQL only: set ONTHAAL_DATABASE_URL "
        "to a postgres:// URL (scripts/test.sh does so in its second pass)",
    ),
]


def _loop_connections() -> list:
    return [conn for pool in loopdb._loops.values() for conn in pool.slots if conn is not None]


async def _stored(conversation: Conversation, *fields: str) -> list[tuple]:
    """The conversation's messages as stored (bodies decrypted), oldest first."""
    return await database_sync_to_async(
        lambda: list(
            Message.objects.filter(conversation=conversation).order_by("pk").values_list(*fields)
        )
    )()


async def _backend_pid_of_the_free_slot() -> int:
    # With nothing else in flight, every statement goes to the same slot
    # (the one freed last).
    row = await loopdb.fetchone("SELECT pg_backend_pid()", [])
    assert row is not None
    return int(row[0])


async def _messages_new(layer, channel: str, count: int) -> list[dict]:
    found = []
    async with asyncio.timeout(5):
        while len(found) < count:
            event = await layer.receive(channel)
            if event["type"] == "message.new":
                found.append(event)
    return found


async def test_a_message_is_stored_and_broadcast_from_the_loop(
    make_active_conversation, operator, chat_open
) -> None:
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(events.conversation_group(conversation.pk), listener)

    frame = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="  Hallo?  ", client_id="v-1"
    )
    reply = await services.message_post_async(
        conversation=conversation,
        sender=Sender.OPERATOR,
        author=operator,
        body="Dag!",
        client_id="o-1",
    )

    assert _loop_connections(), "the statements ran on the loop's own connection"
    stored = await _stored(conversation, "pk", "sender", "author_id", "body", "client_id")
    # The body as stored is encrypted and reads back as the text.
    assert stored == [
        (frame["id"], "visitor", None, "Hallo?", "v-1"),
        (reply["id"], "operator", operator.pk, "Dag!", "o-1"),
    ]
    raw = await loopdb.fetchone("SELECT body FROM chat_message WHERE id = %s", [frame["id"]])
    assert raw is not None and "Hallo" not in raw[0]
    assert frame["body"] == "Hallo?" and frame["sender"] == "visitor"
    # (The chat's acceptance may still be announced to the group first.)
    broadcast = [event["message"] for event in await _messages_new(layer, listener, 2)]
    assert [message["id"] for message in broadcast] == [frame["id"], reply["id"]]
    assert broadcast[0] == frame
    # Prepared once per connection, not parsed and planned per message.
    prepared = await loopdb.fetchone(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
        ["%INSERT INTO chat_message%"],
    )
    assert prepared is not None and prepared[0] >= 1


async def test_a_message_reaches_its_readers_in_this_process_before_its_sender_is_answered(
    make_active_conversation, operator, chat_open
) -> None:
    """With Redis, a stored message goes to the members in its own process
    at once (onthaal/ops/channel_layer.py, deliver_here), and they write it
    out before the sender gets its acknowledgement."""
    layer = get_channel_layer()
    if not hasattr(layer, "deliver_here"):
        pytest.skip("needs the Redis channel layer (ONTHAAL_REDIS_URL)")
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    listener = await layer.new_channel()
    await layer.group_add(events.conversation_group(conversation.pk), listener)
    await asyncio.sleep(0.3)  # the chat's acceptance, announced to the group
    while not layer._get_layer().channels[listener].empty():
        await layer.receive(listener)
    order: list[str] = []

    async def read() -> None:
        while (await layer.receive(listener))["type"] != "message.new":
            pass
        order.append("read")

    reader = asyncio.ensure_future(read())
    await asyncio.sleep(0)  # waiting for it
    await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Hallo?", client_id="v-1"
    )
    order.append("answered")
    async with asyncio.timeout(5):
        await reader

    assert order == ["read", "answered"]


async def test_resends_and_refusals_answer_as_the_services_do(
    make_active_conversation, operator, other_operator, chat_open
) -> None:
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    first = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Eén", client_id="v-1"
    )
    again = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Eén", client_id="v-1"
    )
    assert again["id"] == first["id"]
    with pytest.raises(PermissionDenied):
        await services.message_post_async(
            conversation=conversation,
            sender=Sender.OPERATOR,
            author=other_operator,
            body="Niet de mijne",
            client_id="x-1",
        )
    with pytest.raises(InvalidInput):
        await services.message_post_async(
            conversation=conversation, sender=Sender.VISITOR, body="   ", client_id="v-2"
        )

    await database_sync_to_async(services.conversation_end)(
        conversation=await database_sync_to_async(Conversation.objects.get)(pk=conversation.pk),
        reason=EndReason.VISITOR_ENDED,
    )
    with pytest.raises(Conflict):
        await services.message_post_async(
            conversation=conversation, sender=Sender.VISITOR, body="Nog iets", client_id="v-3"
        )
    # A message the client saw acknowledged stays acknowledged after the end.
    late = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Eén", client_id="v-1"
    )
    assert late["id"] == first["id"]
    count = await database_sync_to_async(Message.objects.filter(conversation=conversation).count)()
    assert count == 1


async def test_a_receipt_moves_forward_only(make_active_conversation, operator, chat_open) -> None:
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    message = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Hoi", client_id="v-1"
    )
    moved = await services.conversation_receipt_async(
        conversation=conversation,
        side=Sender.OPERATOR,
        operator=operator,
        delivered_id=message["id"],
        read_id=message["id"],
    )
    assert moved is not None
    assert moved["conversation_id"] == conversation.pk
    assert moved["operator_delivered_id"] == moved["operator_read_id"] == message["id"]
    # The same again moves nothing; past the last message is refused.
    same = await services.conversation_receipt_async(
        conversation=conversation, side=Sender.OPERATOR, operator=operator, read_id=message["id"]
    )
    assert same is None
    with pytest.raises(InvalidInput):
        await services.conversation_receipt_async(
            conversation=conversation,
            side=Sender.OPERATOR,
            operator=operator,
            read_id=message["id"] + 1000,
        )
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation.pk)
    assert (stored.operator_delivered_id, stored.operator_read_id) == (message["id"],) * 2


async def test_a_broken_connection_is_replaced(
    make_active_conversation, operator, chat_open
) -> None:
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Eén", client_id="v-1"
    )
    pid = await _backend_pid_of_the_free_slot()

    def terminate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    await database_sync_to_async(terminate)()
    second = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Twee", client_id="v-2"
    )
    assert await _backend_pid_of_the_free_slot() != pid
    bodies = await _stored(conversation, "pk", "body")
    assert bodies[-1] == (second["id"], "Twee") and len(bodies) == 2


async def test_zero_loop_connections_keeps_the_statements_in_the_threads(
    make_active_conversation, operator, chat_open, settings
) -> None:
    settings.ONTHAAL_DATABASE_LOOP_CONNECTIONS = 0
    loopdb.close_all()
    conversation, _ = await database_sync_to_async(make_active_conversation)(operator)
    frame = await services.message_post_async(
        conversation=conversation, sender=Sender.VISITOR, body="Hoi", client_id="v-1"
    )
    receipt = await services.conversation_receipt_async(
        conversation=conversation, side=Sender.OPERATOR, operator=operator, read_id=frame["id"]
    )
    assert receipt is not None and receipt["operator_read_id"] == frame["id"]
    assert not loopdb.enabled()
    assert _loop_connections() == []


async def test_statements_waiting_together_share_a_batch_and_each_gets_its_own_answer(
    make_active_conversation, operator, other_operator, chat_open, settings, monkeypatch
) -> None:
    settings.ONTHAAL_DATABASE_LOOP_CONNECTIONS = 1
    loopdb.close_all()
    first, _ = await database_sync_to_async(make_active_conversation)(operator)
    second, _ = await database_sync_to_async(make_active_conversation)(operator)
    ended, _ = await database_sync_to_async(make_active_conversation)(other_operator)
    await database_sync_to_async(services.conversation_end)(
        conversation=ended, reason=EndReason.VISITOR_ENDED
    )
    sizes: list[int] = []
    execute = loopdb._execute

    async def counted(conn, batch):
        sizes.append(len(batch))
        return await execute(conn, batch)

    monkeypatch.setattr(loopdb, "_execute", counted)

    def post(conversation: Conversation, n: int):
        return services.message_post_async(
            conversation=conversation, sender=Sender.VISITOR, body=f"m{n}", client_id=f"v-{n}"
        )

    # The later conversation first: a batch runs in conversation order, and
    # in the order they came within one conversation.
    results = await asyncio.gather(
        post(second, 1),
        post(first, 2),
        post(second, 3),
        post(ended, 4),
        post(first, 5),
        return_exceptions=True,
    )

    assert sizes[0] == 1 and sizes[1] == 4, "the first ran alone; the others waited together"
    assert isinstance(results[3], Conflict), "the ended chat's statement returned no row"
    frames = [r for r in results if not isinstance(r, BaseException)]
    assert [f["body"] for f in frames] == ["m1", "m2", "m3", "m5"]
    assert await _stored(first, "pk", "body") == [
        (results[1]["id"], "m2"),
        (results[4]["id"], "m5"),
    ]
    assert await _stored(second, "pk", "body") == [
        (results[0]["id"], "m1"),
        (results[2]["id"], "m3"),
    ]
    assert await _stored(ended, "pk") == []


async def test_a_failing_statement_does_not_fail_the_others_of_its_batch(
    make_active_conversation, operator, other_operator, chat_open, settings
) -> None:
    settings.ONTHAAL_DATABASE_LOOP_CONNECTIONS = 1
    loopdb.close_all()
    conversations = [
        (await database_sync_to_async(make_active_conversation)(who))[0]
        for who in (operator, operator, other_operator)
    ]
    sql = "UPDATE chat_conversation SET rating = NULL WHERE id = %s RETURNING id, 10 / %s"
    blocker = loopdb.fetchone("SELECT pg_sleep(0.2)", [])
    results = await asyncio.gather(
        blocker,
        *(
            loopdb.fetchone(sql, [c.pk, 0 if n == 1 else 2], order=c.pk)
            for n, c in enumerate(conversations)
        ),
        return_exceptions=True,
    )
    # The three waited behind the sleep and went as one transaction, which
    # the division by zero rolled back; each then ran alone.
    assert results[1] == (conversations[0].pk, 5)
    assert type(results[2]).__name__ == "DivisionByZeroError"
    assert results[3] == (conversations[2].pk, 5)


async def test_a_batched_statement_must_return_its_row() -> None:
    with pytest.raises(ValueError, match="RETURNING"):
        await loopdb.fetchone(
            "UPDATE chat_conversation SET rating = NULL WHERE id = %s", [1], order=1
        )
