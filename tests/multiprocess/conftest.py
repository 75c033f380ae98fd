"""Two ``onthaal serve`` processes sharing one PostgreSQL database and Redis.

As in production behind a proxy: every process has its own port, the
database and the channel layer are shared. The tests talk to them as clients
do, over HTTP and real websockets (the ``websockets`` package), and read the
database directly only to check what is stored.

They need ONTHAAL_DATABASE_URL (PostgreSQL) and ONTHAAL_REDIS_URL, which
scripts/test.sh sets in its second pass, and skip otherwise. They never touch
the database or Redis database those URLs name: they create a database of
their own (dropped afterwards) and use another Redis database number, so that
the browser tests' server, which may still be running, sees nothing of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Server, _free_port

PASSWORD = "Een-lang-wachtwoord-42"
TIMEOUT = 10.0
# A Redis database number the rest of the suite does not use.
REDIS_DB = 9


def _skip_reason() -> str | None:
    database_url = os.environ.get("ONTHAAL_DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        return (
            "multi-process tests need PostgreSQL: set ONTHAAL_DATABASE_URL to a postgres:// "
            "URL (scripts/test.sh does so in its second pass)"
        )
    if not os.environ.get("ONTHAAL_REDIS_URL"):
        return (
            "multi-process tests need Redis: set ONTHAAL_REDIS_URL "
            "(scripts/test.sh does so in its second pass)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- HTTP -------------------------------------------------------------------------


class Http:
    """One person's HTTP client: keeps cookies (the cookie jar does not tell
    ports apart, so a session made on one process is used on the other, as
    behind a proxy) and speaks JSON."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        for cookie in self.jar:
            if cookie.name == name:
                return str(cookie.value)
        raise KeyError(name)

    def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(
        self, method: str, server: Server, path: str, payload: Any = None, **headers: str
    ) -> tuple[int, Any]:
        """A JSON request to ``server``; unsafe methods carry the CSRF token."""
        all_headers = {"Content-Type": "application/json", "Origin": server.url, **headers}
        if method != "GET":
            with contextlib.suppress(KeyError):
                all_headers["X-CSRFToken"] = self.cookie("csrftoken")
        data = json.dumps(payload if payload is not None else {}).encode()
        status, body = self.request(
            method, server.url + path, data=None if method == "GET" else data, headers=all_headers
        )
        return status, json.loads(body) if body else None


@dataclass
class Visitor:
    conversation_id: int
    token: str


def visitor_open(server: Server) -> Visitor:
    status, body = Http().json("POST", server, "/api/v1/conversations", {"audience": "pupil"})
    assert status == 201, body
    return Visitor(conversation_id=body["id"], token=body["token"])


@dataclass
class Operator:
    username: str
    http: Http = field(default_factory=Http)

    @property
    def cookie_header(self) -> str:
        return f"sessionid={self.http.cookie('sessionid')}"

    def post(self, server: Server, path: str, payload: Any = None) -> tuple[int, Any]:
        return self.http.json("POST", server, path, payload)


def sign_in(server: Server, username: str) -> Operator:
    """Both factors over HTTP, as the login pages are used: password, then
    the TOTP code from the enrolment page's text key."""
    operator = Operator(username=username)
    login = f"{server.url}/medewerker/aanmelden/"
    status, _ = operator.http.request("GET", login)
    assert status == 200
    form = {
        "csrfmiddlewaretoken": operator.http.cookie("csrftoken"),
        "username": username,
        "password": PASSWORD,
    }
    status, page = operator.http.request(
        "POST",
        login,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Origin": server.url, "Referer": login},
    )
    assert status == 200, page  # the redirect to the second step was followed
    found = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page)
    assert found, "no TOTP secret on the second-step page"
    form = {
        "csrfmiddlewaretoken": operator.http.cookie("csrftoken"),
        "code": pyotp.TOTP(found.group(1).decode()).now(),
    }
    status, page = operator.http.request(
        "POST",
        f"{login}tweede-stap/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Origin": server.url, "Referer": f"{login}tweede-stap/"},
    )
    assert status == 200
    operator.http.cookie("sessionid")
    return operator


# --- websockets ---------------------------------------------------------------------


