"""Where the chat consumers' database calls run.

Channels' ``database_sync_to_async`` runs every call of every consumer of a
process in one thread, one after another: while one call waits for
PostgreSQL or Redis, every other socket's frame waits too (a third of that
thread's time went to waiting on PostgreSQL in a profile; docs/performance.md,
"Load"). On PostgreSQL with the connection pool, the calls here can run in
a few threads instead, each borrowing a pooled connection for the call. One
socket's frames still run one after another (a consumer awaits each), and
transactions keep concurrent writes correct, as between processes.

The default is still one thread (``MAX_THREADS``): in the load benchmark
four threads kept acknowledgements fast under overload but made deliveries
slower (the threads compete with the event loop for the GIL), and with four
threads the PostgreSQL test run left one connection open at its end (the
test database could not be dropped), which is not understood yet. The load
benchmark's ``--db-threads N`` (setting ``ONTHAAL_DATABASE_THREADS``) runs
more. SQLite always keeps the single thread: one writer at a time is all it
has.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

# Threads per process (at most half the pool's connections, which the HTTP
# requests' threads share); ONTHAAL_DATABASE_THREADS, a setting only the load
# benchmark's experiments set, overrides it.
MAX_THREADS = 1

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
