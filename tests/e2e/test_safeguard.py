"""Returning visitors in a real browser: the key in localStorage (only its
keyed hash on the server), clearing it, the operator's alert when a visitor
confirmed as a prank returns, and the calm refusal of a blocked visitor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PASSWORD, create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser

KEY = "onthaal.returning"


def _visitor(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(
        locale="nl-BE", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    return context, context.new_page()


def _queue(visitor: Any, server: Any) -> None:
    visitor.goto(server.url + "/")
    visitor.check("input[name=audience][value=pupil]")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()


def _accept(operator: Any, visitor: Any) -> int:
    """The operator takes this visitor's chat (other tests' visitors may wait too)."""
    conversation_id = int(
        visitor.evaluate("JSON.parse(sessionStorage.getItem('onthaal.visitor')).id")
    )
    operator.locator(f"#queue-list [data-queue-id='{conversation_id}'] .queue-accept").click()
    return conversation_id


def test_the_key_is_kept_hashed_and_the_visitor_clears_it(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    context, visitor = _visitor(browser)
    _queue(visitor, server)
    key = visitor.evaluate(f"localStorage.getItem('{KEY}')")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    linked = server.shell(
        "from onthaal.safeguard.keys import visitor_key_hash;"
        "from onthaal.safeguard.models import ConversationVisitor as V;"
        f"print(V.objects.filter(visitor_hash=visitor_key_hash('{key}')).count(),"
        f" V.objects.filter(visitor_hash='{key}').count())"
    )
    assert linked.split() == ["1", "0"]
    visitor.click("#leave-queue")

    # The privacy page explains it and its button clears it.
    visitor.goto(server.url + "/privacy/")
    expect(visitor.locator("#returning")).to_have_text("Als je terugkomt")
    visitor.click("#forget-device")
    expect(visitor.locator("#forget-device-done")).to_be_visible()
    assert visitor.evaluate(f"localStorage.getItem('{KEY}')") is None
    assert run_axe(visitor, axe_source) == []

    # A new chat (in a new tab: this one remembers the ended chat) makes a
    # new key; quick exit clears it too.
    visitor = context.new_page()
    _queue(visitor, server)
    second = visitor.evaluate(f"localStorage.getItem('{KEY}')")
    assert second and second != key
    visitor.route(
        "**/*",
        lambda route: (
            route.fulfill(status=200, body="neutral")
            if not route.request.url.startswith(server.url)
            else route.continue_()
        ),
    )
    visitor.click("#quick-exit")
    visitor.wait_for_url(lambda url: not url.startswith(server.url))
    visitor.goto(server.url + "/privacy/")
    assert visitor.evaluate(f"localStorage.getItem('{KEY}')") is None
    context.close()


def test_a_confirmed_prank_alerts_the_operator_and_a_block_refuses_calmly(
    server: Any, browser: Any, chat_open: None, axe_source: str
) -> None:
    username = create_operator(server, pseudonym="Noor")
    operator = browser.new_context(
        locale="nl-BE", viewport={"width": 1280, "height": 800}
    ).new_page()
    sign_in(operator, server, username)
    expect(operator.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    operator.click("#availability-available")
    expect(operator.locator("#availability-available")).to_have_attribute("aria-pressed", "true")

    # A first chat, registered as a suspected prank, confirmed by a coordinator.
    context, visitor = _visitor(browser)
    _queue(visitor, server)
    first = _accept(operator, visitor)
    pane = operator.locator(".chat-pane")
    expect(pane).to_have_count(1)
    expect(pane.locator(".visitor-alert")).to_have_count(0)
    expect(visitor.locator("#view-chat")).to_be_visible()
    visitor.fill("#composer-input", "haha wie ben jij eigenlijk")
    visitor.press("#composer-input", "Enter")
    expect(pane.locator(".messages .from-visitor")).to_have_count(1)
    visitor.once("dialog", lambda dialog: dialog.accept())
    visitor.click("#end-chat")
    expect(visitor.locator("#view-rating")).to_be_visible()
    visitor.click("#rating-skip")
    server.shell(
        "from onthaal.chat.models import Conversation;"
        "from onthaal.registration.models import Result;"
        "from onthaal.registration.services import registration_save;"
        f"c = Conversation.objects.get(pk={first});"
        "registration_save(conversation=c, operator=c.operator, topic_ids=[],"
        " result_ids=[Result.objects.first().pk], prank_suspected=True)"
    )
    # The coordinator reads it in the review queue and confirms.
    coordinator_name = f"coordinator{first}"
    server.cli(
        "createoperator",
        "--username",
        coordinator_name,
        "--discipline",
        "nurse",
        "--role",
        "coordinator",
        "--pseudonym",
        "Baas",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    coordinator = browser.new_context(
        locale="nl-BE", viewport={"width": 1280, "height": 800}
    ).new_page()
    sign_in(coordinator, server, coordinator_name)
    coordinator.goto(server.url + "/nepoproepen/")
    assert run_axe(coordinator, axe_source) == []
    coordinator.click(f"a[href='/nepoproepen/chats/{first}/']")
    expect(coordinator.locator(".transcript")).to_contain_text("haha wie ben jij eigenlijk")
    assert run_axe(coordinator, axe_source) == []
    coordinator.check("input[name=decision][value=confirmed]")
    coordinator.get_by_role("button", name="Bewaar en sluit af").click()
    expect(coordinator.locator(".notice")).to_contain_text("Beslissing bewaard")
    expect(pane.locator(".close-pane")).to_be_visible()
    pane.locator(".close-pane").click()
    expect(pane).to_have_count(0)

    # The same browser returns: the operator sees the alert, the visitor does not.
    visitor.click("#new-chat")
    visitor.check("input[name=audience][value=pupil]")
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()
    _accept(operator, visitor)
    alert = operator.locator(".chat-pane .visitor-alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("eerder gemarkeerd als nepoproep")
    expect(visitor.locator("#view-chat")).to_be_visible()
    assert "nepoproep" not in visitor.content()
    assert run_axe(operator, axe_source) == []

    # Blocked: the next intake is refused calmly, with the emergency numbers.
    coordinator.check("input[name=duration][value='24h']")
    coordinator.get_by_role("button", name="Blokkeer", exact=True).click()
    expect(coordinator.locator(".notice")).to_contain_text("Bezoeker geblokkeerd")
    visitor.once("dialog", lambda dialog: dialog.accept())
    visitor.click("#end-chat")
    expect(visitor.locator("#view-rating")).to_be_visible()
    visitor.click("#rating-skip")
    visitor.click("#new-chat")
    visitor.check("input[name=audience][value=pupil]")
    visitor.click("#intake-submit")
    refusal = visitor.locator("#intake-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("1813")
    expect(refusal).to_contain_text("112")
    assert "blok" not in (refusal.text_content() or "").lower()
    expect(visitor.locator("#view-intake")).to_be_visible()
    context.close()
