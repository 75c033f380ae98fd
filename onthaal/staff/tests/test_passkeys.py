"""Passkeys (WebAuthn) as a second factor, through the pages and JSON
endpoints that passkey.js calls, answered by a software authenticator
that signs with a real key."""

from __future__ import annotations

import os
import time
from typing import Any

import pyotp
import pytest
from django.test import Client

from onthaal.audit.models import Action, AuditEntry
from onthaal.staff import passkeys as passkeys_module
from onthaal.staff import services, views
from onthaal.staff.models import PasskeyCredential, User
from onthaal.staff.tests.softauthn import SoftAuthenticator, b64url

pytestmark = pytest.mark.django_db

LOGIN = "/medewerker/aanmelden/"
SECOND_STEP = "/medewerker/aanmelden/tweede-stap/"
LOGIN_OPTIONS = "/medewerker/aanmelden/passkey/opties/"
LOGIN_PASSKEY = "/medewerker/aanmelden/passkey/"
PAGE = "/medewerker/passkeys/"
REGISTER_OPTIONS = "/medewerker/passkeys/opties/"
REGISTER = "/medewerker/passkeys/registreren/"


@pytest.fixture
def user(staff_factory: Any) -> User:
    """An operator whose TOTP app is enrolled."""
    user = staff_factory(username="greet", pseudonym="Greet")
    secret = services.totp_secret_ensure(user=user)
    assert services.totp_verify(user=user, code=pyotp.TOTP(secret).now())
    user.refresh_from_db()
    return user


def post_json(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, body or {}, content_type="application/json")


def register(
    client: Client, authenticator: SoftAuthenticator, name: str = "laptop", **answer: Any
) -> Any:
    options = post_json(client, REGISTER_OPTIONS).json()
    credential = authenticator.create(options, **answer)
    return post_json(client, REGISTER, {"name": name, "credential": credential})


def confirmed(user: User) -> Client:
    """Signed in with the second factor given just now, as right after signing in
    (adding or removing a passkey asks for that)."""
    client = Client()
    client.force_login(user)
    session = client.session
    views.second_factor_mark(session)
    session.save()
    return client


def with_passkey(user: User) -> SoftAuthenticator:
    authenticator = SoftAuthenticator()
    client = confirmed(user)
    assert register(client, authenticator).status_code == 201
    return authenticator


def at_second_step(user: User, password: str) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": password})
    assert response["Location"] == SECOND_STEP
    return client


def passkey_step(client: Client, authenticator: SoftAuthenticator, **answer: Any) -> Any:
    options = post_json(client, LOGIN_OPTIONS).json()
    return post_json(client, LOGIN_PASSKEY, {"credential": authenticator.get(options, **answer)})


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/operator/me").status_code == 200


def last_failure() -> AuditEntry:
    return AuditEntry.objects.filter(action=Action.LOGIN_FAILED).latest("id")


# --- registering --------------------------------------------------------------


def test_an_operator_registers_a_passkey(user: User) -> None:
    client = confirmed(user)
    authenticator = SoftAuthenticator()

    options = post_json(client, REGISTER_OPTIONS).json()
    assert options["rp"] == {"id": "testserver", "name": "Onthaal"}
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    response = post_json(
        client, REGISTER, {"name": "Sleutel", "credential": authenticator.create(options)}
    )

    assert response.status_code == 201
    passkey = PasskeyCredential.objects.get(user=user)
    assert passkey.name == "Sleutel"
    assert bytes(passkey.credential_id) == authenticator.credential_id
    assert passkey.sign_count == 0
    assert passkey.transports == ["internal"]
    assert passkey.created_at is not None
    assert passkey.last_used_at is None
    entry = AuditEntry.objects.get(action=Action.ACCOUNT_CHANGED)
    assert (entry.actor, entry.detail["passkey"]) == (user, "added")
    page = client.get(PAGE).content.decode()
    assert "Sleutel" in page
    # The same authenticator is not registered twice.
    again = post_json(client, REGISTER_OPTIONS).json()
    assert again["excludeCredentials"][0]["id"] == b64url(authenticator.credential_id)


def test_the_console_links_to_the_passkeys_page(user: User) -> None:
    client = Client()
    client.force_login(user)
    assert 'href="/medewerker/passkeys/"' in client.get("/medewerker/").content.decode()


def test_the_passkeys_page_needs_a_signed_in_operator() -> None:
    client = Client()
    assert client.get(PAGE)["Location"].startswith(LOGIN)
    assert post_json(client, REGISTER_OPTIONS)["Location"].startswith(LOGIN)
    assert post_json(client, REGISTER)["Location"].startswith(LOGIN)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"origin": "https://phishing.example"}, "another origin"),
        ({"rp_id": "phishing.example"}, "another relying party"),
    ],
)
def test_a_registration_from_elsewhere_is_refused(user: User, answer: Any, why: str) -> None:
    client = confirmed(user)

    response = register(client, SoftAuthenticator(), **answer)

    assert response.status_code == 400, why
    assert response.json()["code"] == "invalid"
    assert not PasskeyCredential.objects.exists()


