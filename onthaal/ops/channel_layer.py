"""The Redis channel layer: channels-redis' pub/sub layer, decoding each
event once per process.

Why pub/sub (docs/performance.md, "Load"): channels-redis' default layer
keeps a sorted set per receiving process and a sorted set per group, so one
``group_send`` costs four to five Redis commands and every event read costs
two to four more, each a round trip and a system call in the server's event
loop. That was about half the servers' CPU per chat message and most of
Redis's. With pub/sub a ``group_send`` is one ``PUBLISH``, Redis pushes each
event once to every process subscribed to the group, and the process hands
it to its own members. A group membership is a subscription of the
process's connection, so the memberships of a process that dies end with
its connection: nothing lingers to slow later broadcasts (the default layer
needed ``group_expiry`` and periodic re-adding for that).

What it does not do, as with the default layer: keep an event for a process
that is not connected at that moment. Nothing a client saw acknowledged
depends on it: messages are stored before they are broadcast, pages resume
with ``after=`` when they reconnect, and a resent message is broadcast
again (docs/api.md).

Onthaal's changes: channels-redis decodes a group event once per member
in this process, so a queue broadcast to 2,500 waiting visitors on one
process was unpacked 2,500 times. Here it is unpacked once and the same
event (consumers only read it) goes to every member, as the default layer
did. It publishes one event at a time, waiting for each answer; here
the events waiting to go out share one pipeline (see ``_Shard``). And a
consumer may take its events straight from the reading task, without a
queue and a task of its own per channel (``new_channel_to``). And a stored
chat message may reach the members in its own process at once, before its
round trip through Redis (``deliver_here``).

The order it keeps: the events one process sends to a group reach every
member in the order they were sent, and events that reach a process
through Redis reach its members in Redis's order. An event delivered here
may reach this process's members ahead of an event of another process that
Redis took just before it, which both processes sent at the same moment:
the same race as between two commits and their broadcasts (onthaal/
broadcast.py), and no page relies on its outcome (messages carry their
ids, states are re-read).
"""

from __future__ import annotations

import asyncio
import logging
import types
import uuid
import weakref
from collections import deque
from typing import Any, Protocol

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import create_pool

logger = logging.getLogger("onthaal.ops")

# Seconds a batch of publishes may take when the host sets no socket_timeout.
PUBLISH_TIMEOUT = 10

# The key of a group event, as published, that names the process that sent
# it (the layer's ``origin``), its number there, and whether its members in
# that process already have it (``deliver_here``). Taken off on arrival.
ORIGIN = "__onthaal_origin"
# The key ``deliver_here`` puts in an event to tell ``group_send`` so.
DELIVERED_HERE = "__onthaal_delivered_here"
# Seconds after which a group event of this process that has not come back
# through Redis is taken as lost (a dropped connection): until then, or
# until it comes back, the group's events take the way through Redis.
READ_BACK_SECONDS = 2.0


