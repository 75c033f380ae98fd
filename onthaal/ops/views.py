"""``/readyz`` and ``/metrics``.

``/healthz`` (chat.views) says the process and its database answer: restart
the process when it fails. ``/readyz`` says whether this process can serve
chats now: send it traffic only while it answers 200.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from onthaal.ops.metrics import REGISTRY

logger = logging.getLogger("onthaal.ops")

CHANNEL_LAYER_TIMEOUT_SECONDS = 3.0
# A proxy in front names the real client in one of these; a request that
# carries one came through a proxy, even when it reached us over loopback.
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _database_checks() -> tuple[dict[str, str], dict[str, Any]]:
    """The database answers, and every migration on disk is applied to it."""
    details: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # The class only: the message may name the host and the role.
        details["database"] = type(exc).__name__
        return {"database": "down", "migrations": "unknown"}, details
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        details["migrations"] = type(exc).__name__
        return {"database": "up", "migrations": "unknown"}, details
    if plan:
        details["migrations"] = {
            "unapplied": [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        }
        return {"database": "up", "migrations": "pending"}, details
    return {"database": "up", "migrations": "applied"}, details


# The readiness check's channel, per event loop and layer (one per server process).
_readyz_channels: dict[tuple[asyncio.AbstractEventLoop, int], str] = {}


async def _channel_layer_check() -> tuple[str, str | None]:
    """A message sent to a throwaway channel comes back: the layer (Redis
    in production) is reachable from this process."""
    layer = get_channel_layer()
    if layer is None:
        return "down", "not configured"
    key = (asyncio.get_running_loop(), id(layer))
    try:
        async with asyncio.timeout(CHANNEL_LAYER_TIMEOUT_SECONDS):
            # One channel of this process's for every check (with pub/sub a
            # channel is a subscription, made before the send: an event
            # published to nobody is gone).
            channel = _readyz_channels.get(key)
            if channel is None:
                for stale in [other for other in _readyz_channels if other[0].is_closed()]:
                    del _readyz_channels[stale]
                channel = _readyz_channels[key] = await layer.new_channel("onthaal.readyz.")
            await layer.send(channel, {"type": "readyz.ping"})
            message = await layer.receive(channel)
    except TimeoutError:
        _readyz_channels.pop(key, None)  # a cancelled receive unsubscribed it
        return "down", "timeout"
    except Exception as exc:
        _readyz_channels.pop(key, None)
        return "down", type(exc).__name__
    if message.get("type") != "readyz.ping":
        return "down", "unexpected message"
    return "up", None


@require_GET
@never_cache
async def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, no migration is pending and the channel
    layer carries a message; 503 with the failing checks otherwise."""
    checks, details = await sync_to_async(_database_checks)()
    checks["channel_layer"], layer_detail = await _channel_layer_check()
    if layer_detail is not None:
        details["channel_layer"] = layer_detail
    ready = checks == {"database": "up", "migrations": "applied", "channel_layer": "up"}
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if details:
        body["details"] = details
    if not ready:
        logger.warning(
            "not ready: %s",
            ", ".join(f"{name} {state}" for name, state in checks.items()),
            extra={"event": "ops.not_ready"},
        )
    return JsonResponse(body, status=200 if ready else 503)


def _from_loopback_directly(request: HttpRequest) -> bool:
    if any(request.headers.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = settings.ONTHAAL_METRICS_TOKEN
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this process, for loopback or the bearer token
    in ``ONTHAAL_METRICS_TOKEN``."""
    if not (_from_loopback_directly(request) or _bearer_token_matches(request)):
        if settings.ONTHAAL_METRICS_TOKEN:
            response = _error(401, "not_authenticated", _("Geef het token voor de metrics mee."))
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return _error(403, "forbidden", _("De metrics zijn alleen lokaal te lezen."))
    # The Prometheus text format, or OpenMetrics when the scraper asks for it.
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(REGISTRY), content_type=content_type)