def test_a_registration_needs_the_challenge_handed_out(user: User) -> None:
    client = confirmed(user)
    authenticator = SoftAuthenticator()
    options = post_json(client, REGISTER_OPTIONS).json()
    forged = {**options, "challenge": b64url(os.urandom(32))}

    response = post_json(client, REGISTER, {"credential": authenticator.create(forged)})

    assert response.status_code == 400
    # And the challenge is gone: the right answer now comes too late.
    late = post_json(client, REGISTER, {"credential": authenticator.create(options)})
    assert late.json()["code"] == "challenge"
    assert not PasskeyCredential.objects.exists()


def test_an_operator_removes_their_passkey_and_only_theirs(
    user: User, other_operator: User
) -> None:
    with_passkey(user)
    passkey = PasskeyCredential.objects.get(user=user)
    other = Client()
    other.force_login(other_operator)

    assert other.post(f"/medewerker/passkeys/{passkey.pk}/verwijderen/").status_code == 404
    assert PasskeyCredential.objects.filter(pk=passkey.pk).exists()

    owner = confirmed(user)
    response = owner.post(f"/medewerker/passkeys/{passkey.pk}/verwijderen/")
    assert response["Location"] == PAGE
    assert not PasskeyCredential.objects.filter(pk=passkey.pk).exists()
    removed = AuditEntry.objects.filter(action=Action.ACCOUNT_CHANGED).latest("id")
    assert removed.detail["passkey"] == "removed"


# --- signing in ---------------------------------------------------------------


def test_a_passkey_signs_in_instead_of_the_totp_code(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)

    page = client.get(SECOND_STEP).content.decode()
    assert 'id="passkey-sign-in"' in page
    assert 'id="id_code"' in page  # the TOTP code still works too
    assert not signed_in(client)
    response = passkey_step(client, authenticator)

    assert response.status_code == 200
    assert response.json() == {"redirect": "/medewerker/"}
    assert signed_in(client)
    passkey = PasskeyCredential.objects.get(user=user)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None
    login = AuditEntry.objects.filter(action=Action.LOGIN).latest("id")
    assert (login.actor, login.detail) == (user, {"method": "passkey"})


def test_without_a_passkey_the_second_step_offers_none(user: User, staff_password: str) -> None:
    client = at_second_step(user, staff_password)
    assert "passkey-sign-in" not in client.get(SECOND_STEP).content.decode()
    response = post_json(client, LOGIN_OPTIONS)
    assert response.status_code == 404


def test_the_passkey_step_needs_the_password_step_first(user: User) -> None:
    authenticator = with_passkey(user)
    client = Client()
    assert post_json(client, LOGIN_OPTIONS).status_code == 404
    forged = authenticator.get({"rpId": "testserver", "challenge": b64url(os.urandom(32))})
    assert post_json(client, LOGIN_PASSKEY, {"credential": forged}).status_code == 404
    assert not signed_in(client)


def test_a_wrong_challenge_is_refused(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)

    response = passkey_step(client, authenticator, challenge=b64url(os.urandom(32)))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not signed_in(client)
    failure = last_failure()
    assert (failure.actor, failure.detail) == (user, {"factor": "passkey", "reason": "invalid"})


def test_a_challenge_is_used_once(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)
    options = post_json(client, LOGIN_OPTIONS).json()
    refused = authenticator.get(options, origin="https://phishing.example")
    good = authenticator.get(options)

    assert post_json(client, LOGIN_PASSKEY, {"credential": refused}).status_code == 400
    response = post_json(client, LOGIN_PASSKEY, {"credential": good})

    assert response.status_code == 400
    assert response.json()["code"] == "challenge"
    assert not signed_in(client)


def test_a_replayed_answer_is_refused(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)
    options = post_json(client, LOGIN_OPTIONS).json()
    answer = authenticator.get(options)
    assert post_json(client, LOGIN_PASSKEY, {"credential": answer}).status_code == 200

    # Someone who overheard the answer and knows the password replays it.
    thief = at_second_step(user, staff_password)
    post_json(thief, LOGIN_OPTIONS)  # a fresh challenge in the thief's session
    response = post_json(thief, LOGIN_PASSKEY, {"credential": answer})

    assert response.status_code == 400
    assert not signed_in(thief)


