"""Adding or removing a passkey asks for a recent second factor.

A signed-in session passed two factors at sign-in; but a session taken over
later (an unlocked laptop, a stolen cookie) must not be able to add a factor
of its own. So adding or removing a passkey needs a TOTP code or a passkey
given within ONTHAAL_REAUTH_MINUTES: at sign-in, or again on the passkeys page.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from onthaal.audit.models import Action, AuditEntry
from onthaal.staff import services
from onthaal.staff import views as staff_views
from onthaal.staff.models import PasskeyCredential, User
from onthaal.staff.tests.softauthn import SoftAuthenticator
from onthaal.staff.tests.test_passkeys import (
    PAGE,
    REGISTER,
    REGISTER_OPTIONS,
    at_second_step,
    confirmed,
    passkey_step,
    post_json,
    register,
    with_passkey,
)

pytestmark = pytest.mark.django_db

REAUTH_TOTP = "/medewerker/passkeys/bevestigen/"
REAUTH_OPTIONS = "/medewerker/passkeys/bevestigen/passkey/opties/"
REAUTH_PASSKEY = "/medewerker/passkeys/bevestigen/passkey/"
SECOND_STEP = "/medewerker/aanmelden/tweede-stap/"


@pytest.fixture
def user(staff_factory: Any) -> User:
    """An operator whose TOTP app was enrolled a minute ago (so that the
    code of this time step has not been used yet)."""
    user = staff_factory(username="bram", pseudonym="Bram")
    secret = services.totp_secret_ensure(user=user)
    earlier = timezone.now() - timedelta(minutes=1)
    assert services.totp_verify(user=user, code=pyotp.TOTP(secret).at(earlier), now=earlier)
    user.refresh_from_db()
    return user


def code_now(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).now()


def signed_in_long_ago(user: User) -> Client:
    """Signed in (both factors) but not recently: the session's mark is old."""
    client = confirmed(user)
    session = client.session
    session[staff_views.SECOND_FACTOR_AT_KEY] = time.time() - 6 * 60
    session.save()
    return client


# --- refused without a recent second factor ------------------------------------------


def test_adding_a_passkey_needs_a_recent_second_factor(user: User) -> None:
    client = signed_in_long_ago(user)

    options = post_json(client, REGISTER_OPTIONS)
    answer = post_json(client, REGISTER, {"credential": {"id": "x"}})

    assert options.status_code == 403
    assert options.json()["code"] == "reauth_required"
    assert "Bevestig eerst dat jij het bent" in options.json()["message"]
    assert "5 minuten" in options.json()["message"]
    assert (answer.status_code, answer.json()["code"]) == (403, "reauth_required")
    assert not PasskeyCredential.objects.exists()


def test_a_session_without_any_mark_is_refused_too(user: User) -> None:
    client = Client()
    client.force_login(user)  # as a session from before this check existed
    assert post_json(client, REGISTER_OPTIONS).json()["code"] == "reauth_required"


