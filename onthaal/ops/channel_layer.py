"""The Redis channel layer, with group memberships that stay alive and
events read in batches.

channels-redis keeps a channel in a group for ``group_expiry`` seconds after
its last ``group_add`` (a day by default), so that the channels of a process
that died without leaving its groups are dropped in the end. Until then
every ``group_send`` to those groups still pushes to them: after one killed
run with 5,000 waiting visitors, the next queue changes took five times as
long (docs/performance.md, "Load").

This layer lets ``group_expiry`` be short (ONTHAAL_CHANNEL_GROUP_EXPIRY_SECONDS,
an hour by default) without living consumers falling out of their groups:
each process remembers the memberships its own consumers added and did not
discard, and adds them again every quarter of ``group_expiry``. Consumers
need to do nothing about it, whatever groups they join.

Reading: channels-redis reads a process's events one at a time, each with
four Redis round trips one after another (restore the in-flight backup, a
blocking pop, a copy into the backup, and removing it again), every one
waiting for a turn of a busy event loop. Under load that, not the CPU, held
messages back for seconds. Here, whatever is already waiting is taken in one
script call (up to ``READ_BATCH`` events, copied into the same backup, which
one more call clears), and only an empty queue falls back to the blocking
pop. What was taken stays in the backup until it is in this process's
memory, so a cancelled read loses nothing, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from channels_redis.core import RedisChannelLayer

logger = logging.getLogger("onthaal.ops")

READ_BATCH = 100

# ARGV: the channel's key, its in-flight backup's key, how many to take.
# First put back what an interrupted read left in the backup (as
# channels-redis does before each read), then move up to ARGV[3] events
# into the backup and return them, oldest first, with their scores.
_BATCH_POP = """
local restored = redis.call('ZRANGE', ARGV[2], 0, -1, 'WITHSCORES')
for i = #restored, 1, -2 do
    redis.call('ZADD', ARGV[1], restored[i], restored[i - 1])
end
redis.call('DEL', ARGV[2])
local popped = redis.call('ZPOPMIN', ARGV[1], tonumber(ARGV[3]))
for i = 1, #popped, 2 do
    redis.call('ZADD', ARGV[2], popped[i + 1], popped[i])
end
return popped
"""


class OnthaalRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memberships: dict[str, set[str]] = {}  # group -> this process's channels
        self._refreshers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        # Events read ahead, per process channel ("specific.…!"), not yet decoded.
        self._read_ahead: dict[str, deque[bytes]] = {}

    @property
    def refresh_seconds(self) -> float:
        return max(1.0, self.group_expiry / 4)

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        self._memberships.setdefault(group, set()).add(channel)
        self._ensure_refresher()

    async def group_discard(self, group: str, channel: str) -> None:
        members = self._memberships.get(group)
        if members is not None:
            members.discard(channel)
            if not members:
                del self._memberships[group]
        await super().group_discard(group, channel)

    def _ensure_refresher(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._refreshers.get(loop)
        if task is None or task.done():
            for stale in [other for other in self._refreshers if other.is_closed()]:
                del self._refreshers[stale]
            self._refreshers[loop] = loop.create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh_groups()
            except Exception:
                logger.warning("channel layer: refreshing group memberships failed", exc_info=True)

    async def refresh_groups(self) -> int:
        """Add every remembered membership again; returns how many."""
        count = 0
        for group, channels in list(self._memberships.items()):
            for channel in list(channels):
                # group_add of the parent: the same ZADD with a new score.
                await super().group_add(group, channel)
                count += 1
        return count

    # --- reading in batches ------------------------------------------------------

    def _decode(self, channel: str, content: bytes) -> tuple[Any, dict[str, Any]]:
        # As RedisChannelLayer.receive_single after its read.
        message: dict[str, Any] = self.deserialize(content)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message

    async def receive_single(self, channel: str) -> tuple[Any, dict[str, Any]]:
        if "!" not in channel:
            return await super().receive_single(channel)  # type: ignore[no-any-return]
        ahead = self._read_ahead.get(channel)
        if ahead:
            return self._decode(channel, ahead.popleft())
        index = self.consistent_hash(channel)
        channel_key = self.prefix + channel
        backup = self._backup_channel_name(channel_key)
        connection = self.connection(index)
        await self.receive_clean_locks.acquire(channel_key)
        try:
            popped = await connection.eval(_BATCH_POP, 0, channel_key, backup, READ_BATCH)
        except BaseException:
            # Cancelled or failed: whatever the script took is in the backup,
            # and the next read puts it back.
            self.receive_clean_locks.release(channel_key)
            raise
        if not popped:
            self.receive_clean_locks.release(channel_key)
            # Nothing waiting: channels-redis' blocking read.
            return await super().receive_single(channel)  # type: ignore[no-any-return]
        contents = popped[0::2]
        self._read_ahead.setdefault(channel, deque()).extend(contents[1:])
        # Now in memory: clear the backup before the next read of this key.
        cleaner = asyncio.ensure_future(connection.delete(backup))
        self.receive_cleaners.append(cleaner)

        def _cleanup_done(done: asyncio.Future[Any]) -> None:
            self.receive_cleaners.remove(done)
            self.receive_clean_locks.release(channel_key)

        cleaner.add_done_callback(_cleanup_done)
        return self._decode(channel, contents[0])

    async def flush(self) -> None:
        self._memberships.clear()
        self._read_ahead.clear()
        await super().flush()
