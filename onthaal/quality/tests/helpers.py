"""Helpers of the chat scan tests: when the test chats happen, and the API calls."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

# A day well inside the retention period, so that nothing is purged by age
# unless a test says so.
DAYS_AGO = 5


def chat_day(days_ago: int = DAYS_AGO) -> date:
    return timezone.localdate() - timedelta(days=days_ago)


def at_noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_default_timezone()) + (
        timedelta(hours=12)
    )


def draw(client: Client, **payload: Any) -> Any:
    """POST a draw to the API; the period defaults to the day of ``finished_chat``."""
    day = chat_day().isoformat()
    body = {"period_start": day, "period_end": day, "per_operator": 2, **payload}
    return client.post("/api/v1/quality/scans", body, content_type="application/json")


def feedback(client: Client, review_id: int, **payload: Any) -> Any:
    body = {
        "scores": {
            "welcome": 5,
            "clarifying": 4,
            "information": 4,
            "support": 5,
            "referral": None,
            "closing": 3,
        },
        "strengths": "Warm onthaal, goede open vragen.",
        "improvements": "Sluit af met een samenvatting.",
        "comment": "",
        **payload,
    }
    return client.post(
        f"/api/v1/quality/reviews/{review_id}/feedback", body, content_type="application/json"
    )
