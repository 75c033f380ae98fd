"""The /diensten/ pages: coverage for coordinators, own shifts for operators."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from onthaal.shifts import services
from onthaal.shifts.models import CalendarFeed, ShiftBlock, ShiftSignup
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def block(coordinator: User, open_sunday: date) -> ShiftBlock:
    return services.shift_block_create(
        starts_at=at(open_sunday, "17:00"), ends_at=at(open_sunday, "19:30"), created_by=coordinator
    )


def labelled_inputs_only(html: str) -> None:
    """Every visible input, select and textarea has a <label for=...>."""
    ids = re.findall(
        r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]*id="([^"]+)"', html
    )
    assert ids
    for field_id in ids:
        assert f'for="{field_id}"' in html, field_id


def test_anonymous_is_sent_to_the_login(db: None) -> None:
    for url in ("/diensten/", "/diensten/mijn/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/medewerker/aanmelden/")


def test_the_coverage_page_for_a_coordinator(
    coordinator_client: Client, block: ShiftBlock, operator: User, open_sunday: date
) -> None:
    services.shift_signup_create(block_id=block.pk, operator=operator)
    response = coordinator_client.get(
        "/diensten/", {"start": open_sunday.isoformat(), "end": open_sunday.isoformat()}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<caption>" in html
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert "17:00–19:30" in html
    assert "Lotte" in html  # names, for coordinators
    assert "te weinig chatmedewerkers" in html
    assert "geen arts of verpleegkundige" in html
    assert 'action="/diensten/blokken/nieuw/"' in html
    assert 'action="/diensten/blokken/genereren/"' in html
    assert f'action="/diensten/blokken/{block.pk}/verwijderen/"' in html
    labelled_inputs_only(html)
    assert "<script" not in html and "style=" not in html  # strict CSP


def test_an_analyst_reads_coverage_without_names_or_forms(
    analyst_client: Client, block: ShiftBlock, operator: User, open_sunday: date
) -> None:
    services.shift_signup_create(block_id=block.pk, operator=operator)
    html = analyst_client.get(
        "/diensten/", {"start": open_sunday.isoformat(), "end": open_sunday.isoformat()}
    ).content.decode()
    assert "17:00–19:30" in html
    assert "Lotte" not in html
    assert "verwijderen" not in html and "blokken/nieuw" not in html
    assert analyst_client.get("/diensten/mijn/")["Location"] == "/diensten/"


def test_an_operator_is_sent_to_their_own_page(operator_client: Client) -> None:
    assert operator_client.get("/diensten/")["Location"] == "/diensten/mijn/"


def test_an_invalid_range_falls_back_to_the_default(coordinator_client: Client) -> None:
    response = coordinator_client.get("/diensten/", {"start": "2026-13-01", "end": "x"})
    assert response.status_code == 200
    assert "Dat bereik is ongeldig" in response.content.decode()


def test_a_coordinator_plans_and_deletes_through_the_page(
    coordinator_client: Client, open_sunday: date
) -> None:
    response = coordinator_client.post(
        "/diensten/blokken/nieuw/",
        {
            "day": open_sunday.isoformat(),
            "starts": "18:30",
            "ends": "21:00",
            "min_operators": "5",
            "medical_required": "on",
        },
        follow=True,
    )
    assert "gepland" in response.content.decode()
    block = ShiftBlock.objects.get()
    assert (block.starts_at, block.min_operators, block.medical_required) == (
        at(open_sunday, "18:30"),
        5,
        True,
    )
    refused = coordinator_client.post(
        "/diensten/blokken/nieuw/",
        {"day": open_sunday.isoformat(), "starts": "18:30", "ends": "20:00", "min_operators": "4"},
        follow=True,
    )
    assert 'role="alert"' in refused.content.decode()
    assert "2,5 tot 3 uur" in refused.content.decode()
    coordinator_client.post(f"/diensten/blokken/{block.pk}/verwijderen/")
    assert not ShiftBlock.objects.exists()


def test_generate_through_the_page(coordinator_client: Client, open_sunday: date) -> None:
    response = coordinator_client.post(
        "/diensten/blokken/genereren/",
        {"start": open_sunday.isoformat(), "end": open_sunday.isoformat(), "min_operators": "4"},
        follow=True,
    )
    assert "2 dienstblokken aangemaakt" in response.content.decode()
    assert {b.medical_required for b in ShiftBlock.objects.all()} == {False}  # box unticked


def test_an_operator_cannot_plan_through_the_page(
    operator_client: Client, open_sunday: date
) -> None:
    response = operator_client.post(
        "/diensten/blokken/nieuw/",
        {"day": open_sunday.isoformat(), "starts": "17:00", "ends": "19:30", "min_operators": "4"},
        follow=True,
    )
    assert "Alleen coördinatoren" in response.content.decode()
    assert not ShiftBlock.objects.exists()


def test_the_operator_page_signs_up_and_withdraws(
    operator_client: Client, operator: User, block: ShiftBlock
) -> None:
    html = operator_client.get("/diensten/mijn/").content.decode()
    assert "Open dienstblokken" in html
    assert f'action="/diensten/blokken/{block.pk}/inschrijven/"' in html
    assert "<caption>" in html

    response = operator_client.post(f"/diensten/blokken/{block.pk}/inschrijven/", follow=True)
    html = response.content.decode()
    assert "Je bent ingeschreven." in html
    assert f'action="/diensten/blokken/{block.pk}/uitschrijven/"' in html
    assert ShiftSignup.objects.filter(operator=operator).exists()

    again = operator_client.post(f"/diensten/blokken/{block.pk}/inschrijven/", follow=True)
    assert "al ingeschreven" in again.content.decode()

    operator_client.post(f"/diensten/blokken/{block.pk}/uitschrijven/")
    assert not ShiftSignup.objects.exists()


def test_the_calendar_address_is_shown_once(operator_client: Client, operator: User) -> None:
    response = operator_client.post("/diensten/agenda/nieuw/")
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'value="(http://testserver/diensten/agenda/[^"]+\.ics)"', html)
    assert match
    assert 'href="webcal://testserver/diensten/agenda/' in html
    labelled_inputs_only(html)
    assert Client().get(match.group(1)).status_code == 200

    later = operator_client.get("/diensten/mijn/").content.decode()
    assert "/diensten/agenda/" in later  # the form actions...
    assert match.group(1) not in later  # ...but never the address again
    assert "Je hebt een agenda-adres" in later

    operator_client.post("/diensten/agenda/intrekken/")
    assert not CalendarFeed.objects.exists()
    assert Client().get(match.group(1)).status_code == 404


def test_forms_need_post_and_csrf(operator: User, block: ShiftBlock) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(f"/diensten/blokken/{block.pk}/inschrijven/").status_code == 403
    assert client.get(f"/diensten/blokken/{block.pk}/inschrijven/").status_code == 405
    assert not ShiftSignup.objects.exists()
