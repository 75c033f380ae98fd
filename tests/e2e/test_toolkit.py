"""Canned responses, the social map and the long-wait alternatives in a real
browser: an operator inserts a canned response by its short code and a link
from the social map; a visitor who waits long is offered other helplines and
self-help tools while keeping their place; axe-core finds no violation on
the new pages.

The module runs its own server with ONTHAAL_LONG_WAIT_MINUTES=0.05 (3 s),
so that "long" comes within a test's patience.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, _free_port
from tests.e2e.helpers import PASSWORD, create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser

_coordinators = itertools.count(1)


@pytest.fixture(scope="module")
def toolkit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own, open today, with a 3-second "long wait". It keeps
    to SQLite and the in-memory layer in its own data directory even when the
    test command points the session's server at PostgreSQL and Redis, so that
    the two servers never share a queue."""
    data_dir = tmp_path_factory.mktemp("onthaal-e2e-toolkit")
    env = {
        **os.environ,
        "ONTHAAL_DEBUG": "true",
        "ONTHAAL_DATA_DIR": str(data_dir),
        "ONTHAAL_RECONNECT_GRACE_SECONDS": "120",
        "ONTHAAL_SWEEP_INTERVAL_SECONDS": "2",
        "ONTHAAL_LONG_WAIT_MINUTES": "0.05",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "ONTHAAL_DATABASE_URL", "ONTHAAL_REDIS_URL"):
        env.pop(name, None)
    srv = Server(data_dir=data_dir, port=_free_port(), env=env)
    srv.cli("migrate", "--no-input")
    srv.shell(
        "from django.utils import timezone; from datetime import time;"
        "from onthaal.hours.models import ExtraOpening;"
        "ExtraOpening.objects.get_or_create(date=timezone.localdate(), opens=time(0, 0),"
        " closes=time(23, 59), defaults={'note': 'e2e'})"
    )
    srv.start()
    yield srv
    srv.stop()


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


