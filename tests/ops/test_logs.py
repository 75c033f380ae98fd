"""Logs name events and ids, never what was said.

A whole chat is run through the interfaces (HTTP API and both websockets),
with Onthaal's logging configuration as it is in production; every record it
leaves is then formatted as the JSON-lines and plain handlers would write it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from onthaal.asgi import application
from onthaal.chat.tests.communicator import WebsocketCommunicator
from onthaal.ops.logs import JsonFormatter

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 3
SECRETS = (
    "Mijn-geheim-van-de-bezoeker-7f3a",
    "Antwoord-van-de-medewerker-91bc",
    "Nog-een-bericht-via-http-55de",
    "Te-lang-bericht-0a0a",
)


async def _receive(socket: WebsocketCommunicator, kind: str) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame


@pytest.mark.django_db(transaction=True)
async def test_no_message_text_reaches_the_logs(caplog, operator, operator_client, chat_open):
    caplog.set_level(logging.INFO, logger="onthaal")
    visitor_http = Client()
    opened = await database_sync_to_async(visitor_http.post)(
        "/api/v1/conversations",
        {"audience": "pupil", "age": 14},
        content_type="application/json",
    )
    assert opened.status_code == 201
    conversation_id, token = opened.json()["id"], opened.json()["token"]

    cookie = (b"cookie", f"sessionid={operator_client.cookies['sessionid'].value}".encode())
    console = WebsocketCommunicator(application, "/ws/v1/operator/", headers=[cookie, ORIGIN])
    assert (await console.connect(timeout=TIMEOUT))[0]
    await _receive(console, "snapshot")
    visitor = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    await visitor.send_json_to(
        {"type": "hello", "conversation_id": conversation_id, "token": token}
    )
    await _receive(visitor, "welcome")

    accepted = await database_sync_to_async(operator_client.post)(
        f"/api/v1/conversations/{conversation_id}/accept"
    )
    assert accepted.status_code == 200
    # The console follows the chat once it has shown it; a message sent before
    # that would come inside the conversation frame rather than as message.new.
    await _receive(console, "conversation")
    await visitor.send_json_to({"type": "message.send", "client_id": "v1", "body": SECRETS[0]})
    assert (await _receive(console, "message.new"))["message"]["body"] == SECRETS[0]
    await console.send_json_to(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "o1",
            "body": SECRETS[1],
        }
    )
    await _receive(console, "message.ack")
    sent = await database_sync_to_async(visitor_http.post)(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"client_id": "v2", "body": SECRETS[2]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert sent.status_code == 201
    # A refused message (too long) is not logged either.
    await visitor.send_json_to(
        {"type": "message.send", "client_id": "v3", "body": SECRETS[3] * 1000}
    )
    assert (await _receive(visitor, "error"))["code"] == "message_too_long"
    await visitor.send_json_to({"type": "end"})
    await _receive(console, "conversation")
    await visitor.disconnect()
    await console.disconnect()

    json_lines = [JsonFormatter().format(record) for record in caplog.records]
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    plain_lines = [plain.format(record) for record in caplog.records]
    assert json_lines, "the chat left no log records at all"
    for line in json_lines + plain_lines:
        for secret in (*SECRETS, token):
            assert secret not in line
    entries = [json.loads(line) for line in json_lines]
    assert {
        "event": "conversation.accepted",
        "conversation_id": conversation_id,
    }.items() <= next(e for e in entries if e["event"] == "conversation.accepted").items()
    assert any(e["event"] == "conversation %s ended: %s" for e in entries)


def test_the_json_formatter_keeps_only_safe_fields():
    record = logging.LogRecord("onthaal.chat", logging.INFO, __file__, 1, "sent %s", (7,), None)
    record.event = "message.sent"
    record.conversation_id = 7
    record.body = "wat de bezoeker schreef"
    record.request = object()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["event"] == "message.sent"
    assert entry["conversation_id"] == 7
    assert entry["message"] == "sent 7"
    assert entry["level"] == "INFO"
    assert "body" not in entry
    assert "request" not in entry
    assert "wat de bezoeker" not in json.dumps(entry)


def test_an_unknown_log_format_is_a_configuration_error(tmp_path):
    env = {**os.environ, "ONTHAAL_DEBUG": "true", "ONTHAAL_DATA_DIR": str(tmp_path)}
    env["ONTHAAL_LOG_FORMAT"] = "xml"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "onthaal.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "ONTHAAL_LOG_FORMAT must be plain or json" in result.stderr
