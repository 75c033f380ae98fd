"""Starting ``onthaal serve`` processes for a run, and setting up their data.

Setup (operators and their sessions, opening hours, clean-up) runs as one
``onthaal shell`` script in the servers' environment: the bench needs many
operators at once, and signing each in with a password and a TOTP code
would measure PBKDF2, not the chat.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


@dataclass
class Environment:
    """The environment of ``onthaal`` commands and servers of this run."""

    variables: dict[str, str]

    @classmethod
    def for_run(
        cls,
        *,
        database_url: str | None,
        redis_url: str | None,
        data_dir: Path,
        max_chats_per_operator: int,
        settings_module: str | None,
    ) -> Environment:
        env = dict(os.environ)
        if database_url:
            env["ONTHAAL_DATABASE_URL"] = database_url
        if redis_url:
            env["ONTHAAL_REDIS_URL"] = redis_url
        # Production mode (no debug: Django would keep every query in memory),
        # with throwaway keys; cookies over plain HTTP on loopback.
        env.setdefault("ONTHAAL_SECRET_KEY", secrets.token_urlsafe(50))
        env.setdefault("ONTHAAL_MESSAGE_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
        env.setdefault("ONTHAAL_DEBUG", "false")
        env.setdefault("ONTHAAL_SECURE_COOKIES", "false")
        env.setdefault("ONTHAAL_DATA_DIR", str(data_dir))
        # The benchmark's clients all come from 127.0.0.1 and write fast.
        env["ONTHAAL_RATE_CONVERSATIONS_PER_HOUR"] = "100000000"
        env["ONTHAAL_RATE_MESSAGES_PER_MINUTE"] = "100000"
        env["ONTHAAL_FLOOD_CHATS_PER_HOUR"] = "0"  # no flood hold (onthaal.safeguard)
        env["ONTHAAL_MAX_CHATS_PER_OPERATOR"] = str(max(1, max_chats_per_operator))
        # New chats until the chat closes (not 10 minutes before).
        env["ONTHAAL_CLOSING_CUTOFF_MINUTES"] = "0"
        # Visitors' sockets connect only once every conversation is open,
        # which for thousands in one `onthaal shell` took up to 7 minutes:
        # the sweeper must not end the first ones as missed meanwhile.
        env.setdefault("ONTHAAL_RECONNECT_GRACE_SECONDS", "3600")
        env["PYTHONUNBUFFERED"] = "1"
        if settings_module:
            env["DJANGO_SETTINGS_MODULE"] = settings_module
            # bench.load.* must be importable by the server processes.
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        else:
            env.pop("DJANGO_SETTINGS_MODULE", None)
        return cls(env)

    def onthaal(self, *args: str, stdin: str | None = None, timeout: float = 600) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "onthaal.cli", *args],
            env=self.variables,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
        )
        if result.returncode != 0:
            raise RuntimeError(f"onthaal {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return result.stdout

    def shell(self, code: str, timeout: float = 600) -> str:
        return self.onthaal("shell", "--no-imports", "-c", code, timeout=timeout)


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class ManagedServers:
    """``count`` ``onthaal serve`` processes on free loopback ports."""

    env: Environment
    count: int
    log_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def start(self) -> list[ServerProcess]:
        for n in range(self.count):
            port = free_port()
            log = self.log_dir / f"server-{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "onthaal.cli", "serve", "--port", str(port)],
                    env=self.env.variables,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=REPO,
                )
            self.servers.append(ServerProcess(f"http://127.0.0.1:{port}", process, log))
        for server in self.servers:
            wait_for_http(f"{server.url}/healthz")
        return self.servers

    def stop(self) -> None:
        for server in self.servers:
            server.process.terminate()
        for server in self.servers:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()


SETUP_SCRIPT = r"""
import json
from datetime import time

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from onthaal.hours.models import ExtraOpening
from onthaal.staff.models import Availability, Discipline, User

PREFIX = {prefix!r}
COUNT = {count}

# The chat is open today and tomorrow (a run near midnight), whatever the
# calendar says.
for day in (timezone.localdate(), timezone.localdate() + timezone.timedelta(days=1)):
    ExtraOpening.objects.get_or_create(
        date=day, opens=time(0, 0), closes=time(23, 59), defaults={{"note": "bench"}}
    )
