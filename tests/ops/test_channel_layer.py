"""The channel layer on Redis: a living process keeps its channels in their
groups however short ``group_expiry`` is, the channels of a process that died
without leaving drop out after ``group_expiry``; and events waiting for a
process are read in batches, in order, none lost or repeated.

Needs ONTHAAL_REDIS_URL (scripts/test.sh sets it in its second pass); uses a
Redis database number of its own.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse

import pytest
from channels_redis.core import RedisChannelLayer

from onthaal.ops.channel_layer import OnthaalRedisChannelLayer

REDIS_DB = 11
EXPIRY = 2  # seconds; the layer re-adds every max(1, EXPIRY / 4) s

pytestmark = pytest.mark.skipif(
    not os.environ.get("ONTHAAL_REDIS_URL"), reason="needs ONTHAAL_REDIS_URL (Redis)"
)


def _address() -> str:
    url = urllib.parse.urlsplit(os.environ["ONTHAAL_REDIS_URL"])
    return url._replace(path=f"/{REDIS_DB}").geturl()


async def _receives(layer: RedisChannelLayer, channel: str) -> bool:
    try:
        async with asyncio.timeout(1):
            await layer.receive(channel)
    except TimeoutError:
        return False
    return True


async def test_living_members_stay_and_dead_ones_expire():
    hosts = [{"address": _address(), "socket_timeout": 10}]
    living = OnthaalRedisChannelLayer(hosts=hosts, group_expiry=EXPIRY, prefix="t-ops")
    # The same without refreshing: a process that was killed after joining.
    dead = RedisChannelLayer(hosts=hosts, group_expiry=EXPIRY, prefix="t-ops")
    await living.flush()
    try:
        alive = await living.new_channel()
        gone = await dead.new_channel()
        await living.group_add("room", alive)
        await dead.group_add("room", gone)

        await asyncio.sleep(EXPIRY + 1.5)
        await living.group_send("room", {"type": "hello"})

        assert await _receives(living, alive)
        assert not await _receives(dead, gone)

        await living.group_discard("room", alive)
        assert await living.refresh_groups() == 0
    finally:
        await living.flush()
        await living.close_pools()
        await dead.close_pools()


async def test_waiting_events_are_read_in_order_once_each():
    hosts = [{"address": _address(), "socket_timeout": 10}]
    sender = OnthaalRedisChannelLayer(hosts=hosts, prefix="t-ops-batch", capacity=1000)
    receiver = OnthaalRedisChannelLayer(hosts=hosts, prefix="t-ops-batch", capacity=1000)
    await sender.flush()
    try:
        first, second = await receiver.new_channel(), await receiver.new_channel()
        for n in range(250):  # more than one batch
            await sender.send(first if n % 2 else second, {"type": "n", "n": n})

        got_first = [(await receiver.receive(first))["n"] for _ in range(125)]
        got_second = [(await receiver.receive(second))["n"] for _ in range(125)]

        assert got_first == list(range(1, 250, 2))
        assert got_second == list(range(0, 250, 2))
        assert not await _receives(receiver, first)
        # Nothing left in flight in Redis either.
        connection = receiver.connection(0)
        assert await connection.keys("t-ops-batch*") == []
    finally:
        await sender.flush()
        await sender.close_pools()
        await receiver.close_pools()
