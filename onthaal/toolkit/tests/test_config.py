"""ONTHAAL_LONG_WAIT_MINUTES as read by onthaal.config."""

from __future__ import annotations

import pytest

from onthaal import config


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONTHAAL_LONG_WAIT_MINUTES", raising=False)
    monkeypatch.setenv("ONTHAAL_DEBUG", "true")


def test_ten_minutes_by_default() -> None:
    assert config.load().long_wait_minutes == 10.0


@pytest.mark.parametrize(("raw", "minutes"), [("15", 15.0), ("0", 0.0), ("0.05", 0.05)])
def test_whole_and_decimal_minutes(
    monkeypatch: pytest.MonkeyPatch, raw: str, minutes: float
) -> None:
    monkeypatch.setenv("ONTHAAL_LONG_WAIT_MINUTES", raw)
    assert config.load().long_wait_minutes == minutes


@pytest.mark.parametrize("raw", ["tien", "-1", "nan", "inf"])
def test_a_bad_value_refuses_to_start(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ONTHAAL_LONG_WAIT_MINUTES", raw)
    with pytest.raises(config.ConfigError, match="ONTHAAL_LONG_WAIT_MINUTES"):
        config.load()
