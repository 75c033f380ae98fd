"""The flood hold: many new chats from one network in an hour are held back,
counted under a keyed hash whose key changes daily; no address is stored."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from onthaal.errors import RateLimited
from onthaal.safeguard import keys, services
from onthaal.safeguard.tests.conftest import new_key

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")


def intake(address: str, **headers: Any) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/conversations",
        {"visitor_key": new_key()},
        content_type="application/json",
        **headers,
    )


def test_a_network_past_the_limit_is_held_with_a_clear_message(
    chat_open: Any, settings: Any, frozen_rate_clock: None
) -> None:
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 3
    for _ in range(3):
        assert intake("192.0.2.10").status_code == 201
    held = intake("192.0.2.10")
    assert held.status_code == 429
    body = held.json()
    assert body["code"] == "flood_hold"
    assert body["message"].startswith("Er werden net veel chats gestart vanaf dit netwerk.")
    assert "1813" in body["message"]
    assert 0 < int(held["Retry-After"]) <= 3600
    # Another network is not affected.
    assert intake("192.0.2.11").status_code == 201


def test_a_forwarded_header_does_not_escape_the_hold(
    chat_open: Any, settings: Any, frozen_rate_clock: None
) -> None:
    """Behind a proxy, uvicorn (--forwarded-allow-ips) puts the client's
    address in REMOTE_ADDR; a header the client sets itself changes nothing."""
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 1
    assert intake("192.0.2.20", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 201
    assert intake("192.0.2.20", HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 429


def test_an_ipv6_network_is_its_slash_64(chat_open: Any, settings: Any) -> None:
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 2
    assert intake("2001:db8:1:2::1").status_code == 201
    assert intake("2001:db8:1:2:ffff::9").status_code == 201
    assert intake("2001:db8:1:2::abcd").status_code == 429
    assert intake("2001:db8:1:3::1").status_code == 201
    assert keys.network_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert keys.network_of("not an address") == ""


def test_zero_switches_the_hold_off(chat_open: Any, settings: Any) -> None:
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 0
    for _ in range(5):
        assert intake("192.0.2.30").status_code == 201


def test_the_hour_window_and_the_daily_rotation(settings: Any) -> None:
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 2
    monday = datetime(2026, 10, 5, 18, 10, tzinfo=BRUSSELS)
    for _ in range(2):
        services.intake_guard(visitor_key="", client_address="192.0.2.40", now=monday)
    with pytest.raises(RateLimited):
        services.intake_guard(visitor_key="", client_address="192.0.2.40", now=monday)
    # The next hour counts afresh.
    services.intake_guard(
        visitor_key="", client_address="192.0.2.40", now=monday + timedelta(hours=1)
    )
    # Each day has its own random key: the same network hashes differently.
    tuesday = monday + timedelta(days=1)
    assert keys.network_hash(address="192.0.2.40", now=monday) == keys.network_hash(
        address="192.0.2.40", now=monday + timedelta(hours=5)
    )
    assert keys.network_hash(address="192.0.2.40", now=monday) != keys.network_hash(
        address="192.0.2.40", now=tuesday
    )


def test_the_daily_key_lives_only_in_the_cache_until_the_day_ends(chat_open: Any) -> None:
    from django.utils import timezone

    now = timezone.now()
    before = keys.network_hash(address="192.0.2.50", now=now)
    salt_key = f"safeguard:salt:{timezone.localtime(now).date().isoformat()}"
    # Expires at midnight (plus a minute), not later.
    local = timezone.localtime(now)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert _seconds_left(salt_key) <= (midnight - local).total_seconds() + 61
    # Not in the database.
    assert intake("192.0.2.50").status_code == 201
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    salt = cache.get(salt_key)
    assert salt not in dump.getvalue()
    # Once the key has gone, the old hash cannot be made again.
    cache.delete(salt_key)
    assert keys.network_hash(address="192.0.2.50", now=now) != before


def test_no_address_is_kept_anywhere(chat_open: Any, settings: Any) -> None:
    address = "192.0.2.77"
    assert intake(address).status_code == 201
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert address not in dump.getvalue()
    stored = _cache_items()
    assert stored  # the flood counts are there
    assert all(address.encode() not in key for key in stored)
    assert all(address.encode() not in value for value in stored.values())


def _redis_client() -> Any:
    """The Redis client behind Django's RedisCache (PostgreSQL + Redis runs),
    or None for the in-memory cache."""
    backend = getattr(cache, "_cache", None)
    return backend.get_client() if hasattr(backend, "get_client") else None


def _seconds_left(key: str) -> float:
    """How long ``key`` stays in the cache, on either backend."""
    client = _redis_client()
    if client is not None:
        return float(client.ttl(cache.make_key(key)))
    expires = cache._expire_info[cache.make_key(key)]  # type: ignore[attr-defined]
    return float(expires - time.time())


def _cache_items() -> dict[bytes, bytes]:
    """Every key and raw stored value in the cache, on either backend."""
    client = _redis_client()
    if client is not None:
        return {
            key: (client.get(key) or b"") if client.type(key) == b"string" else b""
            for key in client.scan_iter(match="*")
        }
    return {
        key.encode(): value
        for key, value in cache._cache.items()  # type: ignore[attr-defined]
    }
