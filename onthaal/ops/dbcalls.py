"""Where the chat consumers' database calls run.

Channels' ``database_sync_to_async`` runs every call of every consumer of a
process in one thread, one after another: while one call waits for
PostgreSQL or Redis, every other socket's frame waits too (a third of that
thread's time went to waiting on PostgreSQL in a profile; docs/performance.md,
"Load"). On PostgreSQL with the connection pool, the calls here can run in
a few threads instead, each borrowing a pooled connection for the call. One
socket's frames still run one after another (a consumer awaits each), and
transactions keep concurrent writes correct, as between processes.

``ONTHAAL_DATABASE_THREADS`` threads (4 by default, at most half the pool):
in the load benchmark, once the per-message work had shrunk, the single
thread was the queue every frame waited in (1,000 chats: acknowledgement
p50 0.14 s with one thread, 0.02 s with four; docs/performance.md). SQLite
always keeps the single thread: one writer at a time is all it has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

# Without the setting (ONTHAAL_DATABASE_THREADS): threads per process, at
# most half the pool's connections, which the HTTP requests' threads share.
MAX_THREADS = 4

_executor: ThreadPoolExecutor | None = None


def _threads() -> int:
    settings_dict = connections["default"].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        return 1
    pool = (settings_dict.get("OPTIONS") or {}).get("pool")
    if not pool:
        return 1  # each thread would open a connection per call
    max_size = pool.get("max_size", 4) if isinstance(pool, dict) else 4
    most = getattr(settings, "ONTHAAL_DATABASE_THREADS", MAX_THREADS)
    return max(1, min(most, int(max_size) // 2))


def database_sync_to_async(func: Callable[..., Any]) -> Callable[..., Any]:
    """Channels' ``database_sync_to_async``, on a few threads where that is safe."""
    global _executor
    threads = _threads()
    if threads == 1:
        return DatabaseSyncToAsync(func, thread_sensitive=True)
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="onthaal-db")
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_executor)


def close_connections() -> None:
    """Close the database connections the threads hold now (if any is held:
    each call hands its connection back to the pool when it ends, but a
    thread keeps its connection object), and stop the threads; a later call
    starts new ones. For the end of a process or of a test run, which then
    drops the test database."""
    global _executor
    executor, _executor = _executor, None
    if executor is None:
        return
    workers = executor._max_workers
    # One task per thread: each waits until every thread has one.
    barrier = threading.Barrier(workers)

    def close_here() -> None:
        connections.close_all()
        barrier.wait(timeout=10)

    for future in [executor.submit(close_here) for _ in range(workers)]:
        future.result(timeout=15)
    executor.shutdown(wait=True)
