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
Statements that wait for a connection meanwhile go to PostgreSQL together,
in one round trip and one transaction (:class:`_Connections`).
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
import collections
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


# At most this many statements of one text go to PostgreSQL together.
MAX_BATCH = 32


@functools.lru_cache(maxsize=64)
def _tagged(sql: str) -> str:
    """A batchable statement's text as run: its ``RETURNING`` list ends with
    a last parameter, the statement's place in its batch, so that the rows
    of a batch find their statements (a statement may return no row)."""
    if " RETURNING " not in sql:
        raise ValueError("a batched statement returns its row with RETURNING")
    return _numbered(sql + ", %s::int")


class _Pending:
    """A statement waiting for a connection, and its caller's answer."""

    __slots__ = ("future", "order", "params", "query")

    def __init__(self, query: str, params: Sequence[Any], order: int | None) -> None:
        self.query = query
        self.params = params
        self.order = order
        self.future: asyncio.Future[tuple[Any, ...] | None] = (
            asyncio.get_running_loop().create_future()
        )

    def answer(self, row: tuple[Any, ...] | None) -> None:
        if not self.future.done():  # its caller may have gone (cancelled)
            self.future.set_result(row)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class _Connections:
    """The connections of one event loop, and the statements waiting for one.

    A free connection takes the oldest waiting statement and, when it is
    batchable, every other waiting statement of the same text (up to
    ``MAX_BATCH``): they go to PostgreSQL in one round trip and one
    transaction (asyncpg's ``fetchmany``). Under load this is what a
    statement costs most: a round trip, its system calls and a commit each
    (docs/performance.md, "Load"); with nothing waiting a statement runs
    alone at once.
    """

    def __init__(self, size: int) -> None:
        self.slots: list[asyncpg.Connection | None] = [None] * size
        self.idle = list(range(size))
        self.pending: collections.deque[_Pending] = collections.deque()
        self.servers: set[asyncio.Task[None]] = set()
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

    async def get(self, index: int) -> asyncpg.Connection:
        """The slot's connection, opened if needed."""
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

    def take(self) -> list[_Pending]:
        """The next batch: the oldest waiting statement, with the others of
        its text when it is batchable, in the order of their ``order`` keys
        (conversations: every batch locks their rows in the same order, so
        two batches cannot deadlock) and, within one key, as they came."""
        first = self.pending.popleft()
        if first.order is None:
            return [first]
        batch, others = [first], []
        while self.pending:
            item = self.pending.popleft()
            if item.query == first.query and len(batch) < MAX_BATCH:
                batch.append(item)
            else:
                others.append(item)
        self.pending.extend(others)
        batch.sort(key=lambda item: item.order or 0)
        return batch

    async def serve(self, index: int) -> None:
        """Run waiting statements on slot ``index`` until none waits."""
        try:
            while self.pending:
                await self._run(index, self.take())
        finally:
            self.idle.append(index)

    async def _run(self, index: int, batch: list[_Pending]) -> None:
        for attempt in (1, 2):
            conn: asyncpg.Connection | None = None
            try:
                conn = await self.get(index)
                rows = await _execute(conn, batch)
            except Exception as exc:
                if conn is not None and conn.is_closed():
                    self.drop(index, conn)
                    if attempt == 1:
                        logger.warning("a loop database connection broke; trying on a new one")
                        continue
                elif conn is not None and len(batch) > 1:
                    # One statement failed, and its batch (one transaction)
                    # with it: each again alone, for its own answer.
                    for item in batch:
                        await self._run(index, [item])
                    return
                for item in batch:
                    item.fail(exc)
                return
            for item, row in zip(batch, rows, strict=True):
                item.answer(row)
            return


async def _execute(conn: asyncpg.Connection, batch: list[_Pending]) -> list[tuple[Any, ...] | None]:
    """The batch's statements on ``conn``, one row (or None) for each."""
    if len(batch) == 1:
        item = batch[0]
        if item.order is None:
            record = await conn.fetchrow(item.query, *item.params)
            return [None if record is None else tuple(record)]
        record = await conn.fetchrow(item.query, *item.params, 0)
        return [None if record is None else tuple(record)[:-1]]
    records = await conn.fetchmany(
        batch[0].query, [(*item.params, place) for place, item in enumerate(batch)]
    )
    rows: list[tuple[Any, ...] | None] = [None] * len(batch)
    for record in records:
        values = tuple(record)
        rows[values[-1]] = values[:-1]
    return rows


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


async def fetchone(
    sql: str, params: Sequence[Any], *, order: int | None = None
) -> tuple[Any, ...] | None:
    """Run one statement (``%s`` placeholders) in autocommit, or in a batch
    with others, and return its first row, if any.

    Only for statements that may safely run twice: after a broken
    connection the statement is tried again once, on a new one. With
    ``order`` (the conversation's id) the statement may share a batch with
    others of the same text (see :class:`_Connections`); it must then
    return its row with ``RETURNING`` and lock no row but its
    conversation's.
    """
    pool = _for_loop()
    if pool.closer is None:
        await pool.close_at_loop_end()
    item = _Pending(_numbered(sql) if order is None else _tagged(sql), params, order)
    pool.pending.append(item)
    if pool.idle:
        # Started eagerly: with a free connection the statement is written
        # now. Its own task, so that a caller that goes away (cancelled)
        # takes no one else's statement with it.
        task = asyncio.Task(
            pool.serve(pool.idle.pop()), loop=asyncio.get_running_loop(), eager_start=True
        )
        if not task.done():
            pool.servers.add(task)  # the loop holds tasks weakly
            task.add_done_callback(pool.servers.discard)
    return await item.future


def close_all() -> None:
    """Close every loop's connections now (the end of a test run, which then
    drops the test database)."""
    for pool in _loops.values():
        for conn in pool.slots:
            if conn is not None:
                _close_quietly(conn)
    _loops.clear()
