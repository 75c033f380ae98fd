"""``/readyz``: ready only when the database answers, every migration is
applied and the channel layer carries a message; otherwise 503 and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from tests.e2e.conftest import Server, _free_port

ALL_UP = {"database": "up", "migrations": "applied", "channel_layer": "up"}


@pytest.mark.django_db
def test_ready_when_everything_answers():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_UP}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_a_pending_migration_makes_it_unready():
    applied = MigrationRecorder(connection).applied_migrations()
    app, name = max(key for key in applied if key[0] == "chat")
    MigrationRecorder(connection).record_unapplied(app, name)

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {**ALL_UP, "migrations": "pending"}
    assert body["details"]["migrations"]["unapplied"] == [f"{app}.{name}"]


@pytest.mark.django_db
def test_an_unreachable_channel_layer_makes_it_unready(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_free_port()}/0"]},
        }
    }
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {**ALL_UP, "channel_layer": "down"}
    assert body["details"]["channel_layer"]


# --- a real `onthaal serve` ------------------------------------------------------------


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class AnyAnswerServer(Server):
    """A server that may be broken on purpose: started once it answers at all."""

    def start(self) -> None:
        log = self.data_dir / f"server-{len(self.log)}.log"
        self.log.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "onthaal.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                _get(f"{self.url}/healthz")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start:\n{log.read_text()}")


@pytest.fixture
def broken_server(tmp_path: Path) -> Iterator[AnyAnswerServer]:
    env = {
        **os.environ,
        "ONTHAAL_DEBUG": "true",
        "ONTHAAL_DATA_DIR": str(tmp_path),
        "ONTHAAL_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("ONTHAAL_DATABASE_URL", None)
    env.pop("ONTHAAL_REDIS_URL", None)
    server = AnyAnswerServer(data_dir=tmp_path, port=_free_port(), env=env)
    yield server
    server.stop()


def test_a_real_server_on_a_database_never_migrated(broken_server):
    # A fresh SQLite file (nothing migrated) and a Redis that is not there.
    broken_server.env["ONTHAAL_REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    broken_server.start()

    assert _get(f"{broken_server.url}/healthz")[0] == 200  # alive: do not restart it
    status, body = _get(f"{broken_server.url}/readyz")

    assert status == 503  # but do not send it visitors
    assert body["checks"] == {
        "database": "up",
        "migrations": "pending",
        "channel_layer": "down",
    }
    assert "chat.0001_initial" in body["details"]["migrations"]["unapplied"]
    broken_server.stop()
    # With ONTHAAL_LOG_FORMAT=json every line the server wrote is JSON.
    lines = broken_server.logs().splitlines()
    assert lines
    events = [json.loads(line)["event"] for line in lines]
    assert "server.started" in events
    assert "ops.not_ready" in events


def test_a_real_server_whose_database_is_down(broken_server):
    broken_server.env["ONTHAAL_DATABASE_URL"] = (
        f"postgres://onthaal:wrong@127.0.0.1:{_free_port()}/onthaal"
    )
    broken_server.start()

    assert _get(f"{broken_server.url}/healthz")[0] == 503
    status, body = _get(f"{broken_server.url}/readyz")
    assert status == 503
    assert body["checks"] == {
        "database": "down",
        "migrations": "unknown",
        "channel_layer": "up",
    }
    # The class of the error only: its text would name the host and the role.
    assert body["details"] == {"database": "OperationalError"}
