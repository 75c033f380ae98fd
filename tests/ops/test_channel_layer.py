"""The channel layer on Redis (onthaal/ops/channel_layer.py): group events
reach every member in every process, in order, each once; a process's
memberships end with its connection; a group event is decoded once per
process; a stored message reaches its own process's members at once
(deliver_here), never ahead of that process's earlier events; the layer
carries on after Redis drops its connection.

Needs ONTHAAL_REDIS_URL (scripts/test.sh sets it in its second pass); uses a
Redis database number of its own.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from onthaal import broadcast
from onthaal.ops import channel_layer
from onthaal.ops.channel_layer import OnthaalChannelLayer

REDIS_DB = 11

pytestmark = pytest.mark.skipif(
    not os.environ.get("ONTHAAL_REDIS_URL"), reason="needs ONTHAAL_REDIS_URL (Redis)"
)


def _address() -> str:
    url = urllib.parse.urlsplit(os.environ["ONTHAAL_REDIS_URL"])
    return url._replace(path=f"/{REDIS_DB}").geturl()


def _layer(prefix: str = "t-ops") -> OnthaalChannelLayer:
    return OnthaalChannelLayer(hosts=[{"address": _address(), "socket_timeout": 10}], prefix=prefix)


async def _receives(layer: OnthaalChannelLayer, channel: str) -> dict | None:
    """The next event for ``channel`` within a second, or None. Polls rather
    than cancelling a receive: a cancelled receive ends the channel, as when
    its consumer goes away."""
    queue = layer._get_layer().channels[channel]
    for _ in range(20):
        if not queue.empty():
            return await layer.receive(channel)
        await asyncio.sleep(0.05)
    return None


async def _nothing_more(layer: OnthaalChannelLayer, channel: str) -> bool:
    """No event waiting for ``channel`` after a moment (without a receive that
    times out: a cancelled receive ends the channel, as when its consumer
    goes away)."""
    await asyncio.sleep(0.3)
    return bool(layer._get_layer().channels[channel].empty())


async def _subscriptions(group_channel: str) -> int:
    client = redis.asyncio.Redis.from_url(_address())
    try:
        counts = await client.pubsub_numsub(group_channel)
    finally:
        await client.aclose()
    return int(counts[0][1])


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[OnthaalChannelLayer, OnthaalChannelLayer]]:
    """Two layers with connections of their own, as two server processes."""
    a, b = _layer(), _layer()
    yield a, b
    await a.flush()
    await b.flush()


async def test_group_events_reach_every_member_in_order_once_each(two_processes):
    a, b = two_processes
    on_a, also_on_a, on_b = await a.new_channel(), await a.new_channel(), await b.new_channel()
    for layer, channel in ((a, on_a), (a, also_on_a), (b, on_b)):
        await layer.group_add("room", channel)

    for n in range(200):
        await (a if n % 2 else b).group_send("room", {"type": "n", "n": n})

    for layer, channel in ((a, on_a), (a, also_on_a), (b, on_b)):
        got = [(await layer.receive(channel))["n"] for _ in range(200)]
        assert got == list(range(200))
        assert await _nothing_more(layer, channel)

    await a.group_discard("room", on_a)
    await b.group_send("room", {"type": "n", "n": 200})
    assert (await _receives(a, also_on_a))["n"] == 200
    assert await _nothing_more(a, on_a)


async def _kill_connections(kind: str, command: str | None = None) -> None:
    """Have Redis drop this test database's connections of ``kind``
    (``normal`` or ``pubsub``), those whose last command was ``command`` if given."""
    client = redis.asyncio.Redis.from_url(_address())
    try:
        ours = [c for c in await client.client_list(_type=kind) if c["db"] == str(REDIS_DB)]
        ours = [c for c in ours if command is None or c["cmd"] == command]
        assert ours
        for connection in ours:
            await client.client_kill_filter(_id=connection["id"])
    finally:
        await client.aclose()


async def test_publishes_made_at_once_share_batches_and_keep_their_order(two_processes):
    a, b = two_processes
    channel = await b.new_channel()
    await b.group_add("room", channel)
    batches = 0
    client = a._get_layer()._shards[0]
    original = client._publish

    async def counting(batch):
        nonlocal batches
        batches += 1
        return await original(batch)

    client._publish = counting
    await asyncio.gather(*(a.group_send("room", {"type": "n", "n": n}) for n in range(300)))

    assert [(await b.receive(channel))["n"] for _ in range(300)] == list(range(300))
    assert batches < 30  # round trips for 300 events (one at a time before)


async def test_publishing_carries_on_after_redis_drops_the_connection(two_processes):
    a, b = two_processes
    channel = await b.new_channel()
    await b.group_add("room", channel)
    await a.group_send("room", {"type": "n", "n": 0})
    assert (await b.receive(channel))["n"] == 0

    # The publishing connections of this test's database (not subscribers).
    await _kill_connections("normal", command="publish")

    # A batch on the dropped connection fails (its sender sees the error);
    # the next goes out on a new connection, in order.
    failures = 0
    async with asyncio.timeout(15):
        while True:
            try:
                await a.group_send("room", {"type": "n", "n": 1})
                break
            except (redis.exceptions.ConnectionError, ConnectionError):
                failures += 1
    for m in (2, 3):
        await a.group_send("room", {"type": "n", "n": m})
    assert [(await b.receive(channel))["n"] for _ in range(3)] == [1, 2, 3]
    assert failures <= 1


async def test_a_direct_send_reaches_a_channel_of_another_process(two_processes):
    a, b = two_processes
    channel = await b.new_channel()
    await a.send(channel, {"type": "hello", "to": "b"})
    assert await _receives(b, channel) == {"type": "hello", "to": "b"}


async def test_a_group_event_is_decoded_once_per_process(two_processes):
    """2,500 waiting visitors on one process share one queue broadcast:
    decoding it for each of them cost seconds (docs/performance.md)."""
    a, b = two_processes
    members = [await a.new_channel() for _ in range(3)]
    for channel in members:
        await a.group_add("queue", channel)
    decoded = 0
    original = a.deserialize

    def counting(data: bytes) -> dict:
        nonlocal decoded
        decoded += 1
        return original(data)

    a.deserialize = counting
    await b.group_send("queue", {"type": "queue.positions", "keys": list(range(1000))})
    events = [await a.receive(channel) for channel in members]

    assert decoded == 1
    assert events[0]["keys"] == list(range(1000))
    assert all(event is events[0] for event in events)


class _Sink:
    """A consumer's inbox as the layer sees it (new_channel_to)."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[dict] = []
        self.fail = fail

    def put_nowait(self, event: dict) -> None:
        if self.fail:
            raise RuntimeError("a broken sink")
        self.events.append(event)

    async def wait_for(self, count: int) -> list[dict]:
        for _ in range(40):
            if len(self.events) >= count:
                break
            await asyncio.sleep(0.025)
        return self.events


