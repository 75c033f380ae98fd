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
from urllib.parse import urlsplit


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


def _minutes(name: str, default: float) -> float:
    """A number of minutes, decimals allowed ("0.5" is half a minute), at least 0."""
    raw = _get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of minutes, got {raw!r}") from exc
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be 0 or more minutes, got {raw!r}")
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
    """Keys for message text at rest (Fernet's key format: onthaal/crypto.py);
    the first encrypts, all decrypt.

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
    metrics_token: str = ""
    log_format: str = "plain"
    # Passkeys and single sign-on (docs/security.md, "Signing in").
    webauthn_rp_id: str = ""
    webauthn_origins: tuple[str, ...] = ()
    # Adding or removing a passkey asks for a second factor given this recently.
    reauth_minutes: int = 5
    oidc: OidcConfig | None = None
    # Chat scans: an open review keeps a transcript at most this long after the chat.
    scan_hold_max_days: int = 90
    # The visitor in the queue is offered alternatives after this wait (0 = never).
    long_wait_minutes: float = 10.0
    # Returning visitors and prank calls (docs/security.md, "Returning visitors").
    visitor_key: str = ""
    prank_hold_max_days: int = 60
    prank_mark_days: int = 180
    flood_chats_per_hour: int = 10
    # Assignment (docs/operations.md, "Assignment and closing time").
    assignment: str = "manual"
    offer_timeout_seconds: int = 30
    closing_cutoff_minutes: int = 10
    # Scale (docs/operations.md, "Database connections and channel groups").
    database_pool_size: int = 10
    # Threads running the websocket consumers' database calls (PostgreSQL pool).
    database_threads: int = 4
    # PostgreSQL connections per event loop for the chat's hot statements
    # (onthaal/ops/loopdb.py); 0: those run in the database threads too.
    database_loop_connections: int = 2
    # permessage-deflate on the websockets (docs/operations.md).
    ws_compression: bool = False


LOG_FORMATS = ("plain", "json")
ASSIGNMENT_MODES = ("manual", "auto")


@dataclass(frozen=True)
class OidcConfig:
    """OpenID Connect single sign-on; ``None`` in :class:`Config` when off."""

    issuer: str
    client_id: str
    client_secret: str
    name: str
    scopes: tuple[str, ...]
    required_acr: tuple[str, ...]
    require_mfa: bool
    mfa_amr: tuple[str, ...]
    username_claim: str


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _oidc() -> OidcConfig | None:
    """Single sign-on is on when ONTHAAL_OIDC_ISSUER is set.

    The issuer must be https (its discovery document and keys decide who may
    sign in), except on loopback, where the tests run their own provider.
    """
    issuer = _get("ONTHAAL_OIDC_ISSUER").rstrip("/")
    if not issuer:
        return None
    parsed = urlsplit(issuer)
    if parsed.scheme != "https" and not (
        parsed.scheme == "http" and parsed.hostname in _LOOPBACK_HOSTS
    ):
        raise ConfigError(f"ONTHAAL_OIDC_ISSUER must be an https URL, got {issuer!r}")
    client_id = _get("ONTHAAL_OIDC_CLIENT_ID")
    if not client_id:
        raise ConfigError("ONTHAAL_OIDC_ISSUER is set but ONTHAAL_OIDC_CLIENT_ID is not")
    scopes = _list("ONTHAAL_OIDC_SCOPES", ["openid"])
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    mfa_amr = _list("ONTHAAL_OIDC_MFA_AMR", ["mfa"])
    return OidcConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret=_get("ONTHAAL_OIDC_CLIENT_SECRET"),
        name=_get("ONTHAAL_OIDC_NAME") or "single sign-on",
        scopes=tuple(scopes),
        required_acr=tuple(_list("ONTHAAL_OIDC_REQUIRED_ACR", [])),
        require_mfa=_bool("ONTHAAL_OIDC_REQUIRE_MFA", False),
        mfa_amr=tuple(mfa_amr),
        username_claim=_get("ONTHAAL_OIDC_USERNAME_CLAIM"),
    )


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
    log_format = _get("ONTHAAL_LOG_FORMAT").lower() or "plain"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"ONTHAAL_LOG_FORMAT must be plain or json, got {log_format!r}")
    assignment = _get("ONTHAAL_ASSIGNMENT").lower() or "manual"
    if assignment not in ASSIGNMENT_MODES:
        raise ConfigError(f"ONTHAAL_ASSIGNMENT must be manual or auto, got {assignment!r}")
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
        scan_hold_max_days=_int("ONTHAAL_SCAN_HOLD_MAX_DAYS", 90, minimum=1),
        long_wait_minutes=_minutes("ONTHAAL_LONG_WAIT_MINUTES", 10.0),
        visitor_key=_get("ONTHAAL_VISITOR_KEY"),
        prank_hold_max_days=_int("ONTHAAL_PRANK_HOLD_MAX_DAYS", 60, minimum=1),
        prank_mark_days=_int("ONTHAAL_PRANK_MARK_DAYS", 180, minimum=1),
        flood_chats_per_hour=_int("ONTHAAL_FLOOD_CHATS_PER_HOUR", 10, minimum=0),
        message_keys=_message_keys(debug=debug, secret_key=secret_key),
        metrics_token=_get("ONTHAAL_METRICS_TOKEN"),
        log_format=log_format,
        webauthn_rp_id=_get("ONTHAAL_WEBAUTHN_RP_ID"),
        webauthn_origins=tuple(_list("ONTHAAL_WEBAUTHN_ORIGIN", [])),
        reauth_minutes=_int("ONTHAAL_REAUTH_MINUTES", 5, minimum=1),
        oidc=_oidc(),
        assignment=assignment,
        offer_timeout_seconds=_int("ONTHAAL_OFFER_TIMEOUT_SECONDS", 30, minimum=5),
        closing_cutoff_minutes=_int("ONTHAAL_CLOSING_CUTOFF_MINUTES", 10, minimum=0),
        database_pool_size=_int("ONTHAAL_DATABASE_POOL_SIZE", 10, minimum=0),
        database_threads=_int("ONTHAAL_DATABASE_THREADS", 4, minimum=1),
        database_loop_connections=_int("ONTHAAL_DATABASE_LOOP_CONNECTIONS", 2, minimum=0),
        ws_compression=_bool("ONTHAAL_WS_COMPRESSION", False),
    )
