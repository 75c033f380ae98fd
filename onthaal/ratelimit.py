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
        raise RateLimited(
            _("Even rustig aan: probeer het over een ogenblik opnieuw."),
            retry_after=window_seconds,
        )
