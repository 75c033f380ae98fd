"""The safeguard's settings as read by onthaal.config."""

from __future__ import annotations

import pytest

from onthaal import config

NAMES = (
    "ONTHAAL_VISITOR_KEY",
    "ONTHAAL_PRANK_HOLD_MAX_DAYS",
    "ONTHAAL_PRANK_MARK_DAYS",
    "ONTHAAL_FLOOD_CHATS_PER_HOUR",
)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONTHAAL_DEBUG", "true")


def test_defaults() -> None:
    loaded = config.load()
    assert loaded.visitor_key == ""
    assert loaded.prank_hold_max_days == 60
    assert loaded.prank_mark_days == 180
    assert loaded.flood_chats_per_hour == 10


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONTHAAL_VISITOR_KEY", "  een-lange-willekeurige-sleutel  ")
    monkeypatch.setenv("ONTHAAL_PRANK_HOLD_MAX_DAYS", "14")
    monkeypatch.setenv("ONTHAAL_PRANK_MARK_DAYS", "365")
    monkeypatch.setenv("ONTHAAL_FLOOD_CHATS_PER_HOUR", "0")
    loaded = config.load()
    assert loaded.visitor_key == "een-lange-willekeurige-sleutel"
    assert loaded.prank_hold_max_days == 14
    assert loaded.prank_mark_days == 365
    assert loaded.flood_chats_per_hour == 0


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ONTHAAL_PRANK_HOLD_MAX_DAYS", "0"),
        ("ONTHAAL_PRANK_MARK_DAYS", "veel"),
        ("ONTHAAL_FLOOD_CHATS_PER_HOUR", "-1"),
    ],
)
def test_a_bad_value_refuses_to_start(monkeypatch: pytest.MonkeyPatch, name: str, raw: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(config.ConfigError, match=name):
        config.load()