@pytest.mark.parametrize(
    "credential", ["nonsense", 42, None, {}, {"id": "x", "rawId": "y"}, {"response": []}]
)
def test_a_malformed_answer_is_refused(user: User, staff_password: str, credential: Any) -> None:
    with_passkey(user)
    client = at_second_step(user, staff_password)
    post_json(client, LOGIN_OPTIONS)

    response = post_json(client, LOGIN_PASSKEY, {"credential": credential})

    assert response.status_code == 400
    assert not signed_in(client)
    registering = confirmed(user)
    post_json(registering, REGISTER_OPTIONS)
    assert post_json(registering, REGISTER, {"credential": credential}).status_code == 400


def test_an_expired_challenge_is_refused(
    user: User, staff_password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)
    options = post_json(client, LOGIN_OPTIONS).json()
    later = time.time() + passkeys_module.CHALLENGE_SECONDS + 1
    monkeypatch.setattr(passkeys_module.time, "time", lambda: later)

    response = post_json(client, LOGIN_PASSKEY, {"credential": authenticator.get(options)})

    assert response.json()["code"] == "challenge"
    assert not signed_in(client)


def test_an_answer_for_another_origin_is_refused(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)

    response = passkey_step(client, authenticator, origin="https://testserver.phishing.example")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not signed_in(client)


def test_a_signature_by_another_key_is_refused(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    impostor = SoftAuthenticator(credential_id=authenticator.credential_id)
    client = at_second_step(user, staff_password)

    response = passkey_step(client, impostor)

    assert response.json()["code"] == "invalid"
    assert not signed_in(client)


def test_a_counter_that_does_not_go_up_is_refused(user: User, staff_password: str) -> None:
    authenticator = with_passkey(user)
    first = at_second_step(user, staff_password)
    assert passkey_step(first, authenticator).status_code == 200  # counter now 1

    # A clone of the key, still at 1.
    clone = at_second_step(user, staff_password)
    response = passkey_step(clone, authenticator, count_up=False)

    assert response.status_code == 400
    assert response.json()["code"] == "sign_count"
    assert not signed_in(clone)
    assert last_failure().detail == {"factor": "passkey", "reason": "sign_count"}
    assert PasskeyCredential.objects.get(user=user).sign_count == 1


def test_an_authenticator_without_a_counter_keeps_working(user: User, staff_password: str) -> None:
    """Synced passkeys report 0 every time; that is no regression."""
    authenticator = with_passkey(user)
    for _ in range(2):
        client = at_second_step(user, staff_password)
        assert passkey_step(client, authenticator, count_up=False).status_code == 200


def test_another_accounts_passkey_is_refused(
    user: User, other_operator: User, staff_password: str
) -> None:
    with_passkey(user)
    others_key = with_passkey(other_operator)
    client = at_second_step(user, staff_password)

    response = passkey_step(client, others_key)

    assert response.json()["code"] == "unknown_credential"
    assert not signed_in(client)


def test_failed_passkey_tries_are_limited(
    user: User, staff_password: str, frozen_rate_clock: None
) -> None:
    authenticator = with_passkey(user)
    client = at_second_step(user, staff_password)
    for _ in range(5):
        passkey_step(client, authenticator, origin="https://phishing.example")

    response = passkey_step(client, authenticator)

    assert response.status_code == 429
    assert not signed_in(client)


def test_with_a_passkey_and_no_totp_app_the_password_cannot_enrol_one(
    staff_factory: Any, staff_password: str
) -> None:
    """Otherwise someone with only the password could add their own factor."""
    user = staff_factory(username="nieuw")  # never enrolled TOTP (signed in by SSO)
    with_passkey(user)
    client = at_second_step(user, staff_password)

    page = client.get(SECOND_STEP).content.decode()

    assert "totp-secret" not in page
    assert 'id="id_code"' not in page
    assert 'id="passkey-sign-in"' in page
    user.refresh_from_db()
    assert user.totp_secret == ""
    response = client.post(SECOND_STEP, {"code": "123456"})
    assert "Meld je aan met je passkey." in response.content.decode()
    assert not signed_in(client)


def test_the_relying_party_can_be_configured(
    user: User, staff_password: str, settings: Any
) -> None:
    settings.ONTHAAL_WEBAUTHN_RP_ID = "example.org"
    settings.ONTHAAL_WEBAUTHN_ORIGINS = ["https://chat.example.org"]
    authenticator = SoftAuthenticator(origin="https://chat.example.org", rp_id="example.org")
    client = confirmed(user)
    options = post_json(client, REGISTER_OPTIONS).json()
    assert options["rp"]["id"] == "example.org"
    assert (
        post_json(client, REGISTER, {"credential": authenticator.create(options)}).status_code
        == 201
    )

    signing_in = at_second_step(user, staff_password)
    assert passkey_step(signing_in, authenticator).status_code == 200
    # The request's own origin is no longer accepted.
    again = at_second_step(user, staff_password)
    response = passkey_step(again, authenticator, origin="http://testserver")
    assert response.json()["code"] == "invalid"