class _Shard(RedisSingleShardConnection):  # type: ignore[misc]
    """One Redis host: events are decoded here, once; publishes go out in
    batches, on a connection of their own.

    channels-redis publishes one event at a time, each waiting for Redis's
    answer under a lock: under load every answer waits for a turn of a busy
    event loop, and a process could publish only as many events a second as
    its loop turns. Here every publish waiting at that moment goes out in one
    pipeline (one write, one round trip), in the order they were made.
    """

    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._publisher_pool: Any = None
        self._publisher: Any = None

    async def publish(self, channel: str, message: bytes) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_waiting())
        await done

    async def _send_waiting(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                await self._publish(batch)
            except BaseException as exc:
                if isinstance(exc, GeneratorExit):
                    # Destroyed with a loop that is gone: nothing can be
                    # awaited (the loop's close flushed the layer, see
                    # _flush_on_close).
                    raise
                # The connection may hold unread answers: start a new one.
                await self._close_publisher()
                for _channel, _message, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for _channel, _message, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _publish(self, batch: list[tuple[str, bytes, asyncio.Future[None]]]) -> None:
        """Write the batch's PUBLISH commands at once and read their answers.

        On a connection of its own, without redis-py's pipeline and its
        per-answer timeouts (a tenth of a server's CPU per chat message in a
        profile): one deadline covers the batch.
        """
        if self._publisher is None:
            # Timeouts are this method's; the connection gets none per call.
            self._publisher_pool = create_pool({**self.host, "socket_timeout": None})
            self._publisher = await self._publisher_pool.get_connection()
        connection = self._publisher
        packed = connection.pack_commands(
            [("PUBLISH", channel, message) for channel, message, _done in batch]
        )
        async with asyncio.timeout(self.host.get("socket_timeout") or PUBLISH_TIMEOUT):
            await connection.send_packed_command(packed, check_health=False)
            for _ in batch:
                await connection.read_response()  # raises Redis's error answers

    async def _close_publisher(self) -> None:
        pool, connection = self._publisher_pool, self._publisher
        self._publisher_pool = self._publisher = None
        if pool is None:
            return
        try:
            await pool.disconnect()
        except Exception as exc:
            # Its socket is closed all the same, without waiting: left to the
            # garbage collector, it would be closed whenever that runs, with
            # a warning about an unclosed transport.
            logger.warning(
                "channel layer: closing the publishing connection failed (%s)",
                type(exc).__name__,
            )
            if connection is not None:
                connection._close()  # redis-py's close without waiting

    async def flush(self) -> None:
        sender, self._sender = self._sender, None
        for _channel, _message, done in self._outbox:
            if not done.done():
                done.cancel()
        self._outbox = []
        if sender is not None and not sender.done():
            # Its clean-up runs now, while the loop still turns (flush runs
            # when the loop closes): a task left pending would be destroyed
            # by the garbage collector, its connection with it, unclosed.
            sender.cancel()
            await asyncio.wait([sender])
        await self._close_publisher()
        await super().flush()

    async def _do_receiving(self) -> None:
        # As channels-redis' loop, but waiting for the next event without a
        # deadline: its 0.1 s timeout set and cancelled a timer for every
        # event read. Subscribing writes on the same connection while this
        # waits, and its confirmation ends the wait like any event.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=None
                    )
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except BaseException:
                logger.exception("channel layer: receiving failed; reconnecting")
                await asyncio.sleep(1)

    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        targets: Any = (name,) if name in layer.channels else layer.groups.get(name)
        if not targets:
            return
        event = layer.channel_layer.deserialize(message["data"])
        origin = event.pop(ORIGIN, None)
        if origin is not None and origin[0] == layer.origin:
            layer.read_back(name, origin[1])
            if origin[2]:  # its members here have it already
                return
        layer.hand_to(targets, event)


class Sink(Protocol):
    """Where a channel's events go as they arrive (see ``new_channel_to``)."""

    def put_nowait(self, event: dict[str, Any]) -> None: ...


