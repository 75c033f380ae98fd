"""A passkey in a real browser: Chromium's virtual authenticator (over CDP)
registers one from the console and then signs in with it instead of the
TOTP code.

WebAuthn needs a secure context and a relying party id that is a domain,
so this test talks to the server as http://localhost:PORT (a secure
context in Chromium) rather than 127.0.0.1; the relying party id is then
the request's host, "localhost", which is what ONTHAAL_WEBAUTHN_RP_ID
would otherwise say.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PASSWORD, create_operator, run_axe, sign_in

pytestmark = pytest.mark.browser


def test_register_a_passkey_then_sign_in_with_it(
    server: Any, browser: Any, axe_source: str
) -> None:
    problems: list[str] = []
    username = create_operator(server, pseudonym="Pieter")
    base = f"http://localhost:{server.port}"
    context = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and "WebSocket" not in msg.text
            else None
        ),
    )
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator_id = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    # Signed in with password and TOTP, the operator adds a passkey from the console.
    sign_in(page, SimpleNamespace(url=base), username)
    page.click("#passkeys-link")
    page.wait_for_url(f"{base}/medewerker/passkeys/")
    expect(page.locator("#no-passkeys")).to_be_visible()
    assert run_axe(page, axe_source) == []
    page.fill("#passkey-name", "Laptop")
    page.click("#passkey-add")
    expect(page.locator("tr[data-passkey-id]")).to_contain_text("Laptop")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(stored["credentials"]) == 1
    assert stored["credentials"][0]["rpId"] == "localhost"

    # Signed out, and in again: password, then the passkey instead of the code.
    page.goto(f"{base}/medewerker/")
    page.click(".logout-form button[type=submit]")
    page.wait_for_url(f"{base}/medewerker/aanmelden/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/tweede-stap/")
    expect(page.locator("#passkey-sign-in")).to_be_visible()
    assert run_axe(page, axe_source) == []
    page.click("#passkey-sign-in")
    page.wait_for_url(f"{base}/medewerker/")
    expect(page.locator("#passkeys-link")).to_be_visible()

    # The server saw a passkey sign-in, and the authenticator's counter went up.
    audit = server.shell(
        "from onthaal.audit.models import AuditEntry;"
        f"e = AuditEntry.objects.filter(action='login', actor__username='{username}')"
        ".latest('id'); print(e.detail['method'])"
    )
    assert audit.strip() == "passkey"
    page.goto(f"{base}/medewerker/passkeys/")
    expect(page.locator("tr[data-passkey-id]")).not_to_contain_text("nog niet")

    # Ten minutes later (the session's second factor made old on the server),
    # adding or removing a passkey first asks to confirm: done with the passkey.
    (session_id,) = [c["value"] for c in context.cookies() if c["name"] == "sessionid"]
    server.shell(
        "from django.contrib.sessions.backends.db import SessionStore;"
        f"s = SessionStore(session_key='{session_id}');"
        "s['onthaal_second_factor_at'] = s['onthaal_second_factor_at'] - 600; s.save()"
    )
    page.goto(f"{base}/medewerker/passkeys/")
    expect(page.locator("#reauth")).to_be_visible()
    expect(page.locator("#passkey-register")).to_have_count(0)
    assert run_axe(page, axe_source) == []
    page.click("#passkey-confirm")
    expect(page.locator("#passkey-register")).to_be_visible()
    expect(page.locator("#reauth")).to_have_count(0)
    assert problems == []
    context.close()
