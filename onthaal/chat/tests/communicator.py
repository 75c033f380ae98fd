"""A websocket test client with the interface of Channels' ``WebsocketCommunicator``.

Why not ``channels.testing.WebsocketCommunicator`` itself: importing
``channels.testing`` imports its live-server test case, which needs ``daphne``,
and Onthaal serves with uvicorn and does not install daphne. Once ``daphne``
is in the test dependencies, replace this module's import with
``from channels.testing import WebsocketCommunicator``; the methods used by the
tests are the same.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator


def _no_op() -> None:
    pass


class WebsocketCommunicator(ApplicationCommunicator):  # type: ignore[misc]
    def __init__(
        self, application: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        parsed = urlparse(path)
        self.scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers or [],
            "subprotocols": [],
        }
        super().__init__(application, self.scope)

    # As in Channels' communicator: the test database connection is shared
    # with the test, so the consumer must not close it between events.
    async def send_input(self, message: dict[str, Any]) -> None:
        with mock.patch("channels.db.close_old_connections", _no_op):
            return await super().send_input(message)  # type: ignore[no-any-return]

    async def receive_output(self, timeout: float = 1) -> dict[str, Any]:
        with mock.patch("channels.db.close_old_connections", _no_op):
            return await super().receive_output(timeout)  # type: ignore[no-any-return]

    async def connect(self, timeout: float = 1) -> tuple[bool, Any]:
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(text_data=json.dumps(data))

    async def receive_from(self, timeout: float = 1) -> str:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        text: str = response["text"]
        return text

    async def receive_json_from(self, timeout: float = 1) -> Any:
        return json.loads(await self.receive_from(timeout))

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
