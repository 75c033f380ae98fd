"""Keyed hashes: of the visitor's returning-visitor key, and of the client's
network for the flood hold. Neither a raw key nor an IP address is stored.

- The returning-visitor key is hashed with HMAC-SHA256 under
  ``ONTHAAL_VISITOR_KEY``, or, when that is empty, under a key derived from
  the secret key. Changing either makes every stored hash useless: markings
  and blocks are then forgotten (docs/security.md).
- A network is hashed under a random *daily* salt that lives only in the
  cache and expires after that day (Europe/Brussels), so that yesterday's
  hashes cannot be recomputed from any address, not even with the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.errors import InvalidInput

# What visitor.js generates: 32 random bytes as 64 hex digits; other clients
# may send any 32–128 URL-safe characters.
VISITOR_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def _visitor_secret() -> bytes:
    configured = str(getattr(settings, "ONTHAAL_VISITOR_KEY", "") or "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"onthaal-visitor-key:" + settings.SECRET_KEY.encode()).digest()


def visitor_key_check(visitor_key: object) -> str:
    """The key as sent, or "" when none was sent; a malformed key is refused."""
    if visitor_key is None or visitor_key == "":
        return ""
    if not isinstance(visitor_key, str) or not VISITOR_KEY_RE.match(visitor_key):
        raise InvalidInput(
            _("De bezoekerssleutel is ongeldig."),
            code="invalid_visitor_key",
            fields={"visitor_key": "32–128 tekens: letters, cijfers, - of _"},
        )
    return visitor_key


def visitor_key_hash(visitor_key: str) -> str:
    """The stored form of a returning-visitor key (64 hex digits)."""
    return hmac.new(
        _visitor_secret(), b"visitor:" + visitor_key.encode(), hashlib.sha256
    ).hexdigest()


def network_of(address: str) -> str:
    """The network a client address stands for: an IPv4 address itself, the
    /64 prefix of an IPv6 address (one household or device gets a whole /64).
    "" for what is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def _day(now: datetime) -> str:
    return timezone.localtime(now).date().isoformat()


def _seconds_left_today(now: datetime) -> int:
    local = timezone.localtime(now)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))


def daily_salt(*, now: datetime) -> bytes:
    """Today's random salt. Made by whichever process needs it first
    (``cache.add`` decides, so that every process uses the same one with a
    shared cache) and expiring at midnight plus a minute; never written to
    the database."""
    key = f"safeguard:salt:{_day(now)}"
    cache.add(key, secrets.token_hex(32), timeout=_seconds_left_today(now) + 60)
    value = cache.get(key)
    if value is None:  # evicted between add and get: make a new one
        value = secrets.token_hex(32)
        cache.set(key, value, timeout=_seconds_left_today(now) + 60)
    return bytes.fromhex(str(value))


def network_hash(*, address: str, now: datetime) -> str:
    """A keyed hash of the client's network, valid for today only; "" when the
    address is not an address."""
    network = network_of(address)
    if not network:
        return ""
    return hmac.new(daily_salt(now=now), network.encode(), hashlib.sha256).hexdigest()[:32]
