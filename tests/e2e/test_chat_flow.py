"""The whole chat in a real browser: a visitor and an operator in two
browser contexts, through intake, queue, chat both ways, a dropped and
resumed connection, end, rating and registration."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser


def _watch(page: Any, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error"
            and "WebSocket" not in msg.text
            and "ERR_CONNECTION_REFUSED" not in msg.text
            else None
        ),
    )


def test_visitor_and_operator_full_chat(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    problems: list[str] = []
    username = create_operator(server, pseudonym="Lotte")

    operator_ctx = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 800})
    visitor_ctx = browser.new_context(
        locale="nl-BE", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    operator = operator_ctx.new_page()
    visitor = visitor_ctx.new_page()
    _watch(operator, problems)
    _watch(visitor, problems)

    # The operator signs in with both factors and goes available.
    sign_in(operator, server, username)
    expect(operator.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    operator.click("#availability-available")
    expect(operator.locator("#availability-available")).to_have_attribute("aria-pressed", "true")

    # The visitor answers the intake (skipping the gender) and queues.
    visitor.goto(server.url + "/")
    expect(visitor.locator("#view-intake")).to_be_visible()
    visitor.check("input[name=audience][value=pupil]")
    visitor.fill("#intake-age", "15")
    visitor.select_option("#intake-source", "smartschool")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()
    expect(visitor.locator("#queue-position")).to_contain_text("1")

    # The operator sees the queue live, with the intake, and takes the chat.
    entry = operator.locator("#queue-list [data-queue-id]")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("15")
    entry.locator(".queue-accept").click()
    pane = operator.locator(".chat-pane")
    expect(pane).to_have_count(1)

    # The visitor sees the operator's pseudonym, never a real name.
    expect(visitor.locator("#view-chat")).to_be_visible()
    expect(visitor.locator("#chat-title")).to_contain_text("Lotte")

    # Chat both ways; markup is shown as text.
    visitor.fill("#composer-input", "Hallo <b>ik</b> <script>window.pwned=1</script>")
    visitor.press("#composer-input", "Enter")
    expect(pane.locator(".messages .from-visitor")).to_have_count(1)
    expect(pane.locator(".messages .from-visitor")).to_contain_text("<b>ik</b>")
    assert pane.locator(".messages b").count() == 0
    assert visitor.evaluate("window.pwned") is None

    pane.locator("textarea.composer-input").fill("Dag! Waarover wil je praten?")
    pane.locator("button.composer-send").click()
    expect(visitor.locator("#messages .from-operator")).to_have_count(1)
    expect(visitor.locator("#messages .from-operator")).to_contain_text("Waarover")

    # Typing indicator reaches the visitor; read receipts reach both.
    pane.locator("textarea.composer-input").type("Ik")
    expect(visitor.locator("#typing")).to_be_visible()
    pane.locator("textarea.composer-input").fill("")
    expect(visitor.locator("#messages .from-visitor .receipt")).to_have_text(re.compile("gelezen"))

    # The connection drops: the server goes down. The visitor keeps typing.
    server.stop()
    expect(visitor.locator("#connection-banner")).to_be_visible()
    visitor.fill("#composer-input", "Ben je er nog?")
    visitor.press("#composer-input", "Enter")
    visitor.fill("#composer-input", "Mijn wifi is slecht")
    visitor.press("#composer-input", "Enter")
    server.start()

    # Both sides resume; the offline messages arrive exactly once.
    expect(pane.locator(".messages .from-visitor")).to_have_count(3, timeout=20000)
    expect(visitor.locator("#messages .from-visitor .receipt").last).not_to_have_text(
        re.compile("wordt verstuurd"), timeout=20000
    )

    # A reload resumes the same conversation with every message.
    visitor.reload()
    expect(visitor.locator("#view-chat")).to_be_visible()
    expect(visitor.locator("#messages li")).to_have_count(4)
    operator.wait_for_timeout(500)
    expect(pane.locator(".messages .from-visitor")).to_have_count(3)

    # Accessibility of the live console and the visitor's chat.
    assert run_axe(operator, axe_source) == []
    assert run_axe(visitor, axe_source) == []

    # The visitor ends the chat and rates it.
    visitor.once("dialog", lambda dialog: dialog.accept())
    visitor.click("#end-chat")
    expect(visitor.locator("#view-rating")).to_be_visible()
    assert visitor.locator("#messages li").count() == 0
    assert run_axe(visitor, axe_source) == []
    visitor.check("input[name=rating][value='4']")
    visitor.fill("#rating-comment", "Dank je")
    visitor.click("#rating-submit")
    expect(visitor.locator("#view-thanks")).to_be_visible()
    assert run_axe(visitor, axe_source) == []
    storage = visitor.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert storage == "{}"
    # Only the returning-visitor key stays (privacy page; docs/security.md).
    kept = visitor.evaluate("Object.keys(localStorage)")
    assert kept == ["onthaal.returning"]

    # The operator registers the chat from the to-do list.
    todo = operator.locator("#todo-list [data-todo-id]")
    expect(todo).to_have_count(1)
    todo.locator(".todo-open").click()
    form = operator.locator("#registration-form")
    expect(form).to_be_visible()
    form.locator("input[name=topic]").first.check()
    form.locator("input[name=result]").first.check()
    operator.fill("#registration-note", "Vraag over studiekeuze")
    operator.click("#registration-save")
    expect(todo).to_have_count(0)

    # What was recorded for the statistics.
    recorded = server.shell(
        "from onthaal.chat.models import Conversation;"
        "c = Conversation.objects.order_by('-pk').first();"
        "print(c.status, c.end_reason, c.audience, c.age, c.gender or '-', c.referral_source,"
        " c.device_class, c.rating, c.messages.count(), c.registration.topics.count())"
    )
    assert recorded.split() == [
        "ended",
        "visitor_ended",
        "pupil",
        "15",
        "-",
        "smartschool",
        "mobile",
        "4",
        "4",
        "1",
    ]
    assert problems == []
    operator_ctx.close()
    visitor_ctx.close()


def test_closed_page_shows_next_opening_and_helplines(
    server: Any, browser: Any, chat_closed: None, axe_source: str
) -> None:
    ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    page.goto(server.url + "/")
    expect(page.locator("#view-closed")).to_be_visible()
    expect(page.locator("#view-intake")).to_be_hidden()
    expect(page.locator("#next-opening")).not_to_be_empty()
    for number in ("1813", "102", "112"):
        expect(page.locator(f"#view-closed a[href='tel:{number}']")).to_be_visible()
    assert run_axe(page, axe_source) == []
    ctx.close()


def test_visitor_page_fits_360px_and_weighs_under_100kb(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    ctx = browser.new_context(
        locale="nl-BE", viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    page = ctx.new_page()
    page.goto(server.url + "/")
    expect(page.locator("#view-intake")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#quick-exit")).to_be_in_viewport()

    # Add up the bytes of the page's own JS and CSS as served.
    urls = page.evaluate(
        """() => [...document.querySelectorAll('link[rel=stylesheet][href], script[src]')]
                .map(e => e.href || e.src)"""
    )
    own = [u for u in urls if u.startswith(server.url)]
    assert len(own) >= 4, urls  # base.css, visitor.css, quickexit.js, visitor.js
    sizes = {
        u: len(page.request.get(u, headers={"Accept-Encoding": "identity"}).body()) for u in own
    }
    total = sum(sizes.values())
    print(f"visitor page own JS+CSS: {total} bytes in {len(sizes)} files: {sizes}")
    assert all(sizes.values())
    assert total < 100_000
    assert run_axe(page, axe_source) == []

    # Quick exit leaves for a neutral site and replaces the history entry.
    page.route(
        "**/*",
        lambda route: (
            route.fulfill(status=200, body="neutral")
            if not route.request.url.startswith(server.url)
            else route.continue_()
        ),
    )
    before = page.evaluate("history.length")
    page.click("#quick-exit")
    page.wait_for_url(lambda url: not url.startswith(server.url))
    assert page.evaluate("history.length") == before
    ctx.close()


def test_privacy_page_tells_the_visitor_what_is_kept(
    server: Any, browser: Any, axe_source: str
) -> None:
    ctx = browser.new_context(locale="nl-BE", viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.click("text=Wat bewaren we over jou?")
    page.wait_for_url("**/privacy/")
    expect(page.locator("main")).to_contain_text("IP-adres")
    expect(page.locator("main")).to_contain_text("30 dagen na het gesprek")
    assert run_axe(page, axe_source) == []
    ctx.close()
