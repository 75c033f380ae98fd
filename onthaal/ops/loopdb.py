"""The chat's two hottest statements on PostgreSQL connections of the event
loop itself.

A chat message and a read receipt are each one statement (onthaal/chat/
services.py). Through ``database_sync_to_async`` each also paid a hop into
a database thread and back, a borrow from Django's pool and Django's cursor
layers: in a profile of the load benchmark about a quarter of a server
process's CPU went to that machinery, and the threads competed with the
event loop for the GIL (docs/performance.md, "Load"). Here the statement
runs on one of a few asyncpg connections that belong to the event loop, as
a prepared statement, so PostgreSQL parses and plans it once per connection
instead of once per message. asyncpg rather than psycopg's async
connection: its protocol layer is compiled, and a statement cost about
60 µs of the process's CPU against psycopg's 110–150 µs.

Only these statements come here: they are single statements in autocommit,
idempotent (a message by its ``client_id``, a receipt only moves forward),
and everything else, including their rare cases (a resend, a refusal, a
receipt that moves nothing), stays in the services on Django's connections.
A statement whose connection broke is tried once more on a new connection;
a second failure is raised to the consumer, as a failed database call was
before.

``ONTHAAL_DATABASE_LOOP_CONNECTIONS`` connections per event loop (2 by
default; 0 turns this off, and SQLite never uses it). Connection settings
come from Django's (``ONTHAAL_DATABASE_URL``); one that asyncpg does not
take (e.g. ``sslrootcert``) also turns this off, with a warning.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import shlex
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import asyncpg
from django.conf import settings
from django.db import connections

logger = logging.getLogger("onthaal.ops")

DEFAULT_CONNECTIONS = 2
# Seconds to open a connection before the statement fails.
CONNECT_TIMEOUT = 5
# libpq settings (Django's connection parameters) asyncpg takes, by its names.
_SAME = ("host", "port", "user", "password")
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@functools.cache
def _on_postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


def enabled() -> bool:
    """Whether the hot statements run on the loop's own connections."""
    if not _on_postgresql():
        return False
    if not getattr(settings, "ONTHAAL_DATABASE_LOOP_CONNECTIONS", DEFAULT_CONNECTIONS):
        return False
    return _connect_kwargs(_database_name()) is not None


def _database_name() -> str:
    # The test run's database replaces the configured one once: the
    # connection arguments are made for the name in use.
    return str(connections["default"].settings_dict["NAME"])


@functools.cache
def _connect_kwargs(database_name: str) -> dict[str, Any] | None:
    """asyncpg's arguments for Django's connection parameters, or None when
    one of them has no asyncpg equivalent here."""
    params = dict(connections["default"].get_connection_params())
    for django_only in ("cursor_factory", "context", "prepare_threshold", "client_encoding"):
        params.pop(django_only, None)
    kwargs: dict[str, Any] = {"timeout": CONNECT_TIMEOUT, "server_settings": {}}
    for name in _SAME:
        value = params.pop(name, None)
        if value not in (None, ""):
            kwargs[name] = value
    kwargs["database"] = params.pop("dbname", None)
    if "connect_timeout" in params:
        kwargs["timeout"] = float(params.pop("connect_timeout"))
    if "sslmode" in params:
        sslmode = str(params.pop("sslmode"))
        if sslmode not in _SSLMODES:
            return _unsupported("sslmode", sslmode)
        kwargs["ssl"] = sslmode
    if "application_name" in params:
        kwargs["server_settings"]["application_name"] = str(params.pop("application_name"))
    if "options" in params:
        # libpq's "-c name=value" list.
        words = shlex.split(str(params.pop("options")))
        pairs = [words[i + 1] for i in range(0, len(words) - 1, 2) if words[i] == "-c"]
        if len(pairs) * 2 != len(words) or not all(re.fullmatch(r"[\w.]+=.*", p) for p in pairs):
            return _unsupported("options", "")
        kwargs["server_settings"].update(pair.split("=", 1) for pair in pairs)
    if params:
        return _unsupported(", ".join(sorted(params)), "")
    return kwargs


def _unsupported(name: str, value: str) -> None:
    logger.warning(
        "database setting %s %s has no asyncpg equivalent here: the chat's hot "
        "statements run in the database threads (docs/operations.md)",
        name,
        value,
    )
    return None


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> str:
    """``%s`` placeholders (Django's, which the services write) as ``$1, $2, …``
    (the statements here hold no other ``%``)."""
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


class _Connections:
    """The connections of one event loop; a statement goes to the one with
    the fewest statements in flight or waiting (asyncpg runs one statement
    at a time on a connection)."""

    def __init__(self, size: int) -> None:
        self.slots: list[asyncpg.Connection | None] = [None] * size
        self.busy = [0] * size
        self.locks = [asyncio.Lock() for _ in range(size)]
        self.closer: AsyncGenerator[None, None] | None = None

    async def close_at_loop_end(self) -> None:
        """Close the connections when the loop ends: asyncio closes the
        async generators it has started at its end (``asyncio.run``, a test's
        loop), while the loop still runs."""
        if self.closer is None:
            self.closer = self._closing()
            await anext(self.closer)

    async def _closing(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            for conn in self.slots:
                if conn is not None:
                    conn.terminate()

    def pick(self) -> int:
        return min(range(len(self.slots)), key=self.busy.__getitem__)

    async def get(self, index: int) -> asyncpg.Connection:
        """The slot's connection, opened if needed (under the slot's lock)."""
        conn = self.slots[index]
        if conn is None or conn.is_closed():
            kwargs = _connect_kwargs(_database_name())
            assert kwargs is not None  # enabled() checked it
            conn = self.slots[index] = await asyncpg.connect(**kwargs)
        return conn

    def drop(self, index: int, conn: asyncpg.Connection) -> None:
        if self.slots[index] is conn:
            self.slots[index] = None
        _close_quietly(conn)


def _close_quietly(conn: asyncpg.Connection) -> None:
    """Close without awaiting (the socket closes now)."""
    try:
        conn.terminate()
    except Exception:  # its loop ended without closing it (see close_at_loop_end)
        logger.debug("terminating a loop connection failed", exc_info=True)


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
    """Run one statement (``%s`` placeholders) in autocommit and return its
    first row, if any.

    Only for statements that may safely run twice: after a broken
    connection the statement is tried again once, on a new one.
    """
    pool = _for_loop()
    if pool.closer is None:
        await pool.close_at_loop_end()
    index = pool.pick()
    query = _numbered(sql)
    pool.busy[index] += 1
    try:
        async with pool.locks[index]:
            for attempt in (1, 2):
                conn = await pool.get(index)
                try:
                    record = await conn.fetchrow(query, *params)
                except Exception:
                    if not conn.is_closed():
                        raise  # the statement failed, not the connection
                    pool.drop(index, conn)
                    if attempt == 2:
                        raise
                    logger.warning("a loop database connection broke; trying on a new one")
                    continue
                return None if record is None else tuple(record)
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
