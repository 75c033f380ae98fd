"""The authorization matrix (matrix.py), checked by real requests.

- ``test_coverage_every_route_has_an_entry``: every route and websocket action the
  project serves (routes.py walks them) has an entry, and every entry
  still names one.
- ``test_http_route``: one test per HTTP route, every role, every case;
  each request runs in its own fresh world (world.py), rolled back after.
- ``test_websocket_action``: the same for each websocket action, through
  the ASGI application (origin check and session middleware included).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
from channels.db import database_sync_to_async
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from onthaal.asgi import application
from onthaal.chat.tests.communicator import WebsocketCommunicator
from tests.authz.matrix import DEFAULT_PARAMS, LOGIN, OK, ROLES, ROUTES, Case
from tests.authz.routes import HttpRoute, SocketRoute, http_routes, socket_routes
from tests.authz.world import OBJECTS, STAFF_ROLES, World
from tests.authz.world import _references as world_references

HTTP = {route.key: route for route in http_routes()}
SOCKETS = {route.key: route for route in socket_routes()}

ORIGIN = (b"origin", b"http://localhost")
# Requests come from outside (not loopback, which the metrics trust).
REMOTE_ADDR = "203.0.113.7"
WS_TIMEOUT = 10  # only a failing case waits this long: each action ends with a pong


def _cases(key: str) -> list[Case]:
    entry = ROUTES[key]
    return entry if isinstance(entry, list) else [entry]


# --- coverage ---------------------------------------------------------------------------


def test_coverage_every_route_has_an_entry() -> None:
    served = set(HTTP) | set(SOCKETS)
    missing = sorted(served - set(ROUTES))
    stale = sorted(set(ROUTES) - served)
    assert not missing and not stale, (
        "tests/authz/matrix.py is out of date.\n"
        + "".join(f"  no entry for:        {key!r}\n" for key in missing)
        + "".join(f"  entry for no route:  {key!r}\n" for key in stale)
        + "Add one line per route (see the top of matrix.py)."
    )


def test_entries_fit_their_routes() -> None:
    problems = []
    for key, cases in ((k, _cases(k)) for k in ROUTES if k in HTTP or k in SOCKETS):
        for case in cases:
            if key in SOCKETS:
                if case.kind != "ws":
                    problems.append(f"{key}: a websocket action needs ws(...)")
            elif case.kind == "ws":
                problems.append(f"{key}: an HTTP route needs api(...) or page(...)")
            elif (case.kind == "api") != (HTTP[key].method is not None):
                problems.append(f"{key}: use api(...) for API operations, page(...) for pages")
            route = HTTP.get(key) or SOCKETS[key]
            unknown = sorted(
                {name for name in world_references(_references(route, case))} - set(OBJECTS)
            )
            if unknown:
                problems.append(f"{key}: no world object {unknown} (tests/authz/world.py)")
    assert not problems, "\n".join(problems)


# --- HTTP --------------------------------------------------------------------------------


def _fill(pattern: str, params: dict[str, Any], world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if params.get(name) is None:
            raise AssertionError(
                f"{pattern}: no value for path parameter {name}: give the entry "
                "params={...} or add it to DEFAULT_PARAMS (matrix.py)"
            )
        return str(world.resolve(params[name]))

    return re.sub(r"<(?:\w+:)?(\w+)>", value, pattern)


def _client(role: str, world: World) -> tuple[Client, dict[str, str]]:
    client = Client(raise_request_exception=False)
    headers: dict[str, str] = {}
    if role in STAFF_ROLES:
        client.force_login(world[role])
    elif role == "visitor":
        headers["Authorization"] = f"Bearer {world.resolve('@token')}"
    return client, headers


def _params(route_pattern: str, case: Case) -> dict[str, Any]:
    """The case's path parameters, with the defaults, as ``"@name"`` references."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", route_pattern)
    merged = {**DEFAULT_PARAMS, **case.params}
    params = {}
    for name in names:
        value = merged.get(name)
        if isinstance(value, str) and not value.startswith("@"):
            value = "@" + value
        params[name] = value
    return params


