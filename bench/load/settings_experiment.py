"""Experiments, not a configuration to deploy: Onthaal's settings with one or
two changes the load benchmark measures the effect of.

``python -m bench.load`` starts its servers with
``DJANGO_SETTINGS_MODULE=bench.load.settings_experiment`` when asked to:

- ``--redis-socket-timeout S`` (ONTHAAL_BENCH_REDIS_SOCKET_TIMEOUT): the
  channel layer's Redis connections get socket_timeout S. redis-py 8
  defaults to 5 s, as long as channels-redis' blocking wait for the next
  event, so an idle consumer dies every 5 s (django/channels_redis#422).
- ``--persistent-db`` (ONTHAAL_BENCH_CONN_MAX_AGE): keep database
  connections open (``CONN_MAX_AGE``) instead of opening a PostgreSQL
  connection for every ``database_sync_to_async`` call of a consumer.
  Under ASGI every HTTP request runs in a thread of its own, so for HTTP a
  connection pool (Django's ``"pool"`` option, psycopg_pool) is the real
  fix, and since issue 4 the default on PostgreSQL; this experiment puts
  persistent connections in the pool's place, for comparison.
- ``--db-threads N`` (ONTHAAL_BENCH_DB_THREADS): how many threads run the
  consumers' database calls (onthaal/ops/dbcalls.py; default 1).
- ``--channel-layer core|pubsub`` (ONTHAAL_BENCH_CHANNEL_LAYER): in place
  of Onthaal's layer (onthaal/ops/channel_layer.py), channels-redis' default
  layer (``core``: sorted sets per process and group, as Onthaal used until
  issue 4's second round, with its capacity of 10,000 and a group expiry of
  an hour) or its pub/sub layer unchanged (``pubsub``: decodes a group event
  once per member).

See docs/performance.md ("Load").
"""

import os

from onthaal.settings import *  # noqa: F403
from onthaal.settings import CHANNEL_LAYERS, CONFIG, DATABASES

_socket_timeout = os.environ.get("ONTHAAL_BENCH_REDIS_SOCKET_TIMEOUT")
if _socket_timeout and CONFIG.redis_url:
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
        {"address": CONFIG.redis_url, "socket_timeout": float(_socket_timeout)}
    ]

_conn_max_age = os.environ.get("ONTHAAL_BENCH_CONN_MAX_AGE")
if _conn_max_age:
    DATABASES["default"]["CONN_MAX_AGE"] = int(_conn_max_age)
    # Instead of the pool (Django refuses both at once).
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
    # No health check: Channels closes "old" connections around every
    # database_sync_to_async call, so Django would run its check query
    # before nearly every consumer call (a sixth of the database thread's
    # time in a profile). A dropped connection then fails one call and is
    # replaced at the next.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

# How many threads run the consumers' database calls (onthaal/ops/dbcalls.py).
_db_threads = os.environ.get("ONTHAAL_BENCH_DB_THREADS")
if _db_threads:
    ONTHAAL_DATABASE_THREADS = int(_db_threads)

_layer = os.environ.get("ONTHAAL_BENCH_CHANNEL_LAYER")
if _layer == "pubsub" and CONFIG.redis_url:
    CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.pubsub.RedisPubSubChannelLayer"
elif _layer == "core" and CONFIG.redis_url:
    CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.core.RedisChannelLayer"
    CHANNEL_LAYERS["default"]["CONFIG"].update(group_expiry=3600, capacity=10_000)
