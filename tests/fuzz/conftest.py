"""The fuzz tests run with the rate limits raised.

The fuzzers send hundreds of requests and frames in one test; the rate limits
(30 conversations an hour, 30 messages a minute) would answer most of them
with 429 and hide everything behind it, so they are raised here.
"""

from __future__ import annotations

from typing import Any

import pytest

GENEROUS = 1_000_000


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings: Any) -> None:
    settings.ONTHAAL_RATE_CONVERSATIONS_PER_HOUR = GENEROUS
    settings.ONTHAAL_RATE_MESSAGES_PER_MINUTE = GENEROUS
    # Every fuzzed intake comes from one address: no flood hold (safeguard).
    settings.ONTHAAL_FLOOD_CHATS_PER_HOUR = 0
