"""Django settings, built from the environment by :mod:`onthaal.config`."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from onthaal import config as _config

CONFIG = _config.load()

BASE_DIR = Path(__file__).resolve().parent

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "onthaal.staff",
    "onthaal.hours",
    "onthaal.chat",
    "onthaal.registration",
    "onthaal.stats",
    "onthaal.audit",
    "onthaal.history",
    "onthaal.quality",
    "onthaal.shifts",
    "onthaal.safeguard",
    "onthaal.supervision",
    "onthaal.toolkit",
    "onthaal.assignment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "onthaal.urls"
ASGI_APPLICATION = "onthaal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the websocket consumers read while another thread writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    CONFIG.database_pool_size
):
    # A pool (psycopg_pool) instead of a new PostgreSQL connection for every
    # request and every consumer call (fork + authentication: ~25 ms each).
    # Channels "closes" the connection around each database_sync_to_async
    # call: with the pool that only hands it back. Not CONN_MAX_AGE: under
    # ASGI every HTTP request runs in a thread of its own, and idle per-thread
    # connections used up PostgreSQL's slots (docs/performance.md, "Load").
    # Each process holds at most ONTHAAL_DATABASE_POOL_SIZE connections.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, CONFIG.database_pool_size),
        "max_size": CONFIG.database_pool_size,
        # Seconds a request waits for a free connection; also how soon it
        # fails when PostgreSQL is down (/healthz answers 503 within it).
        "timeout": 5,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:console"
LOGOUT_REDIRECT_URL = "staff:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if CONFIG.redis_url:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis' pub/sub layer, decoding each event once per
            # process (onthaal/ops/channel_layer.py; docs/performance.md).
            "BACKEND": "onthaal.ops.channel_layer.OnthaalChannelLayer",
            # A Redis that stops answering is noticed within 10 s.
            "CONFIG": {"hosts": [{"address": CONFIG.redis_url, "socket_timeout": 10}]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG.redis_url,
            "KEY_PREFIX": "onthaal",
        }
    }
else:
    # Single process only: the in-memory layer does not cross processes.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "nl-be"
LANGUAGES = [("nl-be", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the source folders: no collectstatic step for self-hosters.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
SESSION_COOKIE_AGE = 12 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: no referrer leaves the site, yet form POSTs keep their Origin
# (with no-referrer, browsers send "Origin: null" and CSRF checks fail).
SECURE_REFERRER_POLICY = "same-origin"
# Pages load only their own scripts and styles; no inline script runs, so HTML
# that slipped into a message could not execute even if escaping failed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Onthaal's own knobs (see docs/operations.md).
ONTHAAL_MAX_CHATS_PER_OPERATOR = CONFIG.max_chats_per_operator
ONTHAAL_RECONNECT_GRACE_SECONDS = CONFIG.reconnect_grace_seconds
ONTHAAL_MAX_MESSAGE_CHARS = CONFIG.max_message_chars
ONTHAAL_RATE_CONVERSATIONS_PER_HOUR = CONFIG.rate_conversations_per_hour
ONTHAAL_RATE_MESSAGES_PER_MINUTE = CONFIG.rate_messages_per_minute
# Threads for the consumers' database calls (onthaal/ops/dbcalls.py).
ONTHAAL_DATABASE_THREADS = CONFIG.database_threads
ONTHAAL_DATABASE_LOOP_CONNECTIONS = CONFIG.database_loop_connections
ONTHAAL_SWEEP_INTERVAL_SECONDS = CONFIG.sweep_interval_seconds
# manual: operators take chats from the queue; auto: the queue is also offered
# to the least-loaded available operator (onthaal/assignment).
ONTHAAL_ASSIGNMENT = CONFIG.assignment
ONTHAAL_OFFER_TIMEOUT_SECONDS = CONFIG.offer_timeout_seconds
ONTHAAL_CLOSING_CUTOFF_MINUTES = CONFIG.closing_cutoff_minutes
ONTHAAL_QUICK_EXIT_URL = CONFIG.quick_exit_url
ONTHAAL_TRANSCRIPT_RETENTION_DAYS = CONFIG.transcript_retention_days
# A transcript drawn for a chat scan stays until reviewed, at most this many days.
ONTHAAL_SCAN_HOLD_MAX_DAYS = CONFIG.scan_hold_max_days
# The waiting visitor is offered other helplines and self-help tools after this (0 = never).
ONTHAAL_LONG_WAIT_MINUTES = CONFIG.long_wait_minutes
# Returning visitors, prank reviews, blocks, flood hold (docs/security.md).
ONTHAAL_VISITOR_KEY = CONFIG.visitor_key
ONTHAAL_PRANK_HOLD_MAX_DAYS = CONFIG.prank_hold_max_days
ONTHAAL_PRANK_MARK_DAYS = CONFIG.prank_mark_days
ONTHAAL_FLOOD_CHATS_PER_HOUR = CONFIG.flood_chats_per_hour
ONTHAAL_MESSAGE_KEYS = CONFIG.message_keys
# Bearer token for /metrics from other hosts than loopback ("" = loopback only).
ONTHAAL_METRICS_TOKEN = CONFIG.metrics_token
# Passkeys: relying party id and origin(s); empty = the request's host and origin.
ONTHAAL_WEBAUTHN_RP_ID = CONFIG.webauthn_rp_id
ONTHAAL_WEBAUTHN_ORIGINS = list(CONFIG.webauthn_origins)
ONTHAAL_REAUTH_MINUTES = CONFIG.reauth_minutes
# OpenID Connect single sign-on; ONTHAAL_OIDC_ISSUER = "" means off.
_oidc = CONFIG.oidc
ONTHAAL_OIDC_ISSUER = _oidc.issuer if _oidc else ""
ONTHAAL_OIDC_CLIENT_ID = _oidc.client_id if _oidc else ""
ONTHAAL_OIDC_CLIENT_SECRET = _oidc.client_secret if _oidc else ""
ONTHAAL_OIDC_NAME = _oidc.name if _oidc else ""
ONTHAAL_OIDC_SCOPES = list(_oidc.scopes) if _oidc else ["openid"]
ONTHAAL_OIDC_REQUIRED_ACR = list(_oidc.required_acr) if _oidc else []
ONTHAAL_OIDC_REQUIRE_MFA = _oidc.require_mfa if _oidc else False
ONTHAAL_OIDC_MFA_AMR = list(_oidc.mfa_amr) if _oidc else ["mfa"]
ONTHAAL_OIDC_USERNAME_CLAIM = _oidc.username_claim if _oidc else ""

# No IP addresses in logs: Onthaal logs only its own events, and the server's
# access log is switched off (see onthaal.cli serve).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # ONTHAAL_LOG_FORMAT=json: one JSON object per line, with an event name
        # and ids only (onthaal.ops.logs says which fields may appear).
        "json": {"()": "onthaal.ops.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": CONFIG.log_format}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "onthaal": {"level": "INFO"},
        # Django's own default handlers (a plain console in debug mode, mail to
        # admins) are dropped: its records go to the one handler above.
        "django": {"handlers": [], "level": "WARNING"},
        # django.request logs the request line only; django.security may name hosts.
        "django.request": {"level": "ERROR"},
    },
}