async def test_a_sink_gets_its_channels_events_as_they_arrive(two_processes):
    """A consumer with a sink takes its events straight from the reading task,
    group events and direct sends, in order; one broken sink costs the
    other members nothing."""
    a, b = two_processes
    sink, broken, queued = _Sink(), _Sink(fail=True), await a.new_channel()
    channel = await a.new_channel_to(sink)
    await a.group_add("room", channel)
    await a.group_add("room", await a.new_channel_to(broken))
    await a.group_add("room", queued)
    for n in range(3):
        await b.group_send("room", {"type": "chat", "n": n})
    await b.send(channel, {"type": "direct"})

    events = await sink.wait_for(4)

    assert [event.get("n") for event in events] == [0, 1, 2, None]
    assert events[3] == {"type": "direct"}
    assert [(await _receives(a, queued))["n"] for _ in range(3)] == [0, 1, 2]


async def test_an_event_delivered_here_reaches_this_process_at_once_and_others_through_redis(
    two_processes,
):
    """A stored chat message skips the round trip through Redis for the
    members in its own process (two of six process hops), and still reaches
    every member of every process exactly once."""
    a, b = two_processes
    here, also_here, there = _Sink(), _Sink(), _Sink()
    for layer, sink in ((a, here), (a, also_here), (b, there)):
        await layer.group_add("room", await layer.new_channel_to(sink))
    event = {"type": "message.new", "message": {"id": 1}}

    marked = a.deliver_here("room", event)

    assert here.events == [event] and also_here.events == [event]  # before any await
    await a.group_send("room", marked)
    assert await there.wait_for(1) == [event]  # the marks are taken off
    await b.group_send("room", {"type": "after"})  # comes back after it
    assert [e["type"] for e in await here.wait_for(2)] == ["message.new", "after"]
    assert [e["type"] for e in await there.wait_for(2)] == ["message.new", "after"]


