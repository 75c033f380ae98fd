"""The benchmark's clients: visitors and operators speaking the documented
websocket protocol (docs/api.md), and the pairs of raw clients of the relay.

Every message body carries the sender's clock (``time.monotonic()``; all
clients live in this one process), so the receiving side measures delivery
latency as "sent → ``message.new`` arrived". Every ``client_id`` sent and
received is kept, so that lost messages are counted, not guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

VISITOR_PING_SECONDS = 20.0  # as visitor.js
OPERATOR_PING_SECONDS = 25.0  # as console.js


@dataclass
class Stats:
    """What one run saw, on all clients together."""

    # The measured spans of time (monotonic): one, or the turns of an
    # alternating run.
    windows: list[tuple[float, float]] = field(default_factory=list)
    latency: dict[str, list[float]] = field(
        default_factory=lambda: {"visitor": [], "operator": []}
    )  # by receiving side, seconds, for messages sent inside a window
    ack_latency: list[float] = field(default_factory=list)
    sent: dict[str, set[str]] = field(
        default_factory=lambda: {"visitor": set(), "operator": set()}
    )  # by sending side
    received: dict[str, set[str]] = field(
        default_factory=lambda: {"visitor": set(), "operator": set()}
    )  # by sending side: what the other side got
    duplicates: int = 0
    acked: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    closed: int = 0
    # Why sockets closed before the end: "<code> <reason>", e.g. "1011 keepalive
    # ping timeout" when the server's event loop was too busy to answer pings.
    close_reasons: Counter[str] = field(default_factory=Counter)

    def in_window(self, sent_at: float) -> bool:
        return any(start <= sent_at <= end for start, end in self.windows)

    @property
    def sent_total(self) -> int:
        return sum(len(ids) for ids in self.sent.values())

    @property
    def lost(self) -> int:
        return sum(len(self.sent[side] - self.received[side]) for side in self.sent)


def _body(seq: int) -> str:
    return f"load t={time.monotonic():.6f} seq={seq}"


def _sent_at(body: str) -> float | None:
    for part in body.split():
        if part.startswith("t="):
            with contextlib.suppress(ValueError):
                return float(part[2:])
    return None


async def open_socket(url: str, *, cookie: str | None = None) -> ClientConnection:
    origin = url.replace("ws://", "http://").split("/ws/")[0]
    headers = {"Origin": origin}
    if cookie:
        headers["Cookie"] = cookie
    return await connect(
        url,
        additional_headers=headers,
        open_timeout=120,
        # Browsers send no protocol-level pings; the pages ping in JSON.
        ping_interval=None,
        # A console's queue listing of thousands of visitors is a big frame.
        max_size=None,
        max_queue=None,
    )


class Peer:
    """One chat client: a visitor page or an operator console."""

    def __init__(
        self,
        side: str,
        socket: ClientConnection,
        stats: Stats,
        *,
        receipts: bool,
        conversations: list[int],
    ) -> None:
        self.side = side
        self.other = "operator" if side == "visitor" else "visitor"
        self.socket = socket
        self.stats = stats
        self.receipts = receipts
        self.conversations = conversations
        self.frames: Counter[str] = Counter()
        self.seq = 0
        self.pending_acks: dict[str, float] = {}
        self.queue_frames: list[tuple[float, dict[str, Any]]] = []
        self.first_frame: dict[str, Any] | None = None
        self.closing = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                frame = json.loads(text)
                kind = frame.get("type")
                self.frames[kind] += 1
                if self.first_frame is None:
                    self.first_frame = frame
                if kind == "message.new":
                    await self._on_message(frame["message"])
                elif kind == "message.ack":
                    started = self.pending_acks.pop(frame["client_id"], None)
                    self.stats.acked.add(frame["client_id"])
                    if started is not None and self.stats.in_window(started):
                        self.stats.ack_latency.append(time.monotonic() - started)
                elif kind == "queue":
                    self.queue_frames.append((time.monotonic(), frame))
                elif kind == "error":
                    self.stats.errors[frame.get("code", "?")] += 1
        except ConnectionClosed as closed:
            if not self.closing:
                code = (
                    closed.rcvd.code if closed.rcvd else (closed.sent.code if closed.sent else 1006)
                )
                reason = closed.rcvd.reason if closed.rcvd else ""
                self.stats.close_reasons[f"{code} {reason}".strip()] += 1
        finally:
            self.stats.closed += 1

    async def _on_message(self, message: dict[str, Any]) -> None:
        if message["sender"] != self.other:
            return  # the echo of one's own message
        client_id = message["client_id"]
        seen = self.stats.received[self.other]
        if client_id in seen:
            self.stats.duplicates += 1
            return
        seen.add(client_id)
        sent_at = _sent_at(message["body"])
        if sent_at is not None and self.stats.in_window(sent_at):
            self.stats.latency[self.side].append(time.monotonic() - sent_at)
        if self.receipts:
            # As the pages do on every new message of the other side.
            receipt: dict[str, Any] = {
                "type": "receipt",
                "delivered_id": message["id"],
                "read_id": message["id"],
            }
            if self.side == "operator":
                receipt["conversation_id"] = message["conversation_id"]
            with contextlib.suppress(ConnectionClosed):
                await self.socket.send(json.dumps(receipt))

    async def send_message(self, conversation_id: int) -> None:
        self.seq += 1
        client_id = f"{self.side[0]}{conversation_id}-{self.seq}"
        frame: dict[str, Any] = {
            "type": "message.send",
            "client_id": client_id,
            "body": _body(self.seq),
        }
        if self.side == "operator":
            frame["conversation_id"] = conversation_id
        self.stats.sent[self.side].add(client_id)
        self.pending_acks[client_id] = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            await self.socket.send(json.dumps(frame))

    async def ping_forever(self) -> None:
        period = VISITOR_PING_SECONDS if self.side == "visitor" else OPERATOR_PING_SECONDS
        await asyncio.sleep(random.uniform(0, period))
        while True:
            with contextlib.suppress(ConnectionClosed):
                await self.socket.send('{"type": "ping"}')
            await asyncio.sleep(period)

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(ConnectionClosed):
            await self.socket.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


async def wait_first_frame(peer: Peer, kind: str, timeout: float = 120) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while peer.first_frame is None:
            if peer.reader.done():
                raise ConnectionError(f"{peer.side} socket closed before {kind}")
            await asyncio.sleep(0.01)
    if peer.first_frame.get("type") != kind:
        raise ConnectionError(f"{peer.side} expected {kind}, got {peer.first_frame}")
    return peer.first_frame


async def visitor_connect(
    base_url: str, conversation_id: int, token: str, stats: Stats, *, receipts: bool
) -> Peer:
    socket = await open_socket(base_url.replace("http://", "ws://") + "/ws/v1/visitor/")
    peer = Peer("visitor", socket, stats, receipts=receipts, conversations=[conversation_id])
    await socket.send(
        json.dumps(
            {"type": "hello", "conversation_id": conversation_id, "token": token, "after": 0}
        )
    )
    await wait_first_frame(peer, "welcome")
    return peer


async def operator_connect(
    base_url: str, session: str, conversations: list[int], stats: Stats, *, receipts: bool
) -> Peer:
    socket = await open_socket(
        base_url.replace("http://", "ws://") + "/ws/v1/operator/", cookie=f"sessionid={session}"
    )
    peer = Peer("operator", socket, stats, receipts=receipts, conversations=conversations)
    await wait_first_frame(peer, "snapshot")
    return peer


async def relay_pair(relay_url: str, pair: int, stats: Stats) -> tuple[Peer, Peer]:
    """Two raw clients of the baseline relay; they send the same frames."""
    peers = []
    for side in ("visitor", "operator"):
        socket = await open_socket(f"{relay_url}/pair/{pair}/{side}")
        peers.append(RelayPeer(side, socket, stats, receipts=False, conversations=[pair]))
    return peers[0], peers[1]


class RelayPeer(Peer):
    """A relay client: what arrives is the other side's ``message.send`` frame."""

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                frame = json.loads(text)
                await self._on_message(
                    {
                        "sender": self.other,
                        "client_id": frame["client_id"],
                        "body": frame["body"],
                        "id": 0,
                        "conversation_id": 0,
                    }
                )
        except ConnectionClosed as closed:
            if not self.closing:
                code = (
                    closed.rcvd.code if closed.rcvd else (closed.sent.code if closed.sent else 1006)
                )
                reason = closed.rcvd.reason if closed.rcvd else ""
                self.stats.close_reasons[f"{code} {reason}".strip()] += 1
        finally:
            self.stats.closed += 1
