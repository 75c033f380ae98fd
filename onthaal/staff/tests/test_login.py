"""Signing in with two factors, through the pages an operator uses."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/medewerker/aanmelden/"
SECOND_STEP = "/medewerker/aanmelden/tweede-stap/"
CONSOLE = "/medewerker/"
WRONG_CODE = "Deze code klopt niet."
TOO_MANY = "Te veel pogingen."


@pytest.fixture
def user(staff_factory) -> User:
    return staff_factory(username="greet", pseudonym="Greet")


def password_step(client: Client, user: User, password: str, next_url: str = "") -> object:
    path = f"{LOGIN}?next={next_url}" if next_url else LOGIN
    return client.post(path, {"username": user.username, "password": password})


def current_code(user: User) -> str:
    user.refresh_from_db()
    return pyotp.TOTP(user.totp_secret).now()


def a_wrong_code(user: User) -> str:
    """Six digits that are valid in none of the accepted time steps."""
    user.refresh_from_db()
    totp = pyotp.TOTP(user.totp_secret)
    now = timezone.now()
    valid = {totp.at(now + timedelta(seconds=30 * step)) for step in (-2, -1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in valid)


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/operator/me").status_code == 200


def enrol(client: Client, user: User, password: str) -> str:
    """Both steps of a first sign-in; returns the code used."""
    password_step(client, user, password)
    client.get(SECOND_STEP)  # creates the secret
    code = current_code(user)
    response = client.post(SECOND_STEP, {"code": code})
    assert response.status_code == 302
    return code


def test_the_password_alone_does_not_sign_in(user, staff_password) -> None:
    client = Client()

    response = password_step(client, user, staff_password)

    assert (response.status_code, response["Location"]) == (302, SECOND_STEP)
    console = client.get(CONSOLE)
    assert console.status_code == 302
    assert console["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_a_wrong_password_goes_nowhere(user) -> None:
    client = Client()
    response = password_step(client, user, "not-the-password")
    assert response.status_code == 200
    assert "Gebruikersnaam of wachtwoord klopt niet." in response.content.decode()
    assert client.get(SECOND_STEP)["Location"] == LOGIN


def test_first_sign_in_shows_the_qr_code_and_the_secret(user, staff_password) -> None:
    client = Client()
    password_step(client, user, staff_password)

    page = client.get(SECOND_STEP)

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', html)
    user.refresh_from_db()
    assert re.fullmatch(r"[A-Z2-7]{32}", user.totp_secret)
    assert f'<code id="totp-secret">{user.totp_secret}</code>' in html
    assert user.totp_confirmed_at is None
    # The same secret on a reload: the app scanned it already.
    assert user.totp_secret in client.get(SECOND_STEP).content.decode()


def test_a_correct_code_signs_in_and_confirms_the_enrolment(user, staff_password) -> None:
    client = Client()
    password_step(client, user, staff_password)
    client.get(SECOND_STEP)

    response = client.post(SECOND_STEP, {"code": current_code(user)})

    assert (response.status_code, response["Location"]) == (302, CONSOLE)
    assert client.get(CONSOLE).status_code == 200
    assert client.get("/api/v1/operator/me").json()["username"] == "greet"
    user.refresh_from_db()
    assert user.totp_confirmed_at is not None


def test_once_enrolled_the_secret_is_not_shown_again(user, staff_password) -> None:
    enrol(Client(), user, staff_password)
    client = Client()
    password_step(client, user, staff_password)

    html = client.get(SECOND_STEP).content.decode()

    user.refresh_from_db()
    assert "data:image/svg+xml" not in html
    assert user.totp_secret not in html


def test_a_used_code_cannot_be_replayed(user, staff_password) -> None:
    used = enrol(Client(), user, staff_password)
    client = Client()
    password_step(client, user, staff_password)

    response = client.post(SECOND_STEP, {"code": used})

    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()
    assert not signed_in(client)


@pytest.mark.parametrize("code", ["wrong", "12345", "1234567", ""])
def test_malformed_codes_are_refused(user, staff_password, code) -> None:
    client = Client()
    password_step(client, user, staff_password)
    client.get(SECOND_STEP)
    response = client.post(SECOND_STEP, {"code": code})
    assert response.status_code == 200
    assert not signed_in(client)


def test_a_wrong_code_is_refused(user, staff_password) -> None:
    client = Client()
    password_step(client, user, staff_password)
    client.get(SECOND_STEP)

    response = client.post(SECOND_STEP, {"code": a_wrong_code(user)})

    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()
    assert not signed_in(client)
    user.refresh_from_db()
    assert user.totp_confirmed_at is None


def test_after_five_wrong_codes_even_the_right_one_waits(
    user, staff_password, frozen_rate_clock
) -> None:
    client = Client()
    password_step(client, user, staff_password)
    client.get(SECOND_STEP)
    wrong = a_wrong_code(user)
    for _ in range(5):
        assert WRONG_CODE in client.post(SECOND_STEP, {"code": wrong}).content.decode()

    response = client.post(SECOND_STEP, {"code": current_code(user)})

    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert not signed_in(client)


def test_after_five_wrong_passwords_even_the_right_one_waits(
    user, staff_password, frozen_rate_clock
) -> None:
    client = Client()
    for _ in range(5):
        password_step(client, user, "not-the-password")

    response = password_step(client, user, staff_password)

    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert client.get(SECOND_STEP)["Location"] == LOGIN


def test_sign_in_returns_to_a_safe_next_page(user, staff_password) -> None:
    client = Client()
    password_step(client, user, staff_password, next_url="/beheer/")
    client.get(SECOND_STEP)
    response = client.post(SECOND_STEP, {"code": current_code(user)})
    assert response["Location"] == "/beheer/"


def test_sign_in_ignores_a_foreign_next_page(user, staff_password) -> None:
    client = Client()
    password_step(client, user, staff_password, next_url="https://evil.example/")
    client.get(SECOND_STEP)
    response = client.post(SECOND_STEP, {"code": current_code(user)})
    assert response["Location"] == CONSOLE


def test_the_admin_signs_in_through_the_two_steps(client) -> None:
    admin_index = client.get("/beheer/")
    assert admin_index.status_code == 302
    admin_login = client.get(admin_index["Location"])
    assert admin_login.status_code == 302
    assert admin_login["Location"] == f"{LOGIN}?next=%2Fbeheer%2F"
    # The admin's own login form is never shown.
    direct = client.get("/beheer/login/")
    assert (direct.status_code, direct["Location"]) == (302, f"{LOGIN}?next=%2Fbeheer%2F")


def test_sign_out_sets_the_operator_offline(operator, operator_client) -> None:
    assert operator.availability == "available"

    response = operator_client.post("/medewerker/afmelden/")

    assert (response.status_code, response["Location"]) == (302, LOGIN)
    operator.refresh_from_db()
    assert operator.availability == "offline"
    assert not signed_in(operator_client)


def test_sign_out_needs_a_post(operator, operator_client) -> None:
    assert operator_client.get("/medewerker/afmelden/").status_code == 405
    assert signed_in(operator_client)
