"""The dashboard in a real browser: axe-core finds no WCAG 2.x A/AA violation,
for a coordinator and for an operator, wide and narrow, and the page runs
under the strict CSP without errors.

Uses the end-to-end fixtures (a real server, Debian's Chromium). The session
is made in the server's database directly: the sign-in itself is tested in
tests/e2e.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import run_axe

pytestmark = pytest.mark.browser

SEED = """
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from onthaal.chat.models import Conversation
from onthaal.registration.models import Registration, Result, Topic
from onthaal.staff.models import User

B = ZoneInfo("Europe/Brussels")
coordinator, _ = User.objects.get_or_create(
    username="stats-coordinator", defaults={"role": "coordinator", "discipline": "nurse"})
operator, _ = User.objects.get_or_create(
    username="stats-operator", defaults={"role": "operator", "discipline": "doctor",
                                         "pseudonym": "Sofie"})
topics = list(Topic.objects.all()[:6])
results = list(Result.objects.all()[:4])
if not Conversation.objects.filter(token_hash__startswith="stats-e2e").exists():
    for i in range(60):
        queued = datetime(2024, 9, 2, 17, tzinfo=B) + timedelta(days=5 * i, minutes=7 * i % 200)
        held = i % 6 != 0
        c = Conversation.objects.create(
            status="ended", end_reason="visitor_ended" if held else "missed",
            audience="pupil" if i % 4 else "parent", age=12 + i % 6, gender="girl",
            referral_source="smartschool", device_class="mobile" if i % 2 else "desktop",
            queued_at=queued, accepted_at=queued + timedelta(minutes=3) if held else None,
            ended_at=queued + timedelta(minutes=25 + i % 30), token_hash=f"stats-e2e-{i}",
            visitor_seen_at=queued, operator=operator if held else None,
            rating=1 + i % 5 if held and i % 2 else None)
        if held:
            r = Registration.objects.create(conversation=c, operator=operator,
                prank_suspected=i % 13 == 0, created_at=queued, updated_at=queued)
            r.topics.set(topics[: 1 + i % 6])
            r.results.set(results[: 1 + i % 4])
for user in (coordinator, operator):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    print(user.username, s.session_key)
"""


def test_the_dashboard_passes_axe_for_every_viewer(
    server: Any,
    browser: Any,
    axe_source: str,
) -> None:
    sessions = dict(line.split() for line in server.shell(SEED).strip().splitlines()[-2:])
    for username in ("stats-coordinator", "stats-operator"):
        context = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": sessions[username], "url": server.url}])
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc, problems=problems: problems.append(str(exc)))
        page.on(
            "console",
            lambda msg, problems=problems: (
                problems.append(msg.text) if msg.type in {"error", "warning"} else None
            ),
        )
        page.goto(f"{server.url}/cijfers/?start=2024-09-01&end=2025-08-31")
        assert page.locator("h1").inner_text() in {"Cijfers", "Mijn cijfers"}
        assert page.locator("svg[role=img]").count() >= 3
        assert run_axe(page, axe_source) == [], username
        page.set_viewport_size({"width": 360, "height": 740})
        assert run_axe(page, axe_source) == [], username
        assert problems == [], problems
        context.close()
