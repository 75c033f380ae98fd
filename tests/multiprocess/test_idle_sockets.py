"""A websocket that has nothing to say for a while stays open.

With Redis as the channel layer, each consumer waits for its next event with
a blocking ``BZPOPMIN`` of 5 seconds (channels-redis). redis-py 8 gives every
connection a 5-second socket timeout by default, so that wait times out and
the consumer dies, closing the socket, whenever a process has had nothing to
deliver for 5 seconds (django/channels_redis#422). The channel layer needs a
socket timeout longer than the blocking wait.
"""

from __future__ import annotations

import asyncio

from tests.multiprocess.conftest import Cluster, operator_socket, visitor_open, visitor_socket

IDLE_SECONDS = 12


async def test_an_idle_chat_survives_and_still_delivers(cluster: Cluster):
    (operator,) = cluster.operators(1)
    visitor = visitor_open(cluster.a)
    status, body = operator.post(
        cluster.b, f"/api/v1/conversations/{visitor.conversation_id}/accept"
    )
    assert status == 200, body
    page = await visitor_socket(cluster.a, visitor)
    console = await operator_socket(cluster.b, operator)

    await asyncio.sleep(IDLE_SECONDS)  # nobody writes; no ping either

    assert not page.closed, f"the visitor's socket was closed: {page.connection.close_code}"
    assert not console.closed, f"the console was closed: {console.connection.close_code}"
    await page.send({"type": "message.send", "client_id": "after-idle", "body": "Nog daar?"})
    new = await console.wait_for("message.new")
    assert new["message"]["client_id"] == "after-idle"
    await page.close()
    await console.close()