class Socket:
    """A websocket client that keeps every frame it receives, in order."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.connection:
                self.frames.append(json.loads(text))
                self._arrived.set()
        self._arrived.set()

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def wait_for(
        self,
        kind: str,
        where: Callable[[dict[str, Any]], bool] = lambda frame: True,
        *,
        start: int = 0,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """The first frame of type ``kind`` (from index ``start``) that satisfies
        ``where``, waiting for it to arrive."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames[start:]:
                    if frame["type"] == kind and where(frame):
                        return frame
                if self.closed:
                    raise AssertionError(f"socket closed before a {kind} frame arrived")
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def ws_connect(server: Server, path: str, cookie: str | None = None) -> Socket:
    headers = {"Origin": server.url}
    if cookie:
        headers["Cookie"] = cookie
    url = server.url.replace("http://", "ws://") + path
    return Socket(await connect(url, additional_headers=headers, open_timeout=TIMEOUT))


async def visitor_socket(server: Server, visitor: Visitor, *, after: int = 0) -> Socket:
    socket = await ws_connect(server, "/ws/v1/visitor/")
    await socket.send(
        {
            "type": "hello",
            "conversation_id": visitor.conversation_id,
            "token": visitor.token,
            "after": after,
        }
    )
    await socket.wait_for("welcome")
    return socket


async def operator_socket(server: Server, operator: Operator) -> Socket:
    socket = await ws_connect(server, "/ws/v1/operator/", cookie=operator.cookie_header)
    await socket.wait_for("snapshot")
    return socket


# --- the two processes -------------------------------------------------------------


def _with_path(url: str, path: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=path).geturl()


@dataclass
class Cluster:
    a: Server
    b: Server
    database_url: str
    redis_url: str
    _usernames: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the shared database directly (to check what is stored)."""
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()

    def operators(self, count: int) -> list[Operator]:
        """``count`` new operator accounts (through ``onthaal createoperator``),
        signed in with both factors on process A and set available."""
        result = []
        for _ in range(count):
            username = f"mp{next(self._usernames)}"
            self.a.cli(
                "createoperator",
                "--username",
                username,
                "--discipline",
                "nurse",
                "--pseudonym",
                f"Medewerker {username}",
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
            operator = sign_in(self.a, username)
            status, body = operator.http.json(
                "PATCH", self.a, "/api/v1/operator/me", {"availability": "available"}
            )
            assert status == 200, body
            result.append(operator)
        return result


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import psycopg
    import redis

    base_url = os.environ["ONTHAAL_DATABASE_URL"]
    name = f"onthaal_mp_{secrets.token_hex(4)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = _with_path(base_url, f"/{name}")
    redis_url = _with_path(os.environ["ONTHAAL_REDIS_URL"], f"/{REDIS_DB}")
    redis.Redis.from_url(redis_url).flushdb()

    env = {
        **os.environ,
        "ONTHAAL_DEBUG": "true",
        "ONTHAAL_DATABASE_URL": database_url,
        "ONTHAAL_REDIS_URL": redis_url,
        "ONTHAAL_LOG_FORMAT": "json",
        "ONTHAAL_MAX_CHATS_PER_OPERATOR": "100",
        "ONTHAAL_RATE_CONVERSATIONS_PER_HOUR": "100000",
        "ONTHAAL_RATE_MESSAGES_PER_MINUTE": "100000",
        # Every test visitor comes from 127.0.0.1: no flood hold (safeguard).
        "ONTHAAL_FLOOD_CHATS_PER_HOUR": "0",
        "ONTHAAL_RECONNECT_GRACE_SECONDS": "120",
        "ONTHAAL_SWEEP_INTERVAL_SECONDS": "2",
        # The chat is opened until 23:59: no intake cut-off before that.
        "ONTHAAL_CLOSING_CUTOFF_MINUTES": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    servers = []
    for label in ("a", "b"):
        data_dir = tmp_path_factory.mktemp(f"onthaal-mp-{label}")
        servers.append(
            Server(
                data_dir=data_dir, port=_free_port(), env={**env, "ONTHAAL_DATA_DIR": str(data_dir)}
            )
        )
    a, b = servers
    try:
        a.cli("migrate", "--no-input")  # once: the database is shared
        a.shell(
            "from django.utils import timezone; from datetime import time;"
            "from onthaal.hours.models import ExtraOpening;"
            "ExtraOpening.objects.get_or_create(date=timezone.localdate(), opens=time(0, 0),"
            " closes=time(23, 59), defaults={'note': 'multiprocess tests'})"
        )
        a.start()
        b.start()
        yield Cluster(a=a, b=b, database_url=database_url, redis_url=redis_url)
    finally:
        for server in servers:
            server.stop()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(redis_url).flushdb()
