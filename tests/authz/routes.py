"""Every route the running project answers: found by walking Django's URL
resolver (with every operation of the ninja API) and the ASGI websocket
routing, never from a hand-kept list, so that a new route shows up here by
itself and must get an entry in matrix.py.

Keys (what matrix.py is keyed by):

- a JSON API operation: ``"GET /api/v1/conversations/{conversation_id}"``
  (method and path as in the OpenAPI schema);
- any other named Django route: ``"namespace:name"`` (``"staff:console"``),
  or its path pattern (``"/some/<int:id>/"``) when it has no name;
- the admin under /beheer/: the one key ``"admin"``;
- a websocket: ``"WS /ws/v1/visitor/ connect"`` for opening it and
  ``"WS /ws/v1/visitor/ hello"`` for each frame type in its consumer's
  ``handlers``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

ADMIN_PREFIX = "/beheer/"
ADMIN_KEY = "admin"


@dataclass(frozen=True)
class HttpRoute:
    key: str
    pattern: str  # Django's pattern, with a leading slash: "/medewerker/<int:passkey_id>/"
    method: str | None  # for API operations: the one method; else None (the entry says)


@dataclass(frozen=True)
class SocketRoute:
    key: str
    path: str  # "/ws/v1/visitor/"
    action: str  # "connect" or a frame type
    consumer: type


def _ninja_path_view(callback: Any) -> Any | None:
    """The ninja PathView behind a URL pattern's view (the view is a closure over it)."""
    from ninja.operation import PathView

    for cell in getattr(callback, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, PathView):
            return value
    return None


def _openapi_path(pattern: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Any:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), joined)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name, entry.callback


def http_routes() -> list[HttpRoute]:
    routes: dict[str, HttpRoute] = {}
    for raw, name, callback in _walk(get_resolver().url_patterns, "/", ""):
        pattern = raw.replace("^", "").replace("$", "")
        if pattern.startswith(ADMIN_PREFIX):
            routes[ADMIN_KEY] = HttpRoute(ADMIN_KEY, ADMIN_PREFIX, None)
            continue
        path_view = _ninja_path_view(callback)
        if path_view is not None:
            path = _openapi_path(pattern)
            for operation in path_view.operations:
                for method in operation.methods:
                    key = f"{method.upper()} {path}"
                    routes[key] = HttpRoute(key, pattern, method.upper())
            continue
        key = name or pattern
        routes[key] = HttpRoute(key, pattern, None)
    return sorted(routes.values(), key=lambda route: route.key)


def _websocket_router(application: Any) -> Any:
    """The URLRouter under the websocket branch, through any middleware."""
    from channels.routing import ProtocolTypeRouter, URLRouter

    seen = 0
    node = application
    while node is not None and seen < 20:
        seen += 1
        if isinstance(node, URLRouter):
            return node
        if isinstance(node, ProtocolTypeRouter):
            node = node.application_mapping.get("websocket")
            continue
        node = (
            getattr(node, "application", None)
            or getattr(node, "inner", None)
            or getattr(node, "app", None)
        )
    raise AssertionError("no websocket URLRouter found in onthaal.asgi.application")


def _socket_patterns(router: Any, prefix: str) -> Any:
    from channels.routing import URLRouter

    for route in router.routes:
        pattern = prefix + str(route.pattern).replace("^", "").replace("$", "")
        callback = route.callback
        if isinstance(callback, URLRouter):
            yield from _socket_patterns(callback, pattern)
            continue
        consumer = getattr(callback, "consumer_class", None)
        assert consumer is not None, f"websocket route {pattern} has no consumer class"
        yield pattern, consumer


def socket_routes() -> list[SocketRoute]:
    from onthaal.asgi import application

    routes = []
    for pattern, consumer in _socket_patterns(_websocket_router(application), "/"):
        routes.append(SocketRoute(f"WS {pattern} connect", pattern, "connect", consumer))
        for action in getattr(consumer, "handlers", {}):
            routes.append(SocketRoute(f"WS {pattern} {action}", pattern, action, consumer))
    return sorted(routes, key=lambda route: route.key)
