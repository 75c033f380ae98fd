"""Supervision in a real browser: an operator asks for support, a coordinator
reads along from the live overview, whispers and takes the chat over; an
operator hands a live chat to a colleague while the visitor stays connected.
axe-core finds no WCAG 2.x A/AA violation on the overview."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PASSWORD, create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser

_coordinators = itertools.count(1)


def create_coordinator(server: Any, *, pseudonym: str) -> str:
    username = f"coord{next(_coordinators)}"
    server.cli(
        "createoperator",
        "--username",
        username,
        "--role",
        "coordinator",
        "--discipline",
        "psycho_pedagogue",
        "--pseudonym",
        pseudonym,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return username


def _watch(page: Any, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "WebSocket" not in msg.text
            else None
        ),
    )


def _go_available(page: Any) -> None:
    expect(page.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    page.click("#availability-available")
    expect(page.locator("#availability-available")).to_have_attribute("aria-pressed", "true")


def _visitor_queues(visitor: Any, server: Any) -> None:
    visitor.goto(server.url + "/")
    expect(visitor.locator("#view-intake")).to_be_visible()
    visitor.check("input[name=audience][value=pupil]")
    visitor.fill("#intake-age", "14")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()


def _end_all_chats(server: Any) -> None:
    """Each test starts with an empty line: no queue, no live chat."""
    server.shell(
        "from onthaal.chat.models import Conversation;"
        "Conversation.objects.filter(status__in=['queued', 'active'])"
        ".update(status='ended', end_reason='closed')"
    )


def test_support_whisper_and_take_over(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    _end_all_chats(server)
    problems: list[str] = []
    operator_name = create_operator(server, pseudonym="Lien")
    coordinator_name = create_coordinator(server, pseudonym="Coach Ann")
    op_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    co_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    vi_ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    operator, coordinator, visitor = op_ctx.new_page(), co_ctx.new_page(), vi_ctx.new_page()
    for page in (operator, coordinator, visitor):
        _watch(page, problems)

    sign_in(operator, server, operator_name)
    _go_available(operator)
    _visitor_queues(visitor, server)
    operator.locator("#queue-list .queue-accept").first.click()
    pane = operator.locator(".chat-pane")
    expect(pane).to_have_count(1)
    expect(visitor.locator("#chat-title")).to_contain_text("Lien")
    visitor.fill("#composer-input", "Ik weet het niet meer")
    visitor.press("#composer-input", "Enter")
    expect(pane.locator(".messages .from-visitor")).to_have_count(1)

    # The coordinator opens the live overview: the operator is online.
    sign_in(coordinator, server, coordinator_name)
    coordinator.goto(server.url + "/toezicht/")
    expect(coordinator.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    expect(coordinator.locator("#online-rows")).to_contain_text("Lien")
    expect(coordinator.locator("#active-rows tr")).to_have_count(1)
    # Lien is a nurse: the medical discipline is online, so no warning.
    expect(coordinator.locator("#warnings")).not_to_contain_text("medische")

    # The operator asks for support: the coordinator is alerted live.
    pane.locator(".ask-support").click()
    expect(pane.locator(".ask-support")).to_be_disabled()
    expect(coordinator.locator("#warnings")).to_contain_text("vraagt ondersteuning")
    expect(coordinator.locator("#support-list li")).to_have_count(1)
    assert run_axe(coordinator, axe_source) == []

    # The coordinator reads along; the operator sees it.
    coordinator.locator("#support-list .read-along").click()
    expect(coordinator.locator("#reading")).to_be_visible()
    expect(coordinator.locator("#reading-messages")).to_contain_text("Ik weet het niet meer")
    expect(pane.locator(".readers")).to_contain_text("Coach Ann leest mee")
    assert run_axe(coordinator, axe_source) == []

    # A new message of the visitor reaches the coordinator live.
    visitor.fill("#composer-input", "Ben je er nog?")
    visitor.press("#composer-input", "Enter")
    expect(coordinator.locator("#reading-messages")).to_contain_text("Ben je er nog?")

    # The whisper reaches the operator only.
    coordinator.fill("#whisper-input", "Vraag of er een volwassene in de buurt is.")
    coordinator.click("#whisper-send")
    expect(pane.locator(".staff-notes")).to_contain_text("volwassene in de buurt")
    visitor.wait_for_timeout(500)
    expect(visitor.locator("body")).not_to_contain_text("volwassene")

    # The coordinator takes over: the visitor sees only the new pseudonym.
    coordinator.click("#take-over")
    expect(pane.locator(".chat-status")).to_contain_text("Coach Ann heeft dit gesprek overgenomen")
    expect(pane.locator(".composer")).to_be_hidden()
    expect(visitor.locator("#chat-title")).to_contain_text("Coach Ann")
    expect(visitor.locator("#connection-banner")).to_contain_text("Coach Ann")
    expect(visitor.locator("body")).not_to_contain_text("overgenomen")

    # In the coordinator's console the chat is theirs, with every message.
    coordinator.goto(server.url + "/medewerker/")
    own = coordinator.locator(".chat-pane")
    expect(own).to_have_count(1)
    expect(own.locator(".messages .from-visitor")).to_have_count(2)
    own.locator("textarea.composer-input").fill("Ik neem het even over.")
    own.locator("button.composer-send").click()
    expect(visitor.locator("#messages .from-operator")).to_contain_text("Ik neem het even over.")
    visitor.fill("#composer-input", "Oké")
    visitor.press("#composer-input", "Enter")
    expect(own.locator(".messages .from-visitor")).to_have_count(3)
    expect(pane.locator(".messages .from-visitor")).to_have_count(2)

    assert problems == []
    for ctx in (op_ctx, co_ctx, vi_ctx):
        ctx.close()


def test_transfer_with_the_visitor_connected(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    _end_all_chats(server)
    problems: list[str] = []
    first_name = create_operator(server, pseudonym="Eerste")
    second_name = create_operator(server, pseudonym="Tweede")
    a_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    b_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    vi_ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    first, second, visitor = a_ctx.new_page(), b_ctx.new_page(), vi_ctx.new_page()
    for page in (first, second, visitor):
        _watch(page, problems)

    sign_in(first, server, first_name)
    _go_available(first)
    sign_in(second, server, second_name)
    _go_available(second)
    _visitor_queues(visitor, server)
    first.locator("#queue-list .queue-accept").first.click()
    pane = first.locator(".chat-pane")
    expect(pane).to_have_count(1)
    visitor.fill("#composer-input", "Vraag over mijn studiekeuze")
    visitor.press("#composer-input", "Enter")
    expect(pane.locator(".messages .from-visitor")).to_have_count(1)

    # The first operator hands the chat to the second, with a note.
    pane.locator(".transfer-open").click()
    expect(pane.locator(".transfer-form")).to_be_visible()
    expect(pane.locator(".transfer-target option")).to_have_count(1)
    expect(pane.locator(".transfer-target option")).to_contain_text("Tweede")
    pane.locator(".transfer-note").fill("Twijfelt tussen twee richtingen.")
    assert run_axe(first, axe_source) == []
    pane.locator(".transfer-confirm").click()
    expect(pane.locator(".chat-status")).to_contain_text("overgedragen aan Tweede")

    # The second operator has the chat, its messages and the note.
    theirs = second.locator(".chat-pane")
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".messages .from-visitor")).to_have_count(1)
    expect(theirs.locator(".staff-notes")).to_contain_text("Twijfelt tussen twee richtingen.")

    # The visitor stayed connected, writes on and reaches the new operator.
    expect(visitor.locator("#chat-title")).to_contain_text("Tweede")
    visitor.fill("#composer-input", "Hallo?")
    visitor.press("#composer-input", "Enter")
    expect(theirs.locator(".messages .from-visitor")).to_have_count(2)
    theirs.locator("textarea.composer-input").fill("Ik help je verder.")
    theirs.locator("button.composer-send").click()
    expect(visitor.locator("#messages .from-operator")).to_contain_text("Ik help je verder.")
    expect(visitor.locator("body")).not_to_contain_text("Twijfelt")
    expect(pane.locator(".messages .from-visitor")).to_have_count(1)

    held = server.shell(
        "from onthaal.chat.models import Conversation;"
        "c = Conversation.objects.filter(status='active').get();"
        "print(c.operator.pseudonym, list(c.events.values_list('kind', flat=True)))"
    )
    assert held.startswith("Tweede")
    assert "'transferred'" in held

    assert problems == []
    for ctx in (a_ctx, b_ctx, vi_ctx):
        ctx.close()
