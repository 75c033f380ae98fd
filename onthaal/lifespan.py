"""ASGI lifespan: runs the conversation sweeper beside the server.

Every server process runs one sweeper; ``conversations_sweep`` uses
conditional updates, so several processes sweeping at once is safe.
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
        task: asyncio.Task[None] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                task = asyncio.create_task(sweep_forever(settings.ONTHAAL_SWEEP_INTERVAL_SECONDS))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await send({"type": "lifespan.shutdown.complete"})
                return
