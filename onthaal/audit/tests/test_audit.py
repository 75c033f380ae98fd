"""Logins, failed logins, transcripts opened and account changes are logged."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from django.test import Client

from conftest import PASSWORD
from onthaal.audit.models import Action, AuditEntry
from onthaal.staff.models import Role, User

pytestmark = pytest.mark.django_db


def _actions() -> list[tuple[str, str]]:
    return [(e.action, e.actor_name) for e in AuditEntry.objects.order_by("id")]


def test_password_failure_totp_failure_and_login_are_logged(operator: User) -> None:
    client = Client()
    client.post("/medewerker/aanmelden/", {"username": operator.username, "password": "nope"})
    client.post("/medewerker/aanmelden/", {"username": operator.username, "password": PASSWORD})
    client.get("/medewerker/aanmelden/tweede-stap/")
    client.post("/medewerker/aanmelden/tweede-stap/", {"code": "000000"})
    operator.refresh_from_db()
    code = pyotp.TOTP(operator.totp_secret).now()
    client.post("/medewerker/aanmelden/tweede-stap/", {"code": code})
    client.post("/medewerker/afmelden/")
    assert _actions() == [
        (Action.LOGIN_FAILED, operator.username),
        (Action.LOGIN_FAILED, operator.username),
        (Action.LOGIN, operator.username),
        (Action.LOGOUT, operator.username),
    ]
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED)[0].detail["factor"] in {
        "password",
        "totp",
    }


def test_a_coordinator_reading_a_transcript_is_logged_the_operator_is_not(
    chat_open: Any,
    operator: User,
    operator_client: Client,
    coordinator: User,
    coordinator_client: Client,
    make_ended_conversation: Any,
) -> None:
    conversation, _ = make_ended_conversation(operator)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    assert operator_client.get(url).status_code == 200
    assert not AuditEntry.objects.filter(action=Action.TRANSCRIPT_OPENED).exists()
    assert coordinator_client.get(url).status_code == 200
    entry = AuditEntry.objects.get(action=Action.TRANSCRIPT_OPENED)
    assert entry.actor == coordinator
    assert entry.target == f"conversation:{conversation.pk}"


def test_account_creation_and_role_change_in_the_admin_are_logged(admin_user: Any) -> None:
    admin_user.role = Role.ADMINISTRATOR
    admin_user.save(update_fields=["role"])
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/beheer/staff/user/add/",
        {
            "username": "nieuw",
            "password1": "Een-lang-wachtwoord-42",
            "password2": "Een-lang-wachtwoord-42",
            "usable_password": "true",
            "pseudonym": "Nina",
            "discipline": "nurse",
            "role": "operator",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(username="nieuw")
    created = AuditEntry.objects.get(action=Action.ACCOUNT_CREATED)
    assert created.target == f"user:{user.pk}"
    assert created.actor == admin_user


def test_the_audit_log_is_read_only_in_the_admin(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/beheer/audit/auditentry/").status_code == 200
    assert client.get("/beheer/audit/auditentry/add/").status_code == 403


def test_a_coordinator_cannot_edit_an_administrator_account(
    coordinator: User, admin_user: Any
) -> None:
    client = Client()
    client.force_login(coordinator)
    # They may see the account (view permission), not change it.
    assert client.get(f"/beheer/staff/user/{admin_user.pk}/change/").status_code == 200
    response = client.post(
        f"/beheer/staff/user/{admin_user.pk}/change/", {"username": "x", "is_active": ""}
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active
