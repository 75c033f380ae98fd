"""Encryption of message text at rest.

``ONTHAAL_MESSAGE_KEYS`` holds one or more keys (each 32 random bytes,
url-safe base64: the format of Fernet keys, ``onthaal messagekey new``); the
first encrypts, every one decrypts, so a key can be rotated: put the new key
first, run ``onthaal messagekey rotate`` (which reads every message with any
key and writes it back with the first), then drop the old key.

A stored value is ``enc2:`` and the url-safe base64 of a 12-byte random
nonce and the AES-256-GCM ciphertext with its tag. Each key's AES key is
derived from it with HKDF-SHA256. Values written before (``enc1:``, Fernet:
AES-128-CBC + HMAC-SHA256 with the same keys) still read, and ``rotate``
rewrites them as ``enc2:``. AES-GCM with one reusable context per key costs
a message about a tenth of Fernet's CPU (which builds an OpenSSL cipher and
an HMAC for every value): on the server's path from a frame to its delivery
that was 0.1 ms (docs/performance.md, "Load").
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "enc2:"
PREFIX_FERNET = "enc1:"
NONCE_BYTES = 12
# The context of the derived keys, and the associated data of every value:
# a value of another format or purpose does not decrypt as this one.
_INFO = b"onthaal message text, AES-256-GCM"
_AAD = PREFIX.encode()


@lru_cache(maxsize=4)
def _ciphers(keys: tuple[str, ...]) -> tuple[tuple[AESGCM, ...], MultiFernet]:
    try:
        fernets = [Fernet(key.encode()) for key in keys]
        raw = [base64.urlsafe_b64decode(key.encode()) for key in keys]
    except ValueError as exc:
        raise ValueError(
            "ONTHAAL_MESSAGE_KEYS must be Fernet keys (32 url-safe base64 bytes)"
        ) from exc
    aes = tuple(
        AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key))
        for key in raw
    )
    return aes, MultiFernet(fernets)


def _keys() -> tuple[str, ...]:
    return tuple(settings.ONTHAAL_MESSAGE_KEYS)


def encrypt(text: str) -> str:
    aes, _fernet = _ciphers(_keys())
    nonce = os.urandom(NONCE_BYTES)
    sealed = aes[0].encrypt(nonce, text.encode(), _AAD)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str) -> str:
    """The plain text of a stored value; values from before encryption
    (without a prefix) are returned as they are."""
    if stored.startswith(PREFIX):
        aes, _fernet = _ciphers(_keys())
        try:
            data = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode())
        except ValueError as exc:
            raise _undecryptable() from exc
        nonce, sealed = data[:NONCE_BYTES], data[NONCE_BYTES:]
        for key in aes:
            try:
                return key.decrypt(nonce, sealed, _AAD).decode()
            except (InvalidTag, ValueError):
                continue
        raise _undecryptable()
    if stored.startswith(PREFIX_FERNET):
        _aes, fernet = _ciphers(_keys())
        try:
            return fernet.decrypt(stored[len(PREFIX_FERNET) :].encode()).decode()
        except InvalidToken as exc:
            raise _undecryptable() from exc
    return stored


def _undecryptable() -> ValueError:
    return ValueError("message text cannot be decrypted with ONTHAAL_MESSAGE_KEYS")


def new_key() -> str:
    return Fernet.generate_key().decode()
