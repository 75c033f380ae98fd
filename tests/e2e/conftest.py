"""A real Onthaal server and a real browser for the end-to-end tests.

The server is ``onthaal serve`` in a subprocess (uvicorn, websockets, the
sweeper) on a free loopback port, with its own data directory. It inherits
ONTHAAL_DATABASE_URL / ONTHAAL_REDIS_URL when the test command sets them, so
the same tests also run against PostgreSQL and Redis. The browser is
Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ONTHAAL_TEST_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "onthaal.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"onthaal {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.cli("shell", "--no-imports", "-c", code)

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
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start:\n{log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.log if p.exists())


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("onthaal-e2e")
    env = {
        **os.environ,
        "ONTHAAL_DEBUG": "true",
        "ONTHAAL_DATA_DIR": str(data_dir),
        "ONTHAAL_RECONNECT_GRACE_SECONDS": "120",
        "ONTHAAL_SWEEP_INTERVAL_SECONDS": "2",
        # chat_open opens until 23:59: no intake cut-off before that.
        "ONTHAAL_CLOSING_CUTOFF_MINUTES": "0",
        # Every browser visitor comes from 127.0.0.1: no flood hold (safeguard).
        "ONTHAAL_FLOOD_CHATS_PER_HOUR": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    srv = Server(data_dir=data_dir, port=_free_port(), env=env)
    srv.cli("migrate", "--no-input")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def chat_open(server: Server) -> Iterator[None]:
    """Open the chat for today, whatever the real calendar says."""
    server.shell(
        "from django.utils import timezone; from datetime import time;"
        "from onthaal.hours.models import ExtraOpening, Closure;"
        "Closure.objects.filter(name='e2e').delete();"
        "ExtraOpening.objects.get_or_create(date=timezone.localdate(), opens=time(0, 0),"
        " closes=time(23, 59), defaults={'note': 'e2e'})"
    )
    yield


@pytest.fixture
def chat_closed(server: Server) -> Iterator[None]:
    """Close the chat for today, whatever the real calendar says."""
    server.shell(
        "from django.utils import timezone;"
        "from onthaal.hours.models import ExtraOpening, Closure;"
        "ExtraOpening.objects.filter(note='e2e').delete();"
        "d = timezone.localdate(); Closure.objects.get_or_create(name='e2e', start=d, end=d)"
    )
    yield
    server.shell(
        "from onthaal.hours.models import Closure; Closure.objects.filter(name='e2e').delete()"
    )


# Per module, not per session: Playwright's sync API keeps an event loop
# running in this thread while it is started, which would make every later
# test that uses asyncio (or Django's async-safety check) fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; the test command installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing; the test command runs npm ci")
    return AXE.read_text()