def _queue_visitor(browser: Any, srv: Server, *, age: str) -> Any:
    context = browser.new_context(
        locale="nl-BE", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    visitor = context.new_page()
    visitor.goto(srv.url + "/")
    visitor.check("input[name=audience][value=pupil]")
    visitor.fill("#intake-age", age)
    visitor.click("#intake-submit")
    expect(visitor.locator("#view-waiting")).to_be_visible()
    return visitor


def _go_available(operator: Any) -> None:
    expect(operator.locator("#connection-state")).to_contain_text(re.compile("erbonden", re.I))
    operator.click("#availability-available")
    expect(operator.locator("#availability-available")).to_have_attribute("aria-pressed", "true")


def test_an_operator_inserts_a_canned_response_by_its_code_and_a_social_map_link(
    toolkit_server: Server, browser: Any, axe_source: str
) -> None:
    srv = toolkit_server
    problems: list[str] = []
    username = create_operator(srv, pseudonym="Sam")
    operator = browser.new_context(
        locale="nl-BE", viewport={"width": 1280, "height": 900}
    ).new_page()
    _watch(operator, problems)
    sign_in(operator, srv, username)

    # A personal canned response, made on the management page.
    operator.goto(srv.url + "/hulpmiddelen/snelantwoorden/")
    assert run_axe(operator, axe_source) == []
    operator.fill("#id_code", "/hoi")
    operator.fill("#id_title", "Begroeting")
    operator.fill("#id_body", "Dag, fijn dat je ons contacteert. Waarover wil je praten?")
    operator.click("form[method=post] button[type=submit]")
    expect(operator.locator(".toolkit-message")).to_contain_text("/hoi")
    expect(operator.locator("#personal-title ~ ul")).to_contain_text("Begroeting")
    assert run_axe(operator, axe_source) == []

    # The social map page, searched.
    operator.goto(srv.url + "/hulpmiddelen/sociale-kaart/?q=studiekeuze")
    expect(operator.locator(".toolkit-list")).to_contain_text("Onderwijskiezer")
    assert run_axe(operator, axe_source) == []

    # The console: go available, take a visitor's chat.
    operator.goto(srv.url + "/medewerker/")
    _go_available(operator)
    expect(operator.locator("#canned-list")).to_contain_text("/hoi", timeout=5000)
    visitor = _queue_visitor(browser, srv, age="14")
    operator.locator("#take-next").click()
    pane = operator.locator(".chat-pane")
    expect(pane).to_have_count(1)
    expect(visitor.locator("#view-chat")).to_be_visible()

    # Type the code, press Tab: the text replaces it and can still be edited.
    composer = pane.locator("textarea.composer-input")
    composer.click()
    composer.type("/hoi")
    composer.press("Tab")
    expect(composer).to_have_value("Dag, fijn dat je ons contacteert. Waarover wil je praten?")
    expect(composer).to_be_focused()
    composer.type(" Neem je tijd.")
    # Enter sends what is in the composer, edit included.
    composer.press("Enter")
    expect(visitor.locator("#messages .from-operator")).to_have_text(
        "Dag, fijn dat je ons contacteert. Waarover wil je praten? Neem je tijd."
    )
    # An unknown code: Tab leaves the text alone and moves the focus on.
    composer.type("/bestaatniet")
    composer.press("Tab")
    expect(composer).to_have_value("/bestaatniet")
    expect(composer).not_to_be_focused()
    composer.fill("")

    # The social map from the console: search, put a link in the message.
    operator.fill("#social-map-q", "pesten")
    operator.click("#social-map-form button[type=submit]")
    result = operator.locator("#social-map-results li", has_text="Conflicthelden")
    expect(result).to_have_count(1)
    link = result.locator("a")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    composer.click()
    result.locator("button").click()
    expect(composer).to_have_value("Conflicthelden: https://www.conflicthelden.be")
    assert run_axe(operator, axe_source) == []
    assert problems == []


def test_a_visitor_who_waits_long_is_offered_alternatives_and_keeps_their_place(
    toolkit_server: Server, browser: Any, axe_source: str
) -> None:
    srv = toolkit_server
    problems: list[str] = []
    visitor = _queue_visitor(browser, srv, age="13")
    _watch(visitor, problems)
    alternatives = visitor.locator("#wait-alternatives")
    # Nobody takes the chat: after 3 s the alternatives appear.
    expect(alternatives).to_be_visible(timeout=15000)
    expect(alternatives).to_contain_text("Je blijft in de wachtrij.")
    helplines = visitor.locator("#alternatives-helplines li")
    expect(helplines.first).to_contain_text("Zelfmoordlijn 1813")
    expect(visitor.locator("#alternatives-helplines")).to_contain_text("Awel")
    expect(visitor.locator("#alternatives-helplines")).to_contain_text("Tele-Onthaal")
    expect(visitor.locator("#alternatives-helplines a[href='tel:1813']")).to_have_count(1)
    tools = visitor.locator("#alternatives-tools")
    expect(tools).to_contain_text("NokNok")  # 12–16: fits a 13-year-old
    expect(tools).not_to_contain_text("Geluksdriehoek")  # 16+
    for link in visitor.locator("#wait-alternatives a[target=_blank]").all():
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert (link.get_attribute("href") or "").startswith("https://")
    # Still waiting, still in line.
    expect(visitor.locator("#view-waiting")).to_be_visible()
    expect(visitor.locator("#queue-position")).to_contain_text("1")
    assert run_axe(visitor, axe_source) == []

    # Opening a tool in a new tab does not cost the place in the queue.
    with visitor.context.expect_page() as new_tab:
        visitor.locator("#alternatives-tools a").first.click()
    new_tab.value.close()

    # An operator comes: the same visitor's chat starts on the same page.
    username = create_operator(srv, pseudonym="Noor")
    operator = browser.new_context(locale="nl-BE").new_page()
    sign_in(operator, srv, username)
    _go_available(operator)
    operator.locator("#take-next").click()
    expect(visitor.locator("#view-chat")).to_be_visible()
    expect(visitor.locator("#chat-title")).to_contain_text("Noor")
    expect(alternatives).to_be_hidden()
    assert problems == []


def test_a_coordinators_management_pages_pass_axe(
    toolkit_server: Server, browser: Any, axe_source: str
) -> None:
    srv = toolkit_server
    username = f"coordinator{next(_coordinators)}"
    srv.cli(
        "createoperator",
        "--username",
        username,
        "--discipline",
        "nurse",
        "--role",
        "coordinator",
        "--pseudonym",
        "Coco",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    page = browser.new_context(locale="nl-BE").new_page()
    sign_in(page, srv, username)
    page.goto(srv.url + "/hulpmiddelen/snelantwoorden/")
    expect(page.locator("#id_scope")).to_be_visible()
    # A refused form shows its errors accessibly too.
    page.fill("#id_code", "wel kom")
    page.fill("#id_title", "x")
    page.fill("#id_body", "x")
    page.click("form[method=post] button[type=submit]")
    expect(page.locator(".error").first).to_be_visible()
    assert run_axe(page, axe_source) == []
    page.goto(srv.url + "/hulpmiddelen/sociale-kaart/")
    expect(page.locator("#id_name")).to_be_visible()
    assert run_axe(page, axe_source) == []
    page.locator(".toolkit-list a", has_text="Wijzig").first.click()
    expect(page.locator("#id_name")).to_be_visible()
    assert run_axe(page, axe_source) == []
