"""ONTHAAL_ASSIGNMENT, ONTHAAL_OFFER_TIMEOUT_SECONDS and ONTHAAL_CLOSING_CUTOFF_MINUTES
as read by onthaal.config, and the lifespan that runs assignment rounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onthaal import config, lifespan

NAMES = ("ONTHAAL_ASSIGNMENT", "ONTHAAL_OFFER_TIMEOUT_SECONDS", "ONTHAAL_CLOSING_CUTOFF_MINUTES")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONTHAAL_DEBUG", "true")


def test_defaults() -> None:
    loaded = config.load()
    assert (
        loaded.assignment,
        loaded.offer_timeout_seconds,
        loaded.closing_cutoff_minutes,
    ) == ("manual", 30, 10)


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONTHAAL_ASSIGNMENT", "Auto")
    monkeypatch.setenv("ONTHAAL_OFFER_TIMEOUT_SECONDS", "45")
    monkeypatch.setenv("ONTHAAL_CLOSING_CUTOFF_MINUTES", "0")
    loaded = config.load()
    assert (
        loaded.assignment,
        loaded.offer_timeout_seconds,
        loaded.closing_cutoff_minutes,
    ) == ("auto", 45, 0)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ONTHAAL_ASSIGNMENT", "automatic"),
        ("ONTHAAL_OFFER_TIMEOUT_SECONDS", "4"),
        ("ONTHAAL_OFFER_TIMEOUT_SECONDS", "dertig"),
        ("ONTHAAL_CLOSING_CUTOFF_MINUTES", "-1"),
    ],
)
def test_a_bad_value_refuses_to_start(monkeypatch: pytest.MonkeyPatch, name: str, raw: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(config.ConfigError, match=name):
        config.load()


@pytest.mark.parametrize(("mode", "tasks"), [("manual", 1), ("auto", 2)])
async def test_the_lifespan_runs_assignment_rounds_only_in_auto_mode(
    settings: Any, monkeypatch: pytest.MonkeyPatch, mode: str, tasks: int
) -> None:
    settings.ONTHAAL_ASSIGNMENT = mode
    started: list[str] = []

    async def idle(name: str, interval: float) -> None:
        started.append(name)
        await asyncio.sleep(3600)

    monkeypatch.setattr(lifespan, "sweep_forever", lambda i: idle("sweep", i))
    monkeypatch.setattr(lifespan, "assign_forever", lambda i: idle("assign", i))
    messages = asyncio.Queue()
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        messages.put_nowait({"type": kind})
    sent: list[str] = []

    async def send(message: Any) -> None:
        sent.append(message["type"])
        await asyncio.sleep(0)  # let the tasks start before the shutdown

    await lifespan.LifespanApp(app=None)({"type": "lifespan"}, messages.get, send)  # type: ignore[arg-type]

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert len(started) == tasks
