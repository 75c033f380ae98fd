"""A visitor on process A and an operator on process B chat as if they were
on one: everything between them goes through PostgreSQL and Redis."""

from __future__ import annotations

import json

from tests.multiprocess.conftest import (
    Cluster,
    operator_socket,
    visitor_open,
    visitor_socket,
)

VISITOR_TEXT = "Hallo, ik zit op proces A (geheim-1c9e)"
OPERATOR_TEXT = "Dag, ik antwoord van proces B (geheim-77f0)"


async def test_visitor_on_a_and_operator_on_b_chat_both_ways(cluster: Cluster):
    a, b = cluster.a, cluster.b
    (operator,) = cluster.operators(1)  # signed in on A, working on B
    console = await operator_socket(b, operator)

    visitor = visitor_open(a)
    page = await visitor_socket(a, visitor)
    welcome = await page.wait_for("welcome")
    assert welcome["conversation"]["status"] == "queued"
    assert welcome["queue"]["position"] >= 1
    # The queue change made on A reaches the console on B.
    await console.wait_for(
        "queue", lambda f: visitor.conversation_id in [e["id"] for e in f["queue"]]
    )

    status, body = operator.post(b, f"/api/v1/conversations/{visitor.conversation_id}/accept")
    assert status == 200, body
    assigned = await console.wait_for(
        "conversation", lambda f: f["conversation"]["id"] == visitor.conversation_id
    )
    assert assigned["conversation"]["status"] == "active"
    changed = await page.wait_for("conversation", lambda f: f["conversation"]["status"] == "active")
    assert changed["conversation"]["operator_pseudonym"] == f"Medewerker {operator.username}"

    # Typing, A → B.
    await page.send({"type": "typing", "active": True})
    typing = await console.wait_for("typing")
    assert typing["typing"] == {
        "conversation_id": visitor.conversation_id,
        "side": "visitor",
        "active": True,
    }

    # A message A → B, and B's receipt back to A.
    await page.send({"type": "message.send", "client_id": "v-1", "body": VISITOR_TEXT})
    ack = await page.wait_for("message.ack")
    new = await console.wait_for("message.new")
    assert new["message"] == ack["message"]
    assert new["message"]["body"] == VISITOR_TEXT
    visitor_message_id = ack["message"]["id"]
    await console.send(
        {
            "type": "receipt",
            "conversation_id": visitor.conversation_id,
            "delivered_id": visitor_message_id,
            "read_id": visitor_message_id,
        }
    )
    receipt = await page.wait_for(
        "receipt", lambda f: f["receipt"]["operator_read_id"] == visitor_message_id
    )
    assert receipt["receipt"]["operator_delivered_id"] == visitor_message_id

    # A message B → A, and A's receipt back to B.
    await console.send(
        {
            "type": "message.send",
            "conversation_id": visitor.conversation_id,
            "client_id": "o-1",
            "body": OPERATOR_TEXT,
        }
    )
    ack = await console.wait_for("message.ack")
    new = await page.wait_for("message.new", lambda f: f["message"]["sender"] == "operator")
    assert new["message"] == ack["message"]
    operator_message_id = ack["message"]["id"]
    await page.send(
        {"type": "receipt", "delivered_id": operator_message_id, "read_id": operator_message_id}
    )
    await console.wait_for(
        "receipt", lambda f: f["receipt"]["visitor_read_id"] == operator_message_id
    )

    # Each side got the other's message exactly once, and its own only in
    # its ack (no echo of the broadcast to the sending socket).
    assert [f["message"]["id"] for f in console.frames if f["type"] == "message.new"] == [
        visitor_message_id
    ]
    assert [f["message"]["id"] for f in page.frames if f["type"] == "message.new"] == [
        operator_message_id
    ]

    # The visitor ends on A; the console on B hears it.
    await page.send({"type": "end"})
    ended = await console.wait_for("conversation", lambda f: f["conversation"]["status"] == "ended")
    assert ended["conversation"]["end_reason"] == "visitor_ended"
    await page.close()
    await console.close()

    stored = cluster.query(
        "SELECT sender, client_id FROM chat_message WHERE conversation_id = %s ORDER BY id",
        visitor.conversation_id,
    )
    assert stored == [("visitor", "v-1"), ("operator", "o-1")]

    # Both processes log in JSON lines, with events and ids, never the text.
    for server in (a, b):
        for line in server.logs().splitlines():
            entry = json.loads(line)
            assert "geheim" not in line, entry
            assert visitor.token not in line
    accepted = [
        json.loads(line)
        for line in b.logs().splitlines()
        if json.loads(line)["event"] == "conversation.accepted"
    ]
    assert visitor.conversation_id in [entry["conversation_id"] for entry in accepted]