def _references(route: HttpRoute | SocketRoute, case: Case) -> list[Any]:
    pattern = route.pattern if isinstance(route, HttpRoute) else route.path
    return [
        _params(pattern, case),
        case.body,
        case.form,
        case.send,
        [f"@{name}" for name in case.needs],
        f"@{case.visitor_of}",
    ]


def _http_observe(route: HttpRoute, case: Case, role: str, world: World) -> dict[str, Any]:
    params = _params(route.pattern, case)
    path = case.path or _fill(route.pattern, params, world)
    if case.query:
        path += "?" + urlencode(case.query)
    method = route.method or case.method or "GET"
    client, headers = _client(role, world)
    if case.form is not None:
        data: Any = world.resolve(case.form)
        data = urlencode(data, doseq=True)
        content_type = "application/x-www-form-urlencoded"
    elif case.body is not None:
        data = json.dumps(world.resolve(case.body))
        content_type = "application/json"
    else:
        data, content_type = "", "application/json"
    response = client.generic(
        method, path, data, content_type=content_type, headers=headers, REMOTE_ADDR=REMOTE_ADDR
    )
    observed: dict[str, Any] = {"status": response.status_code, "path": f"{method} {path}"}
    if 300 <= response.status_code < 400:
        observed["location"] = response.get("Location", "")
        flashed = get_messages(response.wsgi_request)
        observed["errors_flashed"] = [str(m) for m in flashed if m.level >= message_levels.ERROR]
    elif response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and "code" in body:
            observed["code"] = body["code"]
    return observed


def _redirect_target(location: str) -> str | None:
    try:
        return resolve(urlparse(location).path).view_name
    except Resolver404:
        return None


def _http_matches(expect: Any, observed: dict[str, Any]) -> bool:
    status = observed["status"]
    if isinstance(expect, int):
        return bool(status == expect)
    if isinstance(expect, tuple):
        return status in expect
    if expect == OK:
        return 200 <= status < 300
    if expect == LOGIN:
        return status in {301, 302, 303} and (
            urlparse(observed["location"]).path == reverse("staff:login")
        )
    if isinstance(expect, str) and expect.startswith(("to:", "refused:")):
        kind, _, name = expect.partition(":")
        return (
            status in {301, 302, 303}
            and _redirect_target(observed["location"]) == name
            and bool(observed["errors_flashed"]) == (kind == "refused")
        )
    raise AssertionError(f"unknown HTTP outcome {expect!r} (see matrix.py)")


HTTP_KEYS = sorted(key for key in ROUTES if key in HTTP)


@pytest.mark.parametrize("key", HTTP_KEYS)
def test_http_route(key: str, chat_open: Any) -> None:
    route = HTTP[key]
    failures = []
    for number, case in enumerate(_cases(key), start=1):
        with transaction.atomic():
            world = World()
            world.visitor_of = case.visitor_of
            world.prepare(_references(route, case))
            for role in ROLES:
                cache.clear()  # rate limits and lockouts counted by an earlier role
                with transaction.atomic():
                    observed = _http_observe(route, case, role, world.as_role(role))
                    transaction.set_rollback(True)
                world.done()
                if not _http_matches(case.expect[role], observed):
                    failures.append(
                        f"case {number}, {role}: expected {case.expect[role]!r}, got {observed}"
                    )
            transaction.set_rollback(True)
    assert not failures, f"{key}\n" + "\n".join(failures)


# --- websockets ---------------------------------------------------------------------------


