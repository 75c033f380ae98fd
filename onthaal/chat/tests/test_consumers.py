"""The two websockets, driven through the ASGI application as a browser would.

Consumers reach the database from a worker thread, so these tests need
``transaction=True``: what the test writes must be committed to be seen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from onthaal.asgi import application
from onthaal.chat import services
from onthaal.chat.models import Conversation, EndReason, Message, Sender
from onthaal.chat.tests.communicator import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 3


def _cookie(client: Any) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def visitor_socket(
    conversation: Conversation, token: str, *, after: int = 0
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    connected, _code = await socket.connect(timeout=TIMEOUT)
    assert connected
    await socket.send_json_to(
        {"type": "hello", "conversation_id": conversation.pk, "token": token, "after": after}
    )
    welcome = await socket.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome", welcome
    return socket, welcome


async def operator_socket(client: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = WebsocketCommunicator(
        application, "/ws/v1/operator/", headers=[_cookie(client), ORIGIN]
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, code
    snapshot = await socket.receive_json_from(timeout=TIMEOUT)
    assert snapshot["type"] == "snapshot", snapshot
    return socket, snapshot


async def receive_type(
    socket: WebsocketCommunicator,
    kind: str,
    where: Callable[[dict[str, Any]], bool] = lambda frame: True,
) -> dict[str, Any]:
    """The next frame of type ``kind`` (that satisfies ``where``), skipping
    others: queue updates, the echo of one's own message, and the like."""
    while True:
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind and where(frame):
            return frame


