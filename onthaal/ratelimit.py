"""Fixed-window rate limits kept in Django's cache (Redis in production).

Written here rather than taken from django-ratelimit because the limits are
also applied inside websocket consumers, which have no ``HttpRequest``, and
because the key must never hold an IP address: callers pass a key that is
hashed here with the secret key before it reaches the cache, and the entry
expires with its window.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from onthaal.errors import RateLimited


def _cache_key(scope: str, key: str, window: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()
    bucket = int(time.time()) // window
    return f"rl:{scope}:{digest[:32]}:{bucket}"


def rate_limit_hit(*, scope: str, key: str, limit: int, window_seconds: int) -> None:
    """Count one hit for ``key`` in ``scope``; raise :class:`RateLimited` past ``limit``."""
    cache_key = _cache_key(scope, key, window_seconds)
    cache.add(cache_key, 0, timeout=window_seconds + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 1)
        count = 1
    if count > limit:
        raise _refusal(window_seconds)


def _refusal(window_seconds: int) -> RateLimited:
    return RateLimited(
        _("Even rustig aan: probeer het over een ogenblik opnieuw."),
        retry_after=window_seconds,
    )


class LocalRateLimit:
    """The same fixed windows, counted in this process's memory only.

    For the websocket consumers' per-frame limits: a check costs no network
    round trip and no thread. The bound holds per process: with N server
    processes (and the HTTP API, counted in the cache) a client can reach at
    most N + 1 times the limit, which is still a bound. The keys are
    conversation ids and sides, never anything identifying a visitor, and
    they are forgotten when their window passes.
    """

    def __init__(self, *, limit_setting: str, window_seconds: int) -> None:
        self.limit_setting = limit_setting
        self.window_seconds = window_seconds
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> None:
        """Count one hit for ``key``; raise :class:`RateLimited` past the limit."""
        window = int(time.time()) // self.window_seconds
        if window != self._window:
            self._window = window
            self._counts.clear()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > getattr(settings, self.limit_setting):
            raise _refusal(self.window_seconds)

    def clear(self) -> None:
        self._counts.clear()
