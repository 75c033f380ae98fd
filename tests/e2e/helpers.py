"""Steps the browser tests share."""

from __future__ import annotations

import itertools
from typing import Any

import pyotp

_counter = itertools.count(1)
PASSWORD = "Een-lang-wachtwoord-42"


def create_operator(server: Any, *, pseudonym: str) -> str:
    username = f"op{next(_counter)}"
    server.cli(
        "createoperator",
        "--username",
        username,
        "--discipline",
        "nurse",
        "--pseudonym",
        pseudonym,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return username


def sign_in(page: Any, server: Any, username: str) -> None:
    """Both factors, enrolling the TOTP secret from the QR page's text key."""
    page.goto(f"{server.url}/medewerker/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/tweede-stap/")
    secret = page.text_content("#totp-secret")
    assert secret
    page.fill("#id_code", pyotp.TOTP(secret.strip()).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/medewerker/")


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """WCAG 2.x A and AA violations reported by axe-core on the current page."""
    page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
              values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return list(result)
