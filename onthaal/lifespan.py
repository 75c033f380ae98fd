"""ASGI lifespan: runs the conversation sweeper beside the server, and with
``ONTHAAL_ASSIGNMENT=auto`` the assignment rounds.

Every server process runs one sweeper; ``conversations_sweep`` uses
conditional updates, so several processes sweeping at once is safe. The same
holds for ``offers_assign`` (onthaal/assignment/services.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

logger = logging.getLogger("onthaal.sweeper")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


PURGE_INTERVAL_SECONDS = 3600
# How often each process runs an assignment round (auto mode): offers expire
# at most this late, and a visitor whose offer lapsed is offered again this soon.
ASSIGN_INTERVAL_SECONDS = 2.0


async def assign_forever(interval: float) -> None:
    """Expire unanswered offers and offer the queue every ``interval`` seconds.

    Queue changes also start a round at once (``assignment_kick``); this loop
    catches time-outs and operators who became available.
    """
    from onthaal.assignment.services import offers_assign

    while True:
        try:
            await database_sync_to_async(offers_assign)()
        except Exception:
            logger.exception("assignment round failed; trying again next round")
        await asyncio.sleep(interval)


async def sweep_forever(interval: float) -> None:
    """End abandoned conversations every ``interval`` seconds, and purge
    transcripts past their retention period once an hour."""
    from onthaal.chat.retention import transcripts_purge
    from onthaal.chat.services import conversations_sweep

    loop = asyncio.get_running_loop()
    next_purge = loop.time()
    while True:
        try:
            ended = await database_sync_to_async(conversations_sweep)()
            if ended:
                logger.info("sweeper ended %s conversations", ended)
            if loop.time() >= next_purge:
                next_purge = loop.time() + PURGE_INTERVAL_SECONDS
                await database_sync_to_async(transcripts_purge)()
        except Exception:
            logger.exception("sweep failed; trying again next round")
        await asyncio.sleep(interval)


class LifespanApp:
    """Wraps the Channels router: answers ``lifespan`` and starts the sweeper."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        tasks: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                tasks.append(
                    asyncio.create_task(sweep_forever(settings.ONTHAAL_SWEEP_INTERVAL_SECONDS))
                )
                if settings.ONTHAAL_ASSIGNMENT == "auto":
                    tasks.append(asyncio.create_task(assign_forever(ASSIGN_INTERVAL_SECONDS)))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await send({"type": "lifespan.shutdown.complete"})
                return
