"""A server process killed with SIGKILL in the middle of a chat loses nothing
that a client saw acknowledged.

Both clients behave as the visitor page and the console do: every message
waits in an outbox until its ``message.ack`` arrives, and is sent again with
the same ``client_id`` after a reconnect; a reconnecting client asks for what
it missed with ``hello``/``resume`` and ``after`` = the last message id it
has from the other side. While both keep writing, first the visitor's
process and then the operator's is killed and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.e2e.conftest import Server
from tests.multiprocess.conftest import (
    Cluster,
    Operator,
    Socket,
    Visitor,
    operator_socket,
    visitor_open,
    visitor_socket,
)

SEND_EVERY = 0.2


@dataclass
class Client:
    """One side of the chat, reconnecting to ``server`` whenever its socket drops."""

    side: str
    server: Server
    visitor: Visitor
    operator: Operator | None = None
    socket: Socket | None = None
    outbox: dict[str, str] = field(default_factory=dict)  # client_id -> body
    acked: dict[str, int] = field(default_factory=dict)  # client_id -> message id
    sent: list[str] = field(default_factory=list)
    received: Counter[int] = field(default_factory=Counter)  # other side's ids, shown
    # (socket number, id) of the other side's messages that came by message.new
    live: Counter[tuple[int, int]] = field(default_factory=Counter)
    connections: int = 0
    _seen: int = 0  # frames of the current socket already handled
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def other(self) -> str:
        return "operator" if self.side == "visitor" else "visitor"

    @property
    def after(self) -> int:
        return max(self.received, default=0)

    async def connect(self) -> None:
        """Connect (retrying while the server is down), catch up, resend the outbox."""
        while True:
            try:
                if self.side == "visitor":
                    socket = await visitor_socket(self.server, self.visitor, after=self.after)
                else:
                    assert self.operator is not None
                    socket = await operator_socket(self.server, self.operator)
                    await socket.send(
                        {
                            "type": "resume",
                            "conversation_id": self.visitor.conversation_id,
                            "after": self.after,
                        }
                    )
                    await socket.wait_for("conversation", lambda f: "messages" in f)
                break
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError, AssertionError):
                await asyncio.sleep(0.1)
        self.socket, self._seen = socket, 0
        self.connections += 1
        self.handle()
        for client_id, body in list(self.outbox.items()):
            await self._send(client_id, body)

    def _show(self, message: dict[str, Any]) -> None:
        if message["sender"] == self.other and message["id"] not in self.received:
            self.received[message["id"]] += 1

    def handle(self) -> None:
        """Take in the frames that arrived since the last call."""
        assert self.socket is not None
        frames = self.socket.frames[self._seen :]
        self._seen += len(frames)
        for frame in frames:
            kind = frame["type"]
            if kind in {"welcome", "snapshot", "conversation"}:
                bundles = frame.get("conversations", [frame])
                for bundle in bundles:
                    for message in bundle.get("messages") or []:
                        if message["conversation_id"] == self.visitor.conversation_id:
                            self._show(message)
            elif kind == "message.new":
                if frame["message"]["sender"] == self.other:
                    self.live[(self.connections, frame["message"]["id"])] += 1
                self._show(frame["message"])
            elif kind == "message.ack":
                self.acked[frame["client_id"]] = frame["message"]["id"]
                self.outbox.pop(frame["client_id"], None)
            elif kind == "error":
                raise AssertionError(f"{self.side} got an error: {frame}")

    async def _send(self, client_id: str, body: str) -> None:
        frame = {"type": "message.send", "client_id": client_id, "body": body}
        if self.side == "operator":
            frame["conversation_id"] = self.visitor.conversation_id
        assert self.socket is not None
        with contextlib.suppress(ConnectionClosed):
            await self.socket.send(frame)

    async def write(self) -> None:
        client_id = f"{self.side}-{next(self._numbers)}"
        self.outbox[client_id] = f"{self.side} message {client_id}"
        self.sent.append(client_id)
        await self._send(client_id, self.outbox[client_id])

    async def run(self, stop: asyncio.Event) -> None:
        """Write every SEND_EVERY seconds until ``stop``; reconnect when dropped."""
        await self.connect()
        while not stop.is_set():
            assert self.socket is not None
            if self.socket.closed:
                self.handle()
                await self.connect()
            self.handle()
            await self.write()
            await asyncio.sleep(SEND_EVERY)

    async def settle(self, timeout: float = 30) -> None:
        """Until everything written is acknowledged (reconnecting if need be)."""
        async with asyncio.timeout(timeout):
            while True:
                assert self.socket is not None
                if self.socket.closed:
                    self.handle()
                    await self.connect()
                self.handle()
                if not self.outbox:
                    return
                await asyncio.sleep(0.05)


async def _kill_and_restart(server: Server) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.process = None
    await asyncio.to_thread(server.start)


async def test_a_killed_process_loses_no_acknowledged_message(cluster: Cluster):
    (operator,) = cluster.operators(1)
    visitor = visitor_open(cluster.a)
    status, body = operator.post(
        cluster.b, f"/api/v1/conversations/{visitor.conversation_id}/accept"
    )
    assert status == 200, body
    page = Client("visitor", cluster.a, visitor)
    console = Client("operator", cluster.b, visitor, operator)

    stop = asyncio.Event()
    writers = [asyncio.create_task(c.run(stop)) for c in (page, console)]
    await asyncio.sleep(1)
    await _kill_and_restart(cluster.a)  # the visitor's process, mid-chat
    await asyncio.sleep(1.5)
    await _kill_and_restart(cluster.b)  # and then the operator's
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*writers)
    await page.settle()
    await console.settle()

    assert page.connections >= 2 and console.connections >= 2, "no process was killed mid-chat"
    stored = {
        (sender, client_id): message_id
        for message_id, sender, client_id in cluster.query(
            "SELECT id, sender, client_id FROM chat_message WHERE conversation_id = %s",
            visitor.conversation_id,
        )
    }
    for client in (page, console):
        # Everything written was acknowledged in the end (resent after the crash) ...
        assert set(client.acked) == set(client.sent)
        # ... and every acknowledgement names a stored message, stored once.
        for client_id, message_id in client.acked.items():
            assert stored[(client.side, client_id)] == message_id
        assert sum(1 for sender, _ in stored if sender == client.side) == len(client.sent)

    # The other side gets each message exactly once: live, or when it resumes.
    async with asyncio.timeout(20):
        while True:
            page.handle()
            console.handle()
            missing = {
                side: {mid for (sender, _), mid in stored.items() if sender == side}
                - set(client.received)
                for side, client in (("operator", page), ("visitor", console))
            }
            if not any(missing.values()):
                break
            await asyncio.sleep(0.1)
    for client in (page, console):
        assert all(count == 1 for count in client.received.values())
        # A socket forwards each message once, though a resend broadcasts a
        # stored message again (its first broadcast may have died with its
        # process).
        assert all(count == 1 for count in client.live.values()), client.live
    for client in (page, console):
        assert client.socket is not None
        await client.socket.close()
