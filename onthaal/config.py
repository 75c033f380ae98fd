"""The one place that reads the environment.

Every setting Onthaal takes from the environment is read here and documented in
docs/operations.md (and .env.example). Other modules read Django settings, never
``os.environ``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A setting in the environment is missing or malformed."""


def _get(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = _get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = _get(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(name: str, default: list[str]) -> list[str]:
    raw = _get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _message_keys(*, debug: bool, secret_key: str) -> list[str]:
    """Fernet keys for message text at rest; the first encrypts, all decrypt.

    In development a key is derived from the secret key; a production start
    needs ONTHAAL_MESSAGE_KEYS, so that message text is never encrypted with
    a key that changes whenever the secret key does.
    """
    keys = _list("ONTHAAL_MESSAGE_KEYS", [])
    if keys:
        return keys
    if not debug:
        raise ConfigError(
            "ONTHAAL_MESSAGE_KEYS is not set. Generate a key with "
            "`onthaal messagekey new` and set it (comma-separate several keys "
            "to rotate: the first one encrypts)."
        )
    digest = hashlib.sha256(b"onthaal-message-key:" + secret_key.encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


@dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    database_url: str
    redis_url: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    data_dir: Path
    max_chats_per_operator: int
    reconnect_grace_seconds: int
    max_message_chars: int
    rate_conversations_per_hour: int
    rate_messages_per_minute: int
    sweep_interval_seconds: int
    quick_exit_url: str
    secure_cookies: bool
    time_zone: str
    transcript_retention_days: int
    message_keys: list[str]


_DEV_SECRET = "onthaal-insecure-development-key-do-not-use-in-production"


def load() -> Config:
    """Read the environment into a :class:`Config`.

    Without ``ONTHAAL_SECRET_KEY`` a development key is used, but only when
    ``ONTHAAL_DEBUG`` is true; a production start without a key refuses to run.
    """
    debug = _bool("ONTHAAL_DEBUG", False)
    secret_key = _get("ONTHAAL_SECRET_KEY")
    if not secret_key:
        if not debug:
            raise ConfigError(
                "ONTHAAL_SECRET_KEY is not set. Set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
                "or set ONTHAAL_DEBUG=true for a development run."
            )
        secret_key = _DEV_SECRET
    data_dir = Path(_get("ONTHAAL_DATA_DIR") or Path.cwd()).resolve()
    database_url = _get("ONTHAAL_DATABASE_URL") or f"sqlite:///{data_dir / 'onthaal.sqlite3'}"
    return Config(
        debug=debug,
        secret_key=secret_key,
        database_url=database_url,
        redis_url=_get("ONTHAAL_REDIS_URL"),
        allowed_hosts=_list("ONTHAAL_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"]),
        csrf_trusted_origins=_list("ONTHAAL_CSRF_TRUSTED_ORIGINS", []),
        data_dir=data_dir,
        max_chats_per_operator=_int("ONTHAAL_MAX_CHATS_PER_OPERATOR", 2, minimum=1),
        reconnect_grace_seconds=_int("ONTHAAL_RECONNECT_GRACE_SECONDS", 120, minimum=5),
        max_message_chars=_int("ONTHAAL_MAX_MESSAGE_CHARS", 4000, minimum=1),
        rate_conversations_per_hour=_int("ONTHAAL_RATE_CONVERSATIONS_PER_HOUR", 30, minimum=1),
        rate_messages_per_minute=_int("ONTHAAL_RATE_MESSAGES_PER_MINUTE", 30, minimum=1),
        sweep_interval_seconds=_int("ONTHAAL_SWEEP_INTERVAL_SECONDS", 10, minimum=1),
        quick_exit_url=_get("ONTHAAL_QUICK_EXIT_URL") or "https://www.google.be/",
        secure_cookies=_bool("ONTHAAL_SECURE_COOKIES", not debug),
        time_zone=_get("ONTHAAL_TIME_ZONE") or "Europe/Brussels",
        transcript_retention_days=_int("ONTHAAL_TRANSCRIPT_RETENTION_DAYS", 30, minimum=1),
        message_keys=_message_keys(debug=debug, secret_key=secret_key),
    )