def test_a_confirmation_that_runs_out_between_options_and_answer_is_refused(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = confirmed(user)
    authenticator = SoftAuthenticator()
    options = post_json(client, REGISTER_OPTIONS).json()
    later = time.time() + 6 * 60
    monkeypatch.setattr(staff_views.time, "time", lambda: later)

    response = post_json(client, REGISTER, {"credential": authenticator.create(options)})

    assert (response.status_code, response.json()["code"]) == (403, "reauth_required")
    assert not PasskeyCredential.objects.exists()


def test_removing_a_passkey_needs_a_recent_second_factor(user: User) -> None:
    with_passkey(user)
    passkey = PasskeyCredential.objects.get(user=user)
    client = signed_in_long_ago(user)

    response = client.post(f"/medewerker/passkeys/{passkey.pk}/verwijderen/")

    assert response.status_code == 403
    assert "Bevestig eerst dat jij het bent" in response.content.decode()
    assert PasskeyCredential.objects.filter(pk=passkey.pk).exists()


def test_the_page_asks_for_the_confirmation_first(user: User) -> None:
    with_passkey(user)
    page = signed_in_long_ago(user).get(PAGE).content.decode()

    assert 'id="reauth"' in page
    assert 'id="reauth-totp"' in page
    assert 'id="passkey-confirm"' in page
    assert 'id="passkey-register"' not in page
    assert "/verwijderen/" not in page


def test_the_window_is_configurable(user: User, settings: Any) -> None:
    client = signed_in_long_ago(user)  # six minutes ago
    settings.ONTHAAL_REAUTH_MINUTES = 10
    assert post_json(client, REGISTER_OPTIONS).status_code == 200
    settings.ONTHAAL_REAUTH_MINUTES = 5
    assert post_json(client, REGISTER_OPTIONS).status_code == 403


# --- confirming again ------------------------------------------------------------------


def test_a_totp_code_confirms_and_then_a_passkey_can_be_added(user: User) -> None:
    client = signed_in_long_ago(user)

    response = client.post(REAUTH_TOTP, {"code": code_now(user)})

    assert response.status_code == 302
    assert response["Location"] == PAGE
    page = client.get(PAGE).content.decode()
    assert 'id="passkey-register"' in page and 'id="reauth"' not in page
    assert register(client, SoftAuthenticator()).status_code == 201


def test_a_wrong_code_does_not_confirm(user: User) -> None:
    client = signed_in_long_ago(user)
    wrong = "000000" if code_now(user) != "000000" else "111111"

    response = client.post(REAUTH_TOTP, {"code": wrong})

    assert response.status_code == 400
    assert 'id="reauth-error"' in response.content.decode()
    assert post_json(client, REGISTER_OPTIONS).status_code == 403
    failure = AuditEntry.objects.filter(action=Action.LOGIN_FAILED).latest("id")
    assert failure.detail == {"factor": "totp", "step": "reauth"}


def test_a_used_code_does_not_confirm_twice(user: User) -> None:
    client = signed_in_long_ago(user)
    code = code_now(user)
    assert client.post(REAUTH_TOTP, {"code": code}).status_code == 302
    other = signed_in_long_ago(user)
    assert other.post(REAUTH_TOTP, {"code": code}).status_code == 400


def test_confirming_tries_are_limited(user: User) -> None:
    client = signed_in_long_ago(user)
    wrong = "000000" if code_now(user) != "000000" else "111111"
    for _ in range(staff_views.MAX_ATTEMPTS):
        client.post(REAUTH_TOTP, {"code": wrong})

    response = client.post(REAUTH_TOTP, {"code": code_now(user)})

    assert response.status_code == 400
    assert "Te veel pogingen" in response.content.decode()
    assert post_json(client, REGISTER_OPTIONS).status_code == 403


def test_an_existing_passkey_confirms(user: User) -> None:
    authenticator = with_passkey(user)
    client = signed_in_long_ago(user)

    options = post_json(client, REAUTH_OPTIONS).json()
    response = post_json(client, REAUTH_PASSKEY, {"credential": authenticator.get(options)})

    assert response.status_code == 200
    assert response.json() == {"redirect": PAGE}
    passkey = PasskeyCredential.objects.get(user=user)
    removed = client.post(f"/medewerker/passkeys/{passkey.pk}/verwijderen/")
    assert removed.status_code == 302
    assert not PasskeyCredential.objects.exists()


def test_another_accounts_passkey_does_not_confirm(user: User, other_operator: User) -> None:
    others = with_passkey(other_operator)
    with_passkey(user)
    client = signed_in_long_ago(user)

    options = post_json(client, REAUTH_OPTIONS).json()
    response = post_json(client, REAUTH_PASSKEY, {"credential": others.get(options)})

    assert response.status_code == 400
    assert post_json(client, REGISTER_OPTIONS).status_code == 403


def test_a_passkey_answer_without_options_does_not_confirm(user: User) -> None:
    authenticator = with_passkey(user)
    client = signed_in_long_ago(user)
    stale_options = post_json(confirmed(user), REAUTH_OPTIONS).json()  # another session's

    response = post_json(client, REAUTH_PASSKEY, {"credential": authenticator.get(stale_options)})

    assert (response.status_code, response.json()["code"]) == (400, "challenge")
    assert post_json(client, REGISTER_OPTIONS).status_code == 403


def test_confirming_needs_a_session(user: User) -> None:
    anonymous = Client()
    assert anonymous.post(REAUTH_TOTP, {"code": code_now(user)}).status_code == 302
    assert post_json(anonymous, REAUTH_OPTIONS).status_code == 302
    assert post_json(anonymous, REAUTH_PASSKEY).status_code == 302


# --- signing in counts as confirming ------------------------------------------------------


def test_signing_in_with_the_totp_code_counts(user: User, staff_password: str) -> None:
    client = at_second_step(user, staff_password)
    assert client.post(SECOND_STEP, {"code": code_now(user)}).status_code == 302
    assert post_json(client, REGISTER_OPTIONS).status_code == 200


def test_signing_in_with_a_passkey_counts(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)
    assert passkey_step(client, authenticator).status_code == 200
    assert post_json(client, REGISTER_OPTIONS).status_code == 200


def test_the_password_step_alone_does_not_count(user: User, staff_password: str) -> None:
    client = at_second_step(user, staff_password)
    assert post_json(client, REGISTER_OPTIONS).status_code == 302  # not signed in at all
