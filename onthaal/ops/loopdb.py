"""The chat's two hottest statements on PostgreSQL connections of the event
loop itself.

A chat message and a read receipt are each one statement (onthaal/chat/
services.py). Through ``database_sync_to_async`` each also paid a hop into
a database thread and back, a borrow from Django's pool and Django's cursor
layers: in a profile of the load benchmark about a quarter of a server
process's CPU went to that machinery, and the threads competed with the
event loop for the GIL (docs/performance.md, "Load"). Here the statement
runs on one of a few psycopg ``AsyncConnection``\\ s that belong to the event
loop, with server-side binding and prepared statements, so PostgreSQL parses
and plans it once per connection instead of once per message.

Only these statements come here: they are single statements in autocommit,
idempotent (a message by its ``client_id``, a receipt only moves forward),
and everything else, including their rare cases (a resend, a refusal, a
receipt that moves nothing), stays in the services on Django's connections.
A statement whose connection broke is tried once more on a new connection;
a second failure is raised to the consumer, as a failed database call was
before.

``ONTHAAL_DATABASE_LOOP_CONNECTIONS`` connections per event loop (2 by
default; 0 turns this off, and SQLite never uses it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

logger = logging.getLogger("onthaal.ops")

DEFAULT_CONNECTIONS = 2
# Seconds to open a connection before the statement fails.
CONNECT_TIMEOUT = 5


@functools.cache
def _on_postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


def enabled() -> bool:
    """Whether the hot statements run on the loop's own connections."""
    if not _on_postgresql():
        return False
    return bool(getattr(settings, "ONTHAAL_DATABASE_LOOP_CONNECTIONS", DEFAULT_CONNECTIONS))


def _connect_kwargs() -> dict[str, Any]:
    """Django's connection parameters (the test database's during tests),
    without what only Django's own connections take."""
    params = dict(connections["default"].get_connection_params())
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return params


class _Connections:
    """The connections of one event loop; a statement goes to the one with
    the fewest statements in flight (psycopg runs one at a time on each)."""

    def __init__(self, size: int) -> None:
        self.slots: list[psycopg.AsyncConnection[Any] | None] = [None] * size
        self.busy = [0] * size
        self.opening: list[asyncio.Future[psycopg.AsyncConnection[Any]] | None] = [None] * size

    def pick(self) -> int:
        return min(range(len(self.slots)), key=self.busy.__getitem__)

    async def get(self, index: int) -> psycopg.AsyncConnection[Any]:
        conn = self.slots[index]
        if conn is not None and not conn.closed:
            return conn
        opening = self.opening[index]
        if opening is None:
            opening = self.opening[index] = asyncio.ensure_future(self._open())
        try:
            conn = await asyncio.shield(opening)
        except BaseException:
            if opening.done():
                self.opening[index] = None
            raise
        self.opening[index] = None
        self.slots[index] = conn
        return conn

    @staticmethod
    async def _open() -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            **_connect_kwargs(), autocommit=True, prepare_threshold=0
        )
        return conn

    def drop(self, index: int, conn: psycopg.AsyncConnection[Any]) -> None:
        if self.slots[index] is conn:
            self.slots[index] = None
        _close_quietly(conn)


def _close_quietly(conn: psycopg.AsyncConnection[Any]) -> None:
    """Close without awaiting (the loop may be gone): the socket closes now."""
    try:
        conn.pgconn.finish()
    except Exception:  # already closed
        logger.debug("closing a loop connection failed", exc_info=True)


_loops: dict[asyncio.AbstractEventLoop, _Connections] = {}


def _for_loop() -> _Connections:
    loop = asyncio.get_running_loop()
    pool = _loops.get(loop)
    if pool is None:
        # Forget (and close) the connections of loops that are gone: tests
        # start many loops.
        for stale in [other for other in _loops if other.is_closed()]:
            for conn in _loops.pop(stale).slots:
                if conn is not None:
                    _close_quietly(conn)
        size = getattr(settings, "ONTHAAL_DATABASE_LOOP_CONNECTIONS", DEFAULT_CONNECTIONS)
        pool = _loops[loop] = _Connections(max(1, int(size)))
    return pool


async def fetchone(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Run one statement in autocommit and return its first row, if any.

    Only for statements that may safely run twice: after a broken
    connection the statement is tried again once, on a new one.
    """
    pool = _for_loop()
    index = pool.pick()
    pool.busy[index] += 1
    try:
        for attempt in (1, 2):
            conn = await pool.get(index)
            try:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchone()
            except psycopg.OperationalError:
                if not (conn.broken or conn.closed):
                    # The statement failed on a live connection (e.g. a
                    # lock timeout): not a connection to replace.
                    raise
                pool.drop(index, conn)
                if attempt == 2:
                    raise
                logger.warning("a loop database connection broke; trying on a new one")
        return None  # not reached: the second attempt returns or raises
    finally:
        pool.busy[index] -= 1


def close_all() -> None:
    """Close every loop's connections now (the end of a test run, which then
    drops the test database)."""
    for pool in _loops.values():
        for conn in pool.slots:
            if conn is not None:
                _close_quietly(conn)
    _loops.clear()