async def test_an_event_is_not_delivered_here_ahead_of_this_processs_earlier_one(two_processes):
    """While an earlier event of this process to the group is on its way
    through Redis, a later one takes the same way, behind it."""
    a, _b = two_processes
    sink = _Sink()
    await a.group_add("room", await a.new_channel_to(sink))
    earlier = asyncio.ensure_future(a.group_send("room", {"type": "typing"}))
    await asyncio.sleep(0)  # it is being published

    later = {"type": "message.new", "message": {"id": 2}}
    marked = a.deliver_here("room", later)

    assert marked is later and sink.events == []
    await earlier
    await a.group_send("room", marked)
    assert [e["type"] for e in await sink.wait_for(2)] == ["typing", "message.new"]
    # Both came back: the next one is delivered here again.
    a.deliver_here("room", {"type": "receipt"})
    assert [e["type"] for e in sink.events] == ["typing", "message.new", "receipt"]


async def test_an_event_that_never_comes_back_holds_the_way_for_a_moment_only(
    two_processes, monkeypatch
):
    """An event of this process lost on its way (Redis dropped the
    connection) is waited for READ_BACK_SECONDS at most."""
    a, _b = two_processes
    sink = _Sink()
    await a.group_add("room", await a.new_channel_to(sink))
    monkeypatch.setattr(channel_layer, "READ_BACK_SECONDS", 0.3)
    monkeypatch.setattr(a._get_layer(), "read_back", lambda *args: None)  # as if lost
    await a.group_send("room", {"type": "lost"})
    await sink.wait_for(1)

    assert a.deliver_here("room", {"type": "held"}) == {"type": "held"}
    await asyncio.sleep(0.35)
    a.deliver_here("room", {"type": "here"})
    assert [e["type"] for e in sink.events] == ["lost", "here"]


async def test_a_broadcast_from_the_loop_is_delivered_here_only_with_nothing_queued_before_it(
    two_processes, monkeypatch
):
    """onthaal/broadcast.py: a committed message goes to this process's
    members at once, unless a send to its group is still queued here."""
    a, b = two_processes
    here, there = _Sink(), _Sink()
    await a.group_add("room", await a.new_channel_to(here))
    await b.group_add("room", await b.new_channel_to(there))
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: a)

    broadcast.send_from_loop("room", {"type": "message.new", "n": 1})
    broadcast.send_from_loop("room", {"type": "message.new", "n": 2})

    assert [e["n"] for e in here.events] == [1]  # the second waits its turn
    assert [e["n"] for e in await here.wait_for(2)] == [1, 2]
    assert [e["n"] for e in await there.wait_for(2)] == [1, 2]
    await asyncio.sleep(0.2)
    assert len(here.events) == 2 and len(there.events) == 2


async def test_closing_a_sinks_channel_ends_its_subscriptions(two_processes):
    a, b = two_processes
    sink = _Sink()
    channel = await a.new_channel_to(sink)
    await a.group_add("room", channel)
    assert await _subscriptions(channel) == 1

    await a.group_discard("room", channel)
    await a.close_channel(channel)
    await b.send(channel, {"type": "late"})
    await b.group_send("room", {"type": "late"})

    assert await _subscriptions(channel) == 0
    assert await _subscriptions("t-ops__group__room") == 0
    assert await sink.wait_for(1) == []
    await a.close_channel(channel)  # twice: nothing left to do