users = []
for n in range(COUNT):
    user = User(
        username=f"{{PREFIX}}{{n}}", pseudonym=f"Bench {{n}}",
        availability=Availability.AVAILABLE, discipline=Discipline.NURSE,
    )
    user.set_unusable_password()
    users.append(user)
User.objects.bulk_create(users, batch_size=500)
users = list(User.objects.filter(username__startswith=PREFIX).order_by("pk"))
store = SessionStore()
sessions, out = [], []
expires = timezone.now() + timezone.timedelta(hours=12)
for user in users:
    key = store._get_new_session_key()
    data = {{
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }}
    sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
    out.append({{"id": user.pk, "session": key}})
Session.objects.bulk_create(sessions, batch_size=500)
print("BENCH-JSON " + json.dumps(out))
"""

TEARDOWN_SCRIPT = r"""
import json
import sys

from django.db import transaction
from django.utils import timezone

from onthaal.chat.models import Conversation, ConversationEvent, EndReason, EventKind, Status
from onthaal.staff.models import Availability, User

# Only this run's conversations (their ids come on stdin). One UPDATE per
# kind rather than conversation_end() per row: ending 5,000 queued visitors
# one by one would take minutes, and nobody is connected to hear about it.
ids = json.load(sys.stdin)
now = timezone.now()
ENDINGS = ((Status.ACTIVE, EndReason.OPERATOR_ENDED), (Status.QUEUED, EndReason.MISSED))
with transaction.atomic():
    for status, reason in ENDINGS:
        rows = Conversation.objects.filter(pk__in=ids, status=status)
        pks = list(rows.values_list("pk", flat=True))
        rows.update(status=Status.ENDED, end_reason=reason, ended_at=now)
        ConversationEvent.objects.bulk_create(
            [
                ConversationEvent(
                    conversation_id=pk, kind=EventKind.ENDED, at=now, data={{"reason": str(reason)}}
                )
                for pk in pks
            ],
            batch_size=1000,
        )
User.objects.filter(username__startswith={prefix!r}).update(availability=Availability.OFFLINE)
"""

OPEN_SCRIPT = r"""
import json
import sys

from onthaal.chat.services import Intake, conversation_accept, conversation_open
from onthaal.staff.models import User

# stdin: one entry per visitor, the id of the operator who accepts it (or null).
takers = json.load(sys.stdin)
operators = {u.pk: u for u in User.objects.filter(pk__in=[t for t in takers if t])}
out = []
for taker in takers:
    conversation, token = conversation_open(
        intake=Intake(audience="pupil"), user_agent="onthaal-bench", language="nl-be"
    )
    if taker:
        conversation_accept(conversation_id=conversation.pk, operator=operators[taker])
    out.append([conversation.pk, token])
print("BENCH-JSON " + json.dumps(out))
"""


def create_operators(env: Environment, *, prefix: str, count: int) -> list[dict[str, object]]:
    """``count`` available operators with a pseudonym and a signed-in session."""
    output = env.shell(SETUP_SCRIPT.format(prefix=prefix, count=count))
    line = next(line for line in output.splitlines() if line.startswith("BENCH-JSON "))
    return list(json.loads(line.removeprefix("BENCH-JSON ")))


def end_everything(env: Environment, *, prefix: str, conversation_ids: list[int]) -> None:
    """End this run's chats and queued visitors; set its operators offline."""
    env.onthaal(
        "shell",
        "--no-imports",
        "-c",
        TEARDOWN_SCRIPT.format(prefix=prefix),
        stdin=json.dumps(conversation_ids),
    )


def open_conversations_in_shell(
    env: Environment, *, takers: list[int | None]
) -> list[tuple[int, str]]:
    """One visitor per entry of ``takers`` through ``conversation_open`` in one
    process, accepted by that operator (None: left in the queue): the quick
    way to set up thousands (over HTTP each request pays for a new database
    connection)."""
    output = env.onthaal("shell", "--no-imports", "-c", OPEN_SCRIPT, stdin=json.dumps(takers))
    line = next(line for line in output.splitlines() if line.startswith("BENCH-JSON "))
    return [(int(pk), str(token)) for pk, token in json.loads(line.removeprefix("BENCH-JSON "))]
