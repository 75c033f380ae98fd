"""Channel-layer sends that wait for the database commit.

Only services broadcast, and only after commit, so a client never sees a
change that the database then rolled back.

In a server process the services run in the database thread of
``database_sync_to_async``; there the send is handed to the event loop and
the thread goes on at once, instead of waiting (through ``async_to_sync``)
for the loop and Redis while every other consumer's database call queues
behind it (docs/performance.md, "Load"). Sends to one group go out one after
another in the order of the commits, so two messages of one conversation
cannot overtake each other; sends to different groups go out side by side,
at most ``MAX_CONCURRENT_SENDS`` at once (the Redis layer publishes all the
sends waiting at a moment in one pipeline: onthaal/ops/channel_layer.py).
Without a server loop (a management command, a test's own code) the send
happens in place, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections import deque
from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("onthaal.broadcast")

Payload = dict[str, Any]


class _Outbox:
    """The sends a loop still has to make to one group, in commit order."""

    def __init__(self) -> None:
        self.pending: deque[Payload] = deque()
        self.task: asyncio.Task[None] | None = None


MAX_CONCURRENT_SENDS = 256
# A state broadcast (coalesced_on_commit) goes out at most this often per key
# and process: a burst of changes costs one read.
COALESCE_SECONDS = 0.25

# Per event loop, per group with sends pending.
_outboxes: dict[asyncio.AbstractEventLoop, dict[str, _Outbox]] = {}
_limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
_coalescing: set[tuple[asyncio.AbstractEventLoop, str]] = set()


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that called this thread through ``sync_to_async``, if any."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(
        SyncToAsync.threadlocal, "main_event_loop", None
    )
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


async def _drain(
    outboxes: dict[str, _Outbox], group: str, outbox: _Outbox, limit: asyncio.Semaphore
) -> None:
    layer = get_channel_layer()
    try:
        while outbox.pending:
            payload = outbox.pending.popleft()
            if layer is None:
                continue
            try:
                async with limit:
                    await layer.group_send(group, payload)
            except Exception:
                # A lost broadcast is repaired by the client's resume
                # ("everything after id N") and by message_post re-sending
                # a duplicate; it must never undo a committed write.
                logger.exception("broadcast to %s failed", group)
    finally:
        outbox.task = None
        if not outbox.pending:
            outboxes.pop(group, None)


def _enqueue(loop: asyncio.AbstractEventLoop, group: str, payload: Payload) -> None:
    """On the loop: queue one send and start the group's sender if it is idle."""
    outboxes = _outboxes.get(loop)
    if outboxes is None:
        outboxes = _outboxes[loop] = {}
        # Forget the outboxes of loops that are gone (tests start many loops).
        for stale in [other for other in _outboxes if other.is_closed()]:
            _outboxes.pop(stale, None)
            _limits.pop(stale, None)
        _limits[loop] = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
    outbox = outboxes.get(group)
    if outbox is None:
        outbox = outboxes[group] = _Outbox()
    outbox.pending.append(payload)
    if outbox.task is None:
        outbox.task = loop.create_task(_drain(outboxes, group, outbox, _limits[loop]))


def send_now(group: str, payload: Payload) -> None:
    """Send ``payload`` to ``group`` now (no transaction involved)."""
    loop = _server_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_enqueue, loop, group, payload)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, payload)
    except Exception:
        logger.exception("broadcast to %s failed", group)


def send_from_loop(group: str, payload: Payload) -> bool:
    """From code on the server's event loop whose write has committed (a
    statement in autocommit: onthaal/ops/loopdb.py): queue the send to
    ``group`` behind the sends already queued for it.

    When none is queued, the Redis layer hands it to the group's members in
    this process at once (``deliver_here`` in onthaal/ops/channel_layer.py),
    and the send reaches only the other processes' members. Returns whether
    it did so."""
    loop = asyncio.get_running_loop()
    sent = payload
    if group not in _outboxes.get(loop, ()):
        deliver_here = getattr(get_channel_layer(), "deliver_here", None)
        if deliver_here is not None:
            sent = deliver_here(group, payload)
    _enqueue(loop, group, sent)
    return sent is not payload


def broadcast_on_commit(group: str, payload: Payload) -> None:
    """Send ``payload`` to ``group`` once the surrounding transaction commits."""
    transaction.on_commit(lambda: send_now(group, payload))


def coalesced_on_commit(key: str, func: Callable[[], None]) -> None:
    """Once the transaction commits, run ``func``, a synchronous function that
    reads a state and broadcasts it.

    In a server process, the changes of ``COALESCE_SECONDS`` share one run
    (in a database thread): ``func`` must read the state when it runs, not
    take it from its caller. A change committed after a run has started
    schedules another, so the last state always goes out. Elsewhere ``func``
    runs at once.
    """

    def after_commit() -> None:
        loop = _server_loop()
        if loop is None:
            func()
            return
        # A fresh context: the database thread's would make asgiref believe
        # the later database call runs inside this one (and refuse it).
        loop.call_soon_threadsafe(_coalesce, loop, key, func, context=contextvars.Context())

    transaction.on_commit(after_commit)


def _coalesce(loop: asyncio.AbstractEventLoop, key: str, func: Callable[[], None]) -> None:
    if (loop, key) in _coalescing:
        return
    _coalescing.add((loop, key))

    def fire() -> None:
        _coalescing.discard((loop, key))  # before the read: later changes schedule again
        loop.create_task(_run_in_database_thread(key, func))

    loop.call_later(COALESCE_SECONDS, fire)


async def _run_in_database_thread(key: str, func: Callable[[], None]) -> None:
    from onthaal.ops.dbcalls import database_sync_to_async

    try:
        await database_sync_to_async(func)()
    except Exception:
        logger.exception("coalesced broadcast %s failed", key)