async def test_the_memberships_of_a_process_end_with_it(two_processes):
    """A killed process leaves nothing that later broadcasts must go through
    (the default layer kept its channels in the group for group_expiry)."""
    a, _b = two_processes
    dying = _layer()
    await a.group_add("room", await a.new_channel())
    await dying.group_add("room", await dying.new_channel())
    assert await _subscriptions("t-ops__group__room") == 2

    await dying.flush()  # its connection closes, as when the process dies

    assert await _subscriptions("t-ops__group__room") == 1


async def test_the_layer_carries_on_after_redis_drops_its_connection(two_processes):
    a, b = two_processes
    channel = await a.new_channel()
    await a.group_add("room", channel)
    await b.group_send("room", {"type": "n", "n": 0})
    assert (await _receives(a, channel))["n"] == 0

    # The subscribers of this test's database only.
    await _kill_connections("pubsub")

    # It reconnects and subscribes again by itself; events published while
    # it was away are gone (pages resume with after=), later ones arrive.
    n = 0
    async with asyncio.timeout(15):
        while True:
            n += 1
            await b.group_send("room", {"type": "n", "n": n})
            first = await _receives(a, channel)
            if first is not None:
                break
    for m in range(n + 1, n + 4):
        await b.group_send("room", {"type": "n", "n": m})
    # Every event after the first to arrive, in order (that first one may be
    # an earlier send than the last, published as the subscription returned).
    expected = list(range(first["n"] + 1, n + 4))
    assert [(await _receives(a, channel))["n"] for _ in expected] == expected
    assert await _nothing_more(a, channel)


async def test_the_publishing_socket_is_closed_even_when_its_disconnect_fails(
    two_processes, monkeypatch, caplog
):
    first, second = two_processes
    await second.group_add("t-close", await second.new_channel())
    await first.group_send("t-close", {"type": "chat.message", "n": 1})
    shard = first._get_layer()._shards[0]
    connection = shard._publisher
    transport = connection._writer.transport

    async def fails(*args, **kwargs):
        raise TimeoutError

    monkeypatch.setattr(shard._publisher_pool, "disconnect", fails)
    await shard._close_publisher()

    assert transport.is_closing()
    assert shard._publisher is None
    assert "closing the publishing connection failed (TimeoutError)" in caplog.text
    # The next publish opens a new connection.
    await first.group_send("t-close", {"type": "chat.message", "n": 2})
    assert shard._publisher is not connection


def test_closing_a_loop_closes_the_connections_of_publishes_made_while_it_closes() -> None:
    # A server thread's broadcast can reach the loop while it closes (after
    # its tasks were cancelled): the layer's close-time flush must still
    # leave no connection open, or the garbage collector finds its socket
    # later, in some other test, as an unclosed socket (a ResourceWarning).
    layer = _layer()
    loop = asyncio.new_event_loop()
    shards: list[Any] = []

    async def publish(n: int) -> None:
        shards.append(layer._get_layer()._shards[0])
        await layer.group_send("t-closing", {"type": "chat.message", "n": n})

    async def while_closing() -> None:
        while loop in layer._layers:  # until the close-time flush begins
            await asyncio.sleep(0)
        await publish(2)

    loop.run_until_complete(publish(1))
    task = loop.create_task(while_closing())
    loop.close()

    assert loop.is_closed()
    assert not layer._layers
    assert len(shards) == 2 and shards[0] is not shards[1]
    assert all(shard._publisher is None and shard._sender is None for shard in shards)
    assert task.done()  # its publish was cancelled, not left pending
    left_open: list[Any] = []
    hook, sys.unraisablehook = sys.unraisablehook, left_open.append
    try:
        del task
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert not [u for u in left_open if issubclass(u.exc_type, ResourceWarning)]
