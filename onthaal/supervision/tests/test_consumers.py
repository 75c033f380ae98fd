"""Supervision over the websockets, driven through the ASGI application:
presence from the console socket, the overview socket, whispers that never
reach the visitor, takeover and transfer with the visitor connected."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from conftest import logged_in_client
from onthaal.asgi import application
from onthaal.chat.models import Conversation, Message
from onthaal.chat.tests.communicator import WebsocketCommunicator
from onthaal.chat.tests.test_consumers import (
    ORIGIN,
    TIMEOUT,
    _cookie,
    drain,
    of_type,
    operator_socket,
    receive_type,
    visitor_socket,
)
from onthaal.staff.models import Role
from onthaal.supervision.models import ConsoleConnection, StaffNote

pytestmark = pytest.mark.django_db(transaction=True)

sync = database_sync_to_async


async def overview_socket(client: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = WebsocketCommunicator(
        application, "/ws/v1/overview/", headers=[_cookie(client), ORIGIN]
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, code
    first = await socket.receive_json_from(timeout=TIMEOUT)
    assert first["type"] == "overview", first
    return socket, first["overview"]


async def test_an_open_console_is_online_in_the_overview_until_it_closes(
    operator, operator_client, coordinator_client
):
    overview, data = await overview_socket(coordinator_client)
    assert data["online"] == []

    console, _ = await operator_socket(operator_client)
    frame = await receive_type(overview, "overview", lambda f: f["overview"]["online"] != [])
    assert [o["pseudonym"] for o in frame["overview"]["online"]] == ["Lotte"]
    assert await sync(ConsoleConnection.objects.count)() == 1

    await console.disconnect()
    frame = await receive_type(overview, "overview", lambda f: f["overview"]["online"] == [])
    assert await sync(ConsoleConnection.objects.count)() == 0
    await overview.disconnect()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ANALYST])
async def test_the_overview_socket_is_for_coordinators_only(staff_factory, role):
    user = await sync(staff_factory)(role=role)
    client = await sync(logged_in_client)(user)
    socket = WebsocketCommunicator(
        application, "/ws/v1/overview/", headers=[_cookie(client), ORIGIN]
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert (connected, code) == (False, 4403)


async def test_whispers_reach_the_operator_and_never_the_visitor(
    make_active_conversation, operator, operator_client, coordinator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)
    overview, _ = await overview_socket(coordinator_client)

    # The operator asks for support: the coordinator's overview is alerted.
    await console.send_json_to({"type": "support.request", "conversation_id": conversation.pk})
    await receive_type(console, "support.ack")
    alert = await receive_type(overview, "support.requested")
    assert alert["support"]["conversation_id"] == conversation.pk

    # The coordinator reads along: the operator sees who.
    await overview.send_json_to({"type": "read_along.start", "conversation_id": conversation.pk})
    opened = await receive_type(overview, "read_along")
    assert opened["conversation"]["id"] == conversation.pk
    readers = await receive_type(console, "readers")
    assert [r["pseudonym"] for r in readers["readers"]] == ["Coördinator"]

    # A visitor's message reaches the coordinator reading along.
    await visitor.send_json_to({"type": "message.send", "client_id": "v1", "body": "Help"})
    new = await receive_type(overview, "message.new")
    assert new["message"]["body"] == "Help"

    # The whisper reaches the operator (and the coordinator's own page)...
    await overview.send_json_to(
        {"type": "whisper.send", "conversation_id": conversation.pk, "body": "Vraag door."}
    )
    whisper = await receive_type(console, "whisper")
    assert (whisper["whisper"]["body"], whisper["whisper"]["kind"]) == ("Vraag door.", "whisper")
    await receive_type(overview, "whisper")
    # ...and never the visitor: nothing on their socket mentions it.
    frames = await drain(visitor, quiet=0.5)
    assert all("Vraag door." not in str(frame) for frame in frames)
    assert of_type(frames, "whisper") == []
    assert await sync(StaffNote.objects.count)() == 1
    assert await sync(Message.objects.filter(body="Vraag door.").exists)() is False

    # The operator may whisper back over their own socket.
    await console.send_json_to(
        {"type": "whisper.send", "conversation_id": conversation.pk, "body": "Dank je."}
    )
    back = await receive_type(overview, "whisper")
    assert back["whisper"]["body"] == "Dank je."
    assert "Dank je." not in str(await drain(visitor, quiet=0.5))

    for socket in (console, visitor, overview):
        await socket.disconnect()


async def test_take_over_with_the_visitor_connected(
    make_active_conversation, operator, operator_client, coordinator, coordinator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    visitor, _ = await visitor_socket(conversation, token)
    coordinator_console, _ = await operator_socket(coordinator_client)
    overview, _ = await overview_socket(coordinator_client)
    await overview.send_json_to({"type": "read_along.start", "conversation_id": conversation.pk})
    await receive_type(overview, "read_along")

    await overview.send_json_to(
        {"type": "take_over", "conversation_id": conversation.pk, "from_operator_id": operator.pk}
    )
    await receive_type(overview, "take_over.ack")

    released = await receive_type(console, "conversation.released")
    assert (released["kind"], released["to_pseudonym"]) == ("taken_over", "Coördinator")
    seen = await receive_type(
        visitor,
        "conversation",
        lambda f: f["conversation"]["operator_pseudonym"] == "Coördinator",
    )
    assert "operator_id" not in seen["conversation"]
    await receive_type(
        coordinator_console, "conversation", lambda f: f["conversation"]["id"] == conversation.pk
    )

    # The visitor writes on: the coordinator's console gets it, the old one not.
    await visitor.send_json_to({"type": "message.send", "client_id": "after", "body": "Nog?"})
    new = await receive_type(coordinator_console, "message.new")
    assert new["message"]["body"] == "Nog?"
    assert of_type(await drain(console), "message.new") == []

    for socket in (console, visitor, coordinator_console, overview):
        await socket.disconnect()


async def test_transfer_with_the_visitor_connected_loses_no_message(
    make_active_conversation,
    operator,
    operator_client,
    other_operator,
    other_operator_client,
    chat_open,
):
    conversation, token = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    colleague, _ = await operator_socket(other_operator_client)
    visitor, _ = await visitor_socket(conversation, token)
    await visitor.send_json_to({"type": "message.send", "client_id": "before", "body": "Een"})
    await receive_type(console, "message.new")

    await console.send_json_to(
        {
            "type": "transfer",
            "conversation_id": conversation.pk,
            "operator_id": other_operator.pk,
            "note": "Gaat over pesten.",
        }
    )
    # A message in flight during the transfer.
    await visitor.send_json_to({"type": "message.send", "client_id": "during", "body": "Twee"})
    await receive_type(console, "transfer.ack")
    await receive_type(console, "conversation.released")

    opened = await receive_type(
        colleague, "conversation", lambda f: f["conversation"]["id"] == conversation.pk
    )
    note = await receive_type(colleague, "whisper")
    assert (note["whisper"]["kind"], note["whisper"]["body"]) == (
        "transfer_note",
        "Gaat over pesten.",
    )
    await visitor.send_json_to({"type": "message.send", "client_id": "after", "body": "Drie"})
    later = of_type(await drain(colleague, quiet=0.5), "message.new")
    bodies = {m["body"] for m in opened.get("messages", [])} | {f["message"]["body"] for f in later}
    assert {"Een", "Twee", "Drie"} <= bodies
    current = await sync(Conversation.objects.get)(pk=conversation.pk)
    assert current.operator_id == other_operator.pk
    # The visitor never sees the note.
    assert "pesten" not in str(await drain(visitor, quiet=0.3))

    for socket in (console, colleague, visitor):
        await socket.disconnect()


async def test_a_transfer_to_a_colleague_without_a_console_is_refused_on_the_socket(
    make_active_conversation, operator, operator_client, other_operator, chat_open
):
    conversation, _ = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    await console.send_json_to(
        {"type": "transfer", "conversation_id": conversation.pk, "operator_id": other_operator.pk}
    )
    error = await receive_type(console, "error")
    assert (error["code"], error["in_reply_to"]) == ("target_not_online", "transfer")
    await console.disconnect()


async def test_a_coordinators_console_is_alerted_when_support_is_asked(
    make_active_conversation, operator, operator_client, coordinator_client, chat_open
):
    conversation, _ = await sync(make_active_conversation)(operator)
    console, _ = await operator_socket(operator_client)
    coordinator_console, _ = await operator_socket(coordinator_client)

    await console.send_json_to({"type": "support.request", "conversation_id": conversation.pk})

    alert = await receive_type(coordinator_console, "support.requested")
    assert alert["support"]["operator_pseudonym"] == "Lotte"
    pending = await receive_type(console, "support.pending")
    assert pending["conversation_id"] == conversation.pk
    # An operator's console is not told about a colleague's request.
    assert of_type(await drain(console), "support.requested") == []
    await console.disconnect()
    await coordinator_console.disconnect()


async def test_overview_frames_are_throttled(make_conversation, coordinator_client, chat_open):
    overview, _ = await overview_socket(coordinator_client)
    for _ in range(6):
        await sync(make_conversation)()
    frames = of_type(await drain(overview, quiet=1.5), "overview")
    assert 1 <= len(frames) <= 2
    assert frames[-1]["overview"]["queue"]["length"] == 6
    await overview.disconnect()
