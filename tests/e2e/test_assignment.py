"""Automatic assignment in a real browser: a waiting visitor is offered to the
operator, whose console shows the offer; accepting starts the chat. And the
closing cut-off: a visitor who starts a chat in the last minutes is told when
the chat opens next."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, _free_port
from tests.e2e.helpers import create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _not_at_midnight() -> None:
    now = datetime.now(ZoneInfo("Europe/Brussels"))
    if now.time() >= time(23, 30):
        pytest.skip("chat_open closes at 23:59: too close for a 10-minute cut-off")


@pytest.fixture(scope="module")
def auto_server(server: Server) -> Iterator[Server]:
    """A second server process on the same data, with ONTHAAL_ASSIGNMENT=auto
    and a 10-minute closing cut-off (chat_open opens until 23:59)."""
    env = {
        **server.env,
        "ONTHAAL_ASSIGNMENT": "auto",
        "ONTHAAL_OFFER_TIMEOUT_SECONDS": "60",
        "ONTHAAL_CLOSING_CUTOFF_MINUTES": "10",
    }
    auto = Server(data_dir=server.data_dir, port=_free_port(), env=env)
    # The manual server stops meanwhile: two processes on one SQLite file
    # with in-memory channel layers would each run a sweeper, and a change
    # one of them makes (a chat closed at closing time) would never reach a
    # visitor connected to the other.
    server.stop()
    auto.start()
    try:
        yield auto
    finally:
        auto.stop()
        server.start()


def test_an_offer_appears_in_the_console_and_is_accepted(
    auto_server: Server, browser: Any, chat_open: None, axe_source: str
) -> None:
    server = auto_server
    username = create_operator(server, pseudonym="Noor")
    operator_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 800})
    visitor_ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    operator = operator_ctx.new_page()
    visitor = visitor_ctx.new_page()
    problems: list[str] = []
    for page in (operator, visitor):
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    # Earlier browser tests share this database: nobody else waits, and no
    # other operator is available, so that the offer is this visitor's, to Noor.
    server.shell(
        "from django.utils import timezone;"
        "from onthaal.chat.models import Conversation;"
        "from onthaal.staff.models import User;"
        "Conversation.objects.filter(status='queued').update("
        " status='ended', end_reason='missed', ended_at=timezone.now());"
        f"User.objects.exclude(username='{username}').update(availability='offline')"
    )
    sign_in(operator, server, username)
    expect(operator.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    operator.click("#availability-available")
    expect(operator.locator("#availability-available")).to_have_attribute("aria-pressed", "true")
    expect(operator.locator("#offers")).to_be_hidden()

    visitor.goto(server.url + "/")
    visitor.check("input[name=audience][value=parent]")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()

    offer = operator.locator("#offer-list .offer-item")
    expect(offer).to_have_count(1, timeout=10_000)
    expect(offer.locator(".offer-who")).to_contain_text("Voor jou: ouder")
    expect(offer.locator(".offer-left")).to_contain_text("seconden")
    assert run_axe(operator, axe_source) == []

    offer.locator(".offer-accept").click()

    expect(operator.locator("#offers")).to_be_hidden()
    expect(operator.locator(".chat-pane")).to_have_count(1)
    expect(visitor.locator("#view-chat")).to_be_visible()
    expect(visitor.locator("#chat-title")).to_contain_text("Noor")
    assert problems == []
    operator_ctx.close()
    visitor_ctx.close()


def test_a_chat_started_in_the_cut_off_is_refused_with_the_next_opening(
    auto_server: Server, browser: Any, chat_open: None
) -> None:
    server = auto_server
    ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    visitor = ctx.new_page()
    visitor.goto(server.url + "/")
    expect(visitor.locator("#view-intake")).to_be_visible()

    # While the page is open, the day's hours change: the chat closes in five
    # minutes (inside the cut-off) and opens again tomorrow at 14:00.
    server.shell(
        "from datetime import time, timedelta; from django.utils import timezone;"
        "from onthaal.hours.models import ExtraOpening, Closure;"
        "now = timezone.localtime(); today = now.date();"
        "ExtraOpening.objects.filter(note='e2e').delete();"
        "Closure.objects.get_or_create(name='e2e', start=today, end=today + timedelta(days=1));"
        "closes = (now + timedelta(minutes=5)).time().replace(second=0, microsecond=0);"
        "ExtraOpening.objects.create(date=today, opens=time(0, 0), closes=closes, note='e2e-cut');"
        "ExtraOpening.objects.create(date=today + timedelta(days=1), opens=time(14, 0),"
        " closes=time(15, 0), note='e2e-cut')"
    )
    try:
        visitor.click("#intake-submit")

        expect(visitor.locator("#view-closed")).to_be_visible()
        expect(visitor.locator("#closed-title")).to_have_text(
            "De chat start geen nieuwe gesprekken meer"
        )
        expect(visitor.locator("#closed-message")).to_contain_text(
            "start geen nieuwe gesprekken meer. We zijn er weer op"
        )
        expect(visitor.locator("#closed-message")).to_contain_text("om 14:00")
        expect(visitor.locator("#view-intake")).to_be_hidden()
    finally:
        # Back to what chat_open set up.
        server.shell(
            "from datetime import time; from django.utils import timezone;"
            "from onthaal.hours.models import ExtraOpening, Closure;"
            "ExtraOpening.objects.filter(note='e2e-cut').delete();"
            "Closure.objects.filter(name='e2e').delete();"
            "ExtraOpening.objects.get_or_create(date=timezone.localdate(), opens=time(0, 0),"
            " closes=time(23, 59), defaults={'note': 'e2e'})"
        )
        ctx.close()


def test_a_visitor_still_waiting_at_closing_time_is_told(
    auto_server: Server, browser: Any, chat_open: None
) -> None:
    server = auto_server
    ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    visitor = ctx.new_page()
    visitor.goto(server.url + "/")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()

    # Closing time: the chat closes today; the sweeper (every 2 s) ends the queue.
    server.shell(
        "from django.utils import timezone;"
        "from onthaal.hours.models import ExtraOpening, Closure;"
        "ExtraOpening.objects.filter(note='e2e').delete();"
        "d = timezone.localdate(); Closure.objects.get_or_create(name='e2e', start=d, end=d)"
    )
    try:
        expect(visitor.locator("#view-thanks")).to_be_visible(timeout=15_000)
        expect(visitor.locator("#thanks-reason")).to_have_text(
            "De chat is gesloten voor je aan de beurt was. Sorry!"
        )
    finally:
        server.shell(
            "from datetime import time; from django.utils import timezone;"
            "from onthaal.hours.models import ExtraOpening, Closure;"
            "Closure.objects.filter(name='e2e').delete();"
            "ExtraOpening.objects.get_or_create(date=timezone.localdate(), opens=time(0, 0),"
            " closes=time(23, 59), defaults={'note': 'e2e'})"
        )
        ctx.close()
