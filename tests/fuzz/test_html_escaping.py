"""Markup in what visitors and staff type is shown as text, never run.

Every free-text field a visitor or operator can fill (message body and its
client_id, rating comment, registration note, pseudonym, the intake answers,
the username typed at sign-in) is given a script and an ``onerror`` image
through the same HTTP interfaces a browser uses. Then:

- every server-rendered page that can show the value (the admin's lists and
  detail pages of conversations, registrations, users and the audit log, the
  admin search, the sign-in page, the console and the visitor page) has it
  only escaped, never raw;
- the JSON API returns it unchanged, as a JSON string, with a JSON content
  type and ``nosniff`` (escaping is the client's job);
- the client scripts have no HTML sink (innerHTML and friends), so the value
  can only reach the page as text (they use textContent);
- templates and Python code never switch autoescaping off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from onthaal.audit.models import AuditEntry
from onthaal.chat.models import Conversation
from onthaal.registration.models import Registration, Topic
from onthaal.staff.models import Role, User

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
PSEUDONYM = "<img src=x onerror=alert(3)>"  # a pseudonym has at most 40 characters
RAW_MARKERS = ["<script>alert(1)", "<img src=x onerror=alert("]

APP_DIR = Path(settings.BASE_DIR)


def _json(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
    return response.json()


@dataclass
class Stored:
    """A chat in which every free-text field holds markup."""

    conversation_id: int
    token: str
    registration_id: int
    operator: User
    operator_client: Client
    admin_client: Client
    login_page: str


@pytest.fixture
def stored(chat_open: Any, operator: User, staff_factory: Any) -> Stored:
    staff = Client()
    staff.force_login(operator)
    visitor = Client()

    assert (
        staff.patch(
            "/api/v1/operator/me", {"pseudonym": PSEUDONYM}, content_type="application/json"
        ).status_code
        == 200
    )

    opened = visitor.post(
        "/api/v1/conversations",
        {"audience": "pupil", "age": 15},
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.content
    conversation_id, token = opened.json()["id"], opened.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/conversations/{conversation_id}"

    sent = visitor.post(
        f"{base}/messages",
        {"client_id": PAYLOAD, "body": PAYLOAD},
        content_type="application/json",
        headers=bearer,
    )
    assert sent.status_code == 201, sent.content
    assert staff.post(f"{base}/accept").status_code == 200
    sent = staff.post(
        f"{base}/messages", {"client_id": "o1", "body": PAYLOAD}, content_type="application/json"
    )
    assert sent.status_code == 201, sent.content
    assert staff.post(f"{base}/end").status_code == 200
    rated = visitor.post(
        f"{base}/rating",
        {"rating": 5, "comment": PAYLOAD},
        content_type="application/json",
        headers=bearer,
    )
    assert rated.status_code == 200, rated.content
    topic = Topic.objects.filter(is_active=True).first()
    assert topic is not None
    registered = staff.put(
        f"{base}/registration",
        {"topic_ids": [topic.pk], "note": PAYLOAD},
        content_type="application/json",
    )
    assert registered.status_code == 200, registered.content

    # Anyone can type markup as a username at sign-in: the page shows it
    # again, and the failed attempt is in the audit log under that name.
    login = Client().post("/medewerker/aanmelden/", {"username": PAYLOAD, "password": "x" * 12})
    assert login.status_code == 200
    assert AuditEntry.objects.filter(actor_name=PAYLOAD).exists()

    admin = staff_factory(role=Role.ADMINISTRATOR, pseudonym="Beheer")
    admin_client = Client()
    admin_client.force_login(admin)
    return Stored(
        conversation_id=conversation_id,
        token=token,
        registration_id=Registration.objects.get(conversation_id=conversation_id).pk,
        operator=operator,
        operator_client=staff,
        admin_client=admin_client,
        login_page=login.content.decode(),
    )


def test_pages_show_the_markup_only_escaped(stored: Stored) -> None:
    conversation, registration = stored.conversation_id, stored.registration_id
    # (who, page, what it must show escaped, or None when it shows none of it)
    pages: list[tuple[str, str, str | None]] = [
        ("visitor", "/", None),
        ("visitor", "/privacy/", None),
        ("operator", "/medewerker/", None),
        ("admin", "/beheer/", None),
        ("admin", "/beheer/chat/conversation/", PSEUDONYM),  # the operator column
        ("admin", f"/beheer/chat/conversation/{conversation}/change/", PAYLOAD),  # comment
        ("admin", "/beheer/registration/registration/", PSEUDONYM),
        ("admin", f"/beheer/registration/registration/{registration}/change/", PAYLOAD),
        ("admin", "/beheer/staff/user/", PSEUDONYM),
        ("admin", f"/beheer/staff/user/{stored.operator.pk}/change/", PSEUDONYM),
        ("admin", "/beheer/audit/auditentry/", PAYLOAD),  # the failed sign-in's name
        ("admin", f"/beheer/staff/user/?q={quote(PAYLOAD)}", PAYLOAD),  # search echoed
        ("admin", f"/beheer/audit/auditentry/?q={quote(PAYLOAD)}", PAYLOAD),
    ]
    clients = {
        "visitor": Client(),
        "operator": stored.operator_client,
        "admin": stored.admin_client,
    }
    problems = []
    for who, url, shown in pages:
        response = clients[who].get(url)
        if response.status_code != 200:
            problems.append(f"{url}: status {response.status_code}")
            continue
        html = response.content.decode()
        for marker in RAW_MARKERS:
            if marker in html:
                problems.append(f"{url}: raw markup {marker!r} in the page")
        if shown is not None and escape(shown) not in html:
            problems.append(f"{url}: does not show {escape(shown)!r} (what is this page for?)")
    assert not problems, "\n".join(problems)


def test_the_sign_in_page_shows_a_typed_username_escaped(stored: Stored) -> None:
    for marker in RAW_MARKERS:
        assert marker not in stored.login_page
    assert escape(PAYLOAD) in stored.login_page


def test_the_api_returns_the_markup_as_a_json_string(stored: Stored) -> None:
    base = f"/api/v1/conversations/{stored.conversation_id}"
    visitor = Client(headers={"Authorization": f"Bearer {stored.token}"})

    messages = _json(visitor.get(f"{base}/messages"))["messages"]
    assert [(m["sender"], m["body"]) for m in messages] == [
        ("visitor", PAYLOAD),
        ("operator", PAYLOAD),
    ]
    assert messages[0]["client_id"] == PAYLOAD
    detail = _json(visitor.get(base))
    assert detail["conversation"]["operator_pseudonym"] == PSEUDONYM

    staff = stored.operator_client
    assert _json(staff.get(f"{base}/registration"))["note"] == PAYLOAD
    assert _json(staff.get("/api/v1/operator/me"))["pseudonym"] == PSEUDONYM
    # The comment is kept as typed (it is shown only in the admin, escaped).
    assert Conversation.objects.get(pk=stored.conversation_id).rating_comment == PAYLOAD


@pytest.mark.parametrize("field", ["audience", "gender", "referral_source"])
def test_markup_in_an_intake_answer_is_refused(chat_open: Any, field: str) -> None:
    response = Client().post(
        "/api/v1/conversations", {field: PAYLOAD}, content_type="application/json"
    )
    body = _json(response)
    assert (response.status_code, body["code"]) == (400, "invalid")
    assert field in body["details"]["fields"]
    assert PAYLOAD not in response.content.decode()  # not echoed back either
    assert not Conversation.objects.exists()


def test_markup_in_request_headers_is_not_kept(chat_open: Any) -> None:
    """The user agent gives only the device class; the language only a known one."""
    response = Client().post(
        "/api/v1/conversations",
        {},
        content_type="application/json",
        headers={"User-Agent": PAYLOAD, "Accept-Language": PAYLOAD},
    )
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.device_class in {"mobile", "desktop"}
    assert conversation.language in dict(settings.LANGUAGES)


# --- the client side and the templates --------------------------------------------------

HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML\s*\(|document\.write(ln)?\s*\(|"
    r"createContextualFragment\s*\(|new\s+DOMParser|\.srcdoc\s*=|"
    r"setHTMLUnsafe\s*\(|parseHTMLUnsafe\s*\(|\beval\s*\(|new\s+Function\s*\("
)


def test_client_scripts_have_no_html_sinks() -> None:
    scripts = sorted((APP_DIR / "static" / "onthaal").glob("*.js"))
    assert scripts
    found = [
        f"{script.name}:{number}: {line.strip()}"
        for script in scripts
        for number, line in enumerate(script.read_text().splitlines(), 1)
        if HTML_SINKS.search(line) and not line.strip().startswith("//")
    ]
    assert not found, "\n".join(found)


def test_autoescaping_is_never_switched_off() -> None:
    templates = [*APP_DIR.glob("templates/**/*.html"), *APP_DIR.glob("*/templates/**/*.html")]
    assert templates
    unsafe_template = re.compile(r"\|\s*safe\b|\|\s*safeseq\b|{%\s*autoescape\s+off")
    code = [
        path
        for path in APP_DIR.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    unsafe_code = re.compile(r"\bmark_safe\s*\(|\bSafeString\s*\(|\bSafeText\s*\(")
    found = [
        f"{path.relative_to(APP_DIR)}:{number}: {line.strip()}"
        for paths, pattern in ((templates, unsafe_template), (code, unsafe_code))
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)
