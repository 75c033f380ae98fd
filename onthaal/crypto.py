"""Encryption of message text at rest (Fernet: AES-128-CBC + HMAC-SHA256).

``ONTHAAL_MESSAGE_KEYS`` holds one or more keys; the first encrypts, every
one decrypts, so a key can be rotated: put the new key first, run
``onthaal messagekey rotate`` (which reads every message with any key and
writes it back with the first), then drop the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "enc1:"


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ValueError(
            "ONTHAAL_MESSAGE_KEYS must be Fernet keys (32 url-safe base64 bytes)"
        ) from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.ONTHAAL_MESSAGE_KEYS))


def encrypt(text: str) -> str:
    return PREFIX + cipher().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain text of a stored value; values from before encryption
    (without the prefix) are returned as they are."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return cipher().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("message text cannot be decrypted with ONTHAAL_MESSAGE_KEYS") from exc


def new_key() -> str:
    return Fernet.generate_key().decode()