async def drain(socket: WebsocketCommunicator, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives until the socket has been quiet for ``quiet`` seconds."""
    frames = []
    while not await socket.receive_nothing(timeout=quiet):
        frames.append(await socket.receive_json_from())
    return frames


def of_type(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == kind]


sync = database_sync_to_async


# --- the visitor's hello -----------------------------------------------------------


async def test_hello_with_a_wrong_token_is_refused_and_closed(make_conversation, chat_open):
    conversation, _token = await sync(make_conversation)()
    _other, other_token = await sync(make_conversation)()
    socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    assert (await socket.connect(timeout=TIMEOUT))[0]

    await socket.send_json_to(
        {"type": "hello", "conversation_id": conversation.pk, "token": other_token}
    )

    error = await socket.receive_json_from(timeout=TIMEOUT)
    assert (error["type"], error["code"], error["in_reply_to"]) == ("error", "not_found", "hello")
    assert await socket.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4404,
    }


async def test_hello_for_an_unknown_conversation_looks_the_same(make_conversation, chat_open):
    conversation, token = await sync(make_conversation)()
    socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    assert (await socket.connect(timeout=TIMEOUT))[0]

    await socket.send_json_to(
        {"type": "hello", "conversation_id": conversation.pk + 100, "token": token}
    )

    error = await socket.receive_json_from(timeout=TIMEOUT)
    assert (error["code"], error["message"]) == ("not_found", "Dit gesprek bestaat niet.")
    assert (await socket.receive_output(timeout=TIMEOUT))["code"] == 4404


async def test_welcome_and_resume_send_the_messages_after_n(make_conversation, chat_open):
    conversation, token = await sync(make_conversation)()
    ids = []
    for n, body in enumerate(["een", "twee", "drie"]):
        message, _ = await sync(services.message_post)(
            conversation=conversation, sender=Sender.VISITOR, body=body, client_id=f"m{n}"
        )
        ids.append(message.pk)

    socket, welcome = await visitor_socket(conversation, token)
    assert [m["body"] for m in welcome["messages"]] == ["een", "twee", "drie"]
    assert welcome["conversation"]["status"] == "queued"
    assert welcome["queue"]["position"] == 1
    await socket.disconnect()

    resumed, welcome = await visitor_socket(conversation, token, after=ids[1])
    assert [(m["id"], m["body"]) for m in welcome["messages"]] == [(ids[2], "drie")]
    await resumed.disconnect()


async def test_a_message_before_hello_is_refused(chat_open):
    socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    assert (await socket.connect(timeout=TIMEOUT))[0]
    await socket.send_json_to({"type": "message.send", "client_id": "a", "body": "Hoi"})
    error = await socket.receive_json_from(timeout=TIMEOUT)
    assert (error["code"], error["client_id"]) == ("hello_required", "a")
    assert await sync(Message.objects.count)() == 0
    await socket.disconnect()


# --- messages between the two sides ---------------------------------------------------


async def test_visitor_and_operator_exchange_messages(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, snapshot = await operator_socket(operator_client)
    assert [c["conversation"]["id"] for c in snapshot["conversations"]] == [conversation.pk]
    visitor, welcome = await visitor_socket(conversation, token)
    assert welcome["conversation"]["operator_pseudonym"] == "Lotte"

    await visitor.send_json_to({"type": "message.send", "client_id": "v1", "body": "Hallo"})
    ack = await receive_type(visitor, "message.ack")
    new = await receive_type(console, "message.new")
    assert ack["client_id"] == "v1"
    assert new["message"] == ack["message"]
    assert (new["message"]["sender"], new["message"]["body"]) == ("visitor", "Hallo")

    await console.send_json_to(
        {
            "type": "message.send",
            "conversation_id": conversation.pk,
            "client_id": "o1",
            "body": "Dag, ik ben Lotte.",
        }
    )
    ack = await receive_type(console, "message.ack")
    new = await receive_type(visitor, "message.new", lambda f: f["message"]["sender"] == "operator")
    assert new["message"]["id"] == ack["message"]["id"]
    assert (new["message"]["sender"], new["message"]["body"]) == ("operator", "Dag, ik ben Lotte.")
    assert await sync(Message.objects.count)() == 2

    await visitor.disconnect()
    await console.disconnect()


async def test_a_resend_after_reconnecting_is_delivered_once(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    frame = {"type": "message.send", "client_id": "same-key", "body": "Ben je daar?"}

    first, _ = await visitor_socket(conversation, token)
    await first.send_json_to(frame)
    first_ack = await receive_type(first, "message.ack")
    await first.disconnect()  # the line drops before the page saw the ack, say

    second, welcome = await visitor_socket(conversation, token)
    assert [m["id"] for m in welcome["messages"]] == [first_ack["message"]["id"]]
    await second.send_json_to(frame)
    await second.send_json_to(frame)
    acks = [await receive_type(second, "message.ack") for _ in range(2)]

    assert {ack["message"]["id"] for ack in acks} == {first_ack["message"]["id"]}
    delivered = of_type(await drain(console), "message.new")
    assert [m["message"]["id"] for m in delivered] == [first_ack["message"]["id"]]
    assert await sync(Message.objects.count)() == 1
    await second.disconnect()
    await console.disconnect()


async def test_the_sending_socket_gets_its_message_once_in_the_ack(
    make_active_conversation, operator, operator_client, chat_open
):
    """No echo of the broadcast to the socket that sent it (a frame fewer per
    message); another tab of the same side still gets it."""
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    other_console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)
    other_tab, _ = await visitor_socket(conversation, token)
    sockets = (visitor, other_tab, console, other_console)
    seen: dict[WebsocketCommunicator, list[dict[str, Any]]] = {s: [] for s in sockets}

    async def until_ack(socket: WebsocketCommunicator) -> dict[str, Any]:
        while True:
            frame = await socket.receive_json_from(timeout=TIMEOUT)
            if frame["type"] == "message.ack":
                return frame
            seen[socket].append(frame)

    await visitor.send_json_to({"type": "message.send", "client_id": "v", "body": "Hoi"})
    visitor_ack = await until_ack(visitor)
    frame = {"type": "message.send", "client_id": "o", "body": "Dag"}
    await console.send_json_to({**frame, "conversation_id": conversation.pk})
    console_ack = await until_ack(console)
    for socket in sockets:
        seen[socket] += await drain(socket)

    def delivered(socket: WebsocketCommunicator) -> list[int]:
        return [f["message"]["id"] for f in of_type(seen[socket], "message.new")]

    visitor_id, console_id = visitor_ack["message"]["id"], console_ack["message"]["id"]
    assert delivered(visitor) == [console_id]
    assert delivered(console) == [visitor_id]
    assert delivered(other_tab) == delivered(other_console) == [visitor_id, console_id]
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("x" * 4001, "message_too_long"),
        ("   ", "empty_message"),
        ("a\x00b", "invalid_character"),
    ],
)
async def test_an_invalid_message_gets_an_error_frame(make_conversation, chat_open, body, code):
    conversation, token = await sync(make_conversation)()
    socket, _ = await visitor_socket(conversation, token)

    await socket.send_json_to({"type": "message.send", "client_id": "bad", "body": body})

    error = await receive_type(socket, "error")
    assert (error["code"], error["in_reply_to"], error["client_id"]) == (
        code,
        "message.send",
        "bad",
    )
    assert await sync(Message.objects.count)() == 0
    # The socket stays usable.
    await socket.send_json_to({"type": "message.send", "client_id": "ok", "body": "Hoi"})
    assert (await receive_type(socket, "message.ack"))["message"]["body"] == "Hoi"
    await socket.disconnect()


async def test_the_message_rate_limit_applies_to_the_socket(make_conversation, chat_open, settings):
    settings.ONTHAAL_RATE_MESSAGES_PER_MINUTE = 2
    conversation, token = await sync(make_conversation)()
    socket, _ = await visitor_socket(conversation, token)

    for n in range(3):
        await socket.send_json_to({"type": "message.send", "client_id": f"r{n}", "body": "spam"})
    frames = [await socket.receive_json_from(timeout=TIMEOUT) for _ in range(3)]
    frames = [f for f in frames + await drain(socket) if f["type"] in {"message.ack", "error"}]

    assert [f["type"] for f in frames] == ["message.ack", "message.ack", "error"]
    assert frames[-1]["code"] == "rate_limited"
    assert await sync(Message.objects.count)() == 2
    await socket.disconnect()


# --- typing and receipts -------------------------------------------------------------


async def test_typing_is_relayed_to_the_other_side_only(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)

    await visitor.send_json_to({"type": "typing", "active": True})
    typing = await receive_type(console, "typing")
    assert typing["typing"] == {
        "conversation_id": conversation.pk,
        "side": "visitor",
        "active": True,
    }
    assert of_type(await drain(visitor), "typing") == []

    await console.send_json_to(
        {"type": "typing", "conversation_id": conversation.pk, "active": False}
    )
    typing = await receive_type(visitor, "typing")
    assert typing["typing"] == {
        "conversation_id": conversation.pk,
        "side": "operator",
        "active": False,
    }
    assert of_type(await drain(console), "typing") == []
    await visitor.disconnect()
    await console.disconnect()


async def test_receipts_move_forward_and_reach_the_other_side(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    message, _ = await sync(services.message_post)(
        conversation=conversation, sender=Sender.VISITOR, body="Hoi", client_id="1"
    )
    console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)

    await console.send_json_to(
        {
            "type": "receipt",
            "conversation_id": conversation.pk,
            "delivered_id": message.pk,
            "read_id": message.pk,
        }
    )
    receipt = (await receive_type(visitor, "receipt"))["receipt"]
    assert (receipt["operator_delivered_id"], receipt["operator_read_id"]) == (
        message.pk,
        message.pk,
    )
    # The console that sent it learns nothing from its own receipt coming back.
    assert of_type(await drain(console), "receipt") == []

    # Going back is ignored: nothing changes, nothing is sent.
    await console.send_json_to(
        {"type": "receipt", "conversation_id": conversation.pk, "read_id": 0}
    )
    assert of_type(await drain(visitor), "receipt") == []
    await sync(conversation.refresh_from_db)()
    assert conversation.operator_read_id == message.pk

    await visitor.send_json_to({"type": "receipt", "delivered_id": message.pk})
    receipt = (
        await receive_type(console, "receipt", lambda f: f["receipt"]["visitor_delivered_id"])
    )["receipt"]
    assert receipt["visitor_delivered_id"] == message.pk
    assert receipt["operator_read_id"] == message.pk
    await visitor.disconnect()
    await console.disconnect()


async def test_a_receipt_with_an_absurd_id_is_an_error_frame(make_conversation, chat_open):
    conversation, token = await sync(make_conversation)()
    socket, _ = await visitor_socket(conversation, token)

    await socket.send_json_to({"type": "receipt", "read_id": 2**70})

    error = await receive_type(socket, "error")
    assert (error["code"], error["in_reply_to"]) == ("invalid_frame", "receipt")
    await socket.send_json_to({"type": "ping"})
    assert (await receive_type(socket, "pong"))["type"] == "pong"
    await socket.disconnect()


# --- conversation and queue changes ------------------------------------------------


async def test_accept_and_end_reach_the_visitor(make_conversation, operator, chat_open):
    conversation, token = await sync(make_conversation)()
    visitor, _ = await visitor_socket(conversation, token)

    await sync(services.conversation_accept)(conversation_id=conversation.pk, operator=operator)
    changed = await receive_type(visitor, "conversation")
    assert changed["conversation"]["status"] == "active"
    assert changed["conversation"]["operator_pseudonym"] == "Lotte"
    assert changed["queue"] is None
    # The visitor never learns who the operator is.
    assert "operator_id" not in changed["conversation"]
    assert "lotte" not in json.dumps(changed)

    await sync(services.conversation_end)(
        conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator
    )
    changed = await receive_type(visitor, "conversation")
    assert (changed["conversation"]["status"], changed["conversation"]["end_reason"]) == (
        "ended",
        "operator_ended",
    )
    await visitor.disconnect()


async def test_the_console_learns_that_the_visitor_ended(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)

    await visitor.send_json_to({"type": "end"})

    changed = await receive_type(console, "conversation")
    assert changed["conversation"]["id"] == conversation.pk
    assert (changed["conversation"]["status"], changed["conversation"]["end_reason"]) == (
        "ended",
        "visitor_ended",
    )
    assert "messages" not in changed
    await visitor.disconnect()
    await console.disconnect()


async def test_an_accepted_chat_arrives_on_the_operators_console(
    make_conversation, operator, operator_client, chat_open
):
    conversation, _token = await sync(make_conversation)()
    await sync(services.message_post)(
        conversation=conversation, sender=Sender.VISITOR, body="Wachtend bericht", client_id="w"
    )
    console, snapshot = await operator_socket(operator_client)
    assert [entry["id"] for entry in snapshot["queue"]] == [conversation.pk]
    assert snapshot["conversations"] == []

    await sync(services.conversation_accept)(conversation_id=None, operator=operator)

    assigned = await receive_type(console, "conversation")
    assert assigned["conversation"]["id"] == conversation.pk
    assert assigned["conversation"]["operator_id"] == operator.pk
    assert [m["body"] for m in assigned["messages"]] == ["Wachtend bericht"]
    await console.disconnect()


async def test_the_visitor_ends_while_queued(make_conversation, operator_client, chat_open):
    conversation, token = await sync(make_conversation)()
    visitor, _ = await visitor_socket(conversation, token)
    console, _ = await operator_socket(operator_client)

    await visitor.send_json_to({"type": "end"})

    changed = await receive_type(visitor, "conversation")
    assert (changed["conversation"]["status"], changed["conversation"]["end_reason"]) == (
        "ended",
        "missed",
    )
    queue = await receive_type(console, "queue")
    assert queue["queue"] == []
    await visitor.disconnect()
    await console.disconnect()


async def test_queue_changes_reach_operators_and_waiting_visitors(
    make_conversation, operator_client, chat_open
):
    first, _first_token = await sync(make_conversation)()
    second, second_token = await sync(make_conversation)()
    console, snapshot = await operator_socket(operator_client)
    assert [entry["id"] for entry in snapshot["queue"]] == [first.pk, second.pk]
    waiting, welcome = await visitor_socket(second, second_token)
    assert welcome["queue"]["position"] == 2

    third, _ = await sync(make_conversation)(audience="parent")
    queue = await receive_type(console, "queue")
    assert [(e["id"], e["audience"]) for e in queue["queue"]] == [
        (first.pk, "pupil"),
        (second.pk, "pupil"),
        (third.pk, "parent"),
    ]
    assert (await receive_type(waiting, "queue"))["queue"]["position"] == 2

    await sync(services.conversation_end)(conversation=first, reason=EndReason.VISITOR_ENDED)
    moved = await receive_type(waiting, "queue")
    assert moved["queue"]["position"] == 1
    queue = await receive_type(console, "queue")
    assert [e["id"] for e in queue["queue"]] == [second.pk, third.pk]
    await waiting.disconnect()
    await console.disconnect()


# --- the operator socket's door ------------------------------------------------------


async def test_the_operator_socket_needs_a_session(chat_open):
    socket = WebsocketCommunicator(application, "/ws/v1/operator/", headers=[ORIGIN])
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert (connected, code) == (False, 4401)


async def test_the_operator_socket_refuses_a_foreign_origin(operator_client, chat_open):
    socket = WebsocketCommunicator(
        application,
        "/ws/v1/operator/",
        headers=[_cookie(operator_client), (b"origin", b"https://evil.example")],
    )
    connected, _code = await socket.connect(timeout=TIMEOUT)
    assert connected is False


async def test_an_operator_cannot_write_in_someone_elses_chat(
    make_active_conversation, other_operator, operator_client, chat_open
):
    conversation, _ = await sync(make_active_conversation)(other_operator)
    console, _ = await operator_socket(operator_client)

    await console.send_json_to(
        {"type": "message.send", "conversation_id": conversation.pk, "client_id": "x", "body": "!"}
    )
    error = await receive_type(console, "error")
    assert error["code"] == "not_found"
    await console.send_json_to({"type": "resume", "conversation_id": conversation.pk})
    assert (await receive_type(console, "error"))["code"] == "not_found"
    assert await sync(Message.objects.count)() == 0
    await console.disconnect()


# --- malformed frames ----------------------------------------------------------------


@pytest.mark.parametrize("side", ["visitor", "operator"])
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(
    make_conversation, operator_client, chat_open, side
):
    if side == "visitor":
        conversation, token = await sync(make_conversation)()
        socket, _ = await visitor_socket(conversation, token)
    else:
        socket, _ = await operator_socket(operator_client)

    await socket.send_to(text_data="{not json")
    assert (await receive_type(socket, "error"))["code"] == "invalid_frame"
    await socket.send_to(text_data="[1, 2]")
    assert (await receive_type(socket, "error"))["code"] == "invalid_frame"
    await socket.send_json_to({"type": "shout", "client_id": "c"})
    error = await receive_type(socket, "error")
    assert (error["code"], error["in_reply_to"], error["client_id"]) == (
        "unknown_type",
        "shout",
        "c",
    )
    await socket.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert (await receive_type(socket, "error"))["code"] == "frame_too_large"

    await socket.send_json_to({"type": "ping"})
    assert (await receive_type(socket, "pong"))["type"] == "pong"
    await socket.disconnect()


async def test_ping_keeps_the_visitor_present(make_conversation, chat_open):
    conversation, token = await sync(make_conversation)()
    before = conversation.visitor_seen_at
    socket, _ = await visitor_socket(conversation, token)
    await asyncio.sleep(0.01)

    await socket.send_json_to({"type": "ping"})
    await receive_type(socket, "pong")

    await sync(conversation.refresh_from_db)()
    assert conversation.visitor_seen_at > before
    await socket.disconnect()