def _session_cookie(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _receive(socket: WebsocketCommunicator) -> dict[str, Any] | None:
    """The next output: a frame as a dict, ``{"closed": code}``, or None on a timeout."""
    try:
        output = await socket.receive_output(timeout=WS_TIMEOUT)
    except TimeoutError:
        return None
    if output["type"] == "websocket.close":
        return {"closed": output.get("code", 1000)}
    frame: dict[str, Any] = json.loads(output["text"])
    return frame


def _ws_world(route: SocketRoute, case: Case, role: str) -> World:
    world = World()
    world.visitor_of = case.visitor_of
    world.prepare(_references(route, case))
    return world.as_role(role)


async def _ws_observe(route: SocketRoute, case: Case, role: str) -> dict[str, Any]:
    world = await database_sync_to_async(_ws_world)(route, case, role)
    headers = [ORIGIN]
    if role in STAFF_ROLES:
        user = await database_sync_to_async(world.__getitem__)(role)
        headers.append(await database_sync_to_async(_session_cookie)(user))
    socket = WebsocketCommunicator(application, route.path, headers=headers)
    frames: list[dict[str, Any]] = []
    observed: dict[str, Any] = {"frames": frames, "closed": None}
    try:
        accepted, detail = await socket.connect(timeout=WS_TIMEOUT)
        if not accepted:
            observed["closed"] = detail
            return observed
        if route.action == "connect":
            await _collect_until_pong(socket, observed, pongs=1)
            return observed
        # What the socket sends on its own first (the console's snapshot) is
        # not the answer to the action: drained with a ping first.
        opening: dict[str, Any] = {"frames": [], "closed": None}
        await _collect_until_pong(socket, opening, pongs=1)
        if opening["closed"] is not None or opening.get("timeout"):
            observed.update(closed=opening["closed"], timeout=opening.get("timeout"))
            return observed
        if role == "visitor" and route.action != "hello":
            hello = await database_sync_to_async(world.resolve)(
                {"type": "hello", "conversation_id": "@active", "token": "@token"}
            )
            await socket.send_json_to(hello)
            welcome = await _receive(socket)
            assert welcome is not None and welcome.get("type") == "welcome", welcome
        sent = await database_sync_to_async(world.resolve)(case.send or {"type": route.action})
        await socket.send_json_to(sent)
        # A ping after the frame: its pong marks the end of the frame's answers
        # (a consumer handles frames in order), so silence costs no timeout.
        await _collect_until_pong(socket, observed, pongs=2 if sent.get("type") == "ping" else 1)
        return observed
    finally:
        # A timed-out receive cancels the application: nothing left to close.
        if observed["closed"] is None and not observed.get("timeout"):
            await socket.disconnect()


async def _collect_until_pong(
    socket: WebsocketCommunicator, observed: dict[str, Any], *, pongs: int
) -> None:
    """Send a ping; keep every frame until its pong (a consumer answers frames
    in order, so what came before it is the answer to what was sent before)."""
    await socket.send_json_to({"type": "ping"})
    while pongs:
        output = await _receive(socket)
        if output is None:
            observed["timeout"] = True
            return
        if "closed" in output and len(output) == 1:
            observed["closed"] = output["closed"]
            return
        if output.get("type") == "pong":
            pongs -= 1
            if not pongs:
                return  # the marker
        observed["frames"].append(output)


def _ws_matches(expect: Any, observed: dict[str, Any]) -> bool:
    frames = observed["frames"]
    errors = [f.get("code") for f in frames if f.get("type") == "error"]
    if expect == OK:
        return not errors and observed["closed"] is None and not observed.get("timeout")
    kind, _, value = str(expect).partition(":")
    if kind == "frame":
        return any(f.get("type") == value for f in frames) and not errors
    if kind == "error":
        return value in errors
    if kind == "closed":
        return observed["closed"] == int(value)
    raise AssertionError(f"unknown websocket outcome {expect!r} (see matrix.py)")


def _ws_summary(observed: dict[str, Any]) -> str:
    frames = [
        f"{f.get('type')}({f.get('code')})" if f.get("type") == "error" else str(f.get("type"))
        for f in observed["frames"]
    ]
    extra = f", closed {observed['closed']}" if observed["closed"] is not None else ""
    extra += ", timed out" if observed.get("timeout") else ""
    return f"frames {frames}{extra}"


SOCKET_KEYS = sorted(key for key in ROUTES if key in SOCKETS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", SOCKET_KEYS)
async def test_websocket_action(key: str, chat_open: Any) -> None:
    route = SOCKETS[key]
    failures = []
    for number, case in enumerate(_cases(key), start=1):
        for role in ROLES:
            await database_sync_to_async(cache.clear)()
            observed = await _ws_observe(route, case, role)
            if not _ws_matches(case.expect[role], observed):
                failures.append(
                    f"case {number}, {role}: expected {case.expect[role]!r}, "
                    f"got {_ws_summary(observed)}"
                )
    assert not failures, f"{key}\n" + "\n".join(failures)