class _LoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    """The layer's state in one event loop, with :class:`_Shard` readers."""

    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(hosts, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.origin = uuid.uuid4().hex
        self._sent = 0
        # Per group with members here: the numbers and send times of this
        # process's events to it that have not yet come back through Redis.
        self._unread: dict[str, deque[tuple[int, float]]] = {}

    def deliver_here(self, group: str, message: dict[str, Any]) -> dict[str, Any]:
        """Hand ``message`` to the group's members in this process now, and
        return it marked for ``group_send``, which publishes it to the other
        processes' members only; or, when an earlier event of this process
        to the group has not yet come back through Redis (it would be
        overtaken), hand it to nobody and return it unchanged.

        For an event whose change is stored (a chat message, a receipt):
        its members here save the round trip through Redis, two of the six
        process hops between the sender's page and the reader's.
        """
        group_channel = self._get_group_channel_name(group)
        targets = self.groups.get(group_channel)
        if not targets or self._waiting_to_come_back(group_channel):
            return message
        self.hand_to(targets, message)
        return {**message, DELIVERED_HERE: True}

    def hand_to(self, channel_names: Any, event: dict[str, Any]) -> None:
        """Put ``event`` in each of these channels of this process (a queue,
        or a sink of ``new_channel_to``)."""
        for channel_name in channel_names:
            queue = self.channels.get(channel_name)
            if queue is not None:
                try:
                    queue.put_nowait(event)
                except Exception:
                    # One member's failure must not cost the others the event.
                    logger.exception("channel layer: handing an event to a channel failed")

    def _waiting_to_come_back(self, group_channel: str) -> bool:
        unread = self._unread.get(group_channel)
        if unread:
            expired = asyncio.get_running_loop().time() - READ_BACK_SECONDS
            while unread and unread[0][1] < expired:
                unread.popleft()  # lost on its way: nothing left to overtake
        if not unread:
            self._unread.pop(group_channel, None)
            return False
        return True

    def read_back(self, group_channel: str, number: int) -> None:
        """This process's event ``number`` to a group came back through Redis
        (with it, every earlier one that will)."""
        unread = self._unread.get(group_channel)
        if unread is None:
            return
        while unread and unread[0][0] <= number:
            unread.popleft()
        if not unread:
            del self._unread[group_channel]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        group_channel = self._get_group_channel_name(group)
        here = bool(message.get(DELIVERED_HERE))
        if here:
            message = {key: value for key, value in message.items() if key != DELIVERED_HERE}
        if group_channel in self.groups:
            # It comes back to this process: numbered, to know when it has.
            self._sent += 1
            message = {**message, ORIGIN: (self.origin, self._sent, here)}
            self._unread.setdefault(group_channel, deque()).append(
                (self._sent, asyncio.get_running_loop().time())
            )
        shard = self._get_shard(group_channel)
        await shard.publish(group_channel, self.channel_layer.serialize(message))

    async def group_discard(self, group: str, channel: str) -> None:
        await super().group_discard(group, channel)
        group_channel = self._get_group_channel_name(group)
        if group_channel not in self.groups:
            self._unread.pop(group_channel, None)  # no longer comes back

    async def new_channel_to(self, sink: Sink, prefix: str = "specific.") -> str:
        """A new channel whose events the reading task hands to ``sink`` as
        they arrive, instead of queueing them for ``receive``: a consumer
        that takes them so saves a task and its wake-up per event. The
        channel is in use until ``close_channel``; ``receive`` cannot be
        called on it."""
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = sink
        await self._get_shard(channel).subscribe(channel)
        return channel

    async def close_channel(self, channel: str) -> None:
        """Stop receiving for a channel of ``new_channel_to``."""
        if self.channels.pop(channel, None) is not None:
            try:
                await self._get_shard(channel).unsubscribe(channel)
            except Exception:
                # The consumer is ending all the same; the subscription ends
                # with the connection.
                logger.exception("channel layer: unsubscribing %s failed", channel)

    async def receive(self, channel: str) -> dict[str, Any]:
        # As channels-redis' receive, without decoding (done by the shard).
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            event: dict[str, Any] = await queue.get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            # The consumer is going away: stop receiving for its channel.
            if channel in self.channels:
                del self.channels[channel]
                try:
                    await self._get_shard(channel).unsubscribe(channel)
                except BaseException:
                    logger.exception("channel layer: unsubscribing %s failed", channel)
            raise
        return event


class OnthaalChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with
    :class:`_LoopLayer`; configured as that one (``hosts``, ``prefix``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The loops whose close flushes their layer (_flush_on_close).
        self._flushed_on_close: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def new_channel_to(self, sink: Sink, prefix: str = "specific.") -> str:
        return await self._get_layer().new_channel_to(sink, prefix)

    def deliver_here(self, group: str, message: dict[str, Any]) -> dict[str, Any]:
        """See :meth:`_LoopLayer.deliver_here`; on the event loop."""
        return self._get_layer().deliver_here(group, message)

    async def close_channel(self, channel: str) -> None:
        # Not _get_layer: a loop whose layer was flushed (it is closing) has
        # no subscription left to end, and needs no new layer.
        layer = self._layers.get(asyncio.get_running_loop())
        if layer is not None:
            await layer.close_channel(channel)

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer: _LoopLayer | None = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            if loop not in self._flushed_on_close:
                self._flushed_on_close.add(loop)
                _flush_on_close(self, loop)
        return layer


# Rounds of flushing a closing loop's layers before giving up on tasks that
# keep publishing while it closes.
CLOSE_FLUSH_ROUNDS = 10


def _flush_on_close(proxy: OnthaalChannelLayer, loop: asyncio.AbstractEventLoop) -> None:
    """Flush the loop's layer (its connections close) when the loop closes.

    As channels-redis' ``_wrap_close``, and also the layer made while that
    flush runs: a server thread's broadcast reaching the loop after its tasks
    were cancelled makes a new one, with a new connection. channels-redis
    left that connection to the garbage collector, which found it later, in
    whatever code ran then, as an unclosed socket.
    """
    close = loop.close

    def closing(self: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any) -> None:
        for _ in range(CLOSE_FLUSH_ROUNDS):
            layer = proxy._layers.pop(loop, None)
            if layer is None:
                break
            loop.run_until_complete(layer.flush())
        if proxy._layers.pop(loop, None) is not None:
            logger.warning("channel layer: publishing went on while its event loop closed")
        proxy._flushed_on_close.discard(loop)
        loop.close = close  # type: ignore[method-assign]
        close(*args, **kwargs)

    loop.close = types.MethodType(closing, loop)  # type: ignore[method-assign]
