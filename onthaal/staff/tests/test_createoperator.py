"""``onthaal createoperator``: staff accounts from the command line."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command

from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


def create(monkeypatch, password: str, **options) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("createoperator", password_stdin=True, stdout=out, **options)
    return out.getvalue()


def test_a_coordinator_gets_the_admin_and_the_coordinators_group(
    monkeypatch, staff_password
) -> None:
    output = create(
        monkeypatch,
        staff_password,
        username="an",
        discipline="nurse",
        role="coordinator",
        pseudonym="An",
    )

    user = User.objects.get(username="an")
    assert "Created coordinator 'an'" in output
    assert (user.role, user.discipline, user.pseudonym) == ("coordinator", "nurse", "An")
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, False, True)
    assert list(user.groups.values_list("name", flat=True)) == ["coordinators"]
    assert user.check_password(staff_password)
    assert user.availability == "offline"
    # The second factor is enrolled at the first sign-in.
    assert (user.totp_secret, user.totp_confirmed_at) == ("", None)
    assert user.has_perm("registration.change_topic")
    assert user.has_perm("hours.add_extraopening")
    assert user.has_perm("staff.change_user")
    assert not user.has_perm("staff.delete_user")


def test_an_operator_gets_no_admin(monkeypatch, staff_password) -> None:
    create(monkeypatch, staff_password, username="bert", discipline="social_worker")
    user = User.objects.get(username="bert")
    assert (user.role, user.is_staff, user.is_superuser) == ("operator", False, False)
    assert not user.groups.exists()


def test_an_administrator_is_a_superuser(monkeypatch, staff_password) -> None:
    create(monkeypatch, staff_password, username="root", discipline="doctor", role="administrator")
    user = User.objects.get(username="root")
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_the_password_is_read_from_one_line_of_stdin(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("een lange wachtzin met spaties\nrest\n"))
    call_command(
        "createoperator",
        username="cas",
        discipline="nurse",
        password_stdin=True,
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="cas").check_password("een lange wachtzin met spaties")


@pytest.mark.parametrize(
    "password",
    [
        "kort",  # too short
        "12345678901234",  # only digits
        "password123",  # common
        "",
        "cassandra1",  # the username
    ],
)
def test_a_weak_password_is_refused(monkeypatch, password) -> None:
    with pytest.raises(CommandError) as caught:
        create(monkeypatch, password, username="cassandra1", discipline="nurse")
    assert "password" in str(caught.value)
    assert not User.objects.exists()


def test_a_taken_username_is_refused_whatever_its_case(monkeypatch, staff_password) -> None:
    create(monkeypatch, staff_password, username="dirk", discipline="nurse")
    with pytest.raises(CommandError) as caught:
        create(monkeypatch, staff_password, username="DIRK", discipline="nurse")
    assert "username" in str(caught.value)
    assert User.objects.count() == 1


def test_an_unknown_discipline_is_refused(monkeypatch, staff_password) -> None:
    with pytest.raises(CommandError) as caught:
        create(monkeypatch, staff_password, username="eva", discipline="astronaut")
    assert "discipline" in str(caught.value)
    assert not User.objects.exists()


def test_without_a_terminal_the_password_must_come_from_stdin(monkeypatch, staff_password) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(staff_password + "\n"))
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("createoperator", username="fien", discipline="nurse", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--username is required"):
        call_command("createoperator", discipline="nurse", password_stdin=True)
    assert not User.objects.exists()
