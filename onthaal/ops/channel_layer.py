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

Onthaal's one change: channels-redis decodes a group event once per member
in this process, so a queue broadcast to 2,500 waiting visitors on one
process was unpacked 2,500 times. Here it is unpacked once and the same
event (consumers only read it) goes to every member, as the default layer
did.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close

logger = logging.getLogger("onthaal.ops")


class _Shard(RedisSingleShardConnection):  # type: ignore[misc]
    """One Redis connection's reader: events are decoded here, once."""

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
        for channel_name in targets:
            queue = layer.channels.get(channel_name)
            if queue is not None:
                queue.put_nowait(event)


class _LoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    """The layer's state in one event loop, with :class:`_Shard` readers."""

    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(hosts, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

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

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer: _LoopLayer | None = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
