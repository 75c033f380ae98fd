"""The toolkit pages, the console card and the visitor page's weight."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from onthaal.staff.models import User
from onthaal.toolkit import services
from onthaal.toolkit.models import CannedResponse, SocialMapEntry

pytestmark = pytest.mark.django_db

VISITOR_BUDGET_BYTES = 100_000


def test_the_visitor_pages_own_scripts_and_styles_stay_under_100_kb(client: Client) -> None:
    html = client.get("/").content.decode()
    assets = re.findall(r'(?:href|src)="/static/([^"]+\.(?:js|css))"', html)
    assert "toolkit/alternatives.js" in assets
    assert "onthaal/visitor.js" in assets
    total = 0
    for asset in assets:
        path = finders.find(asset)
        assert path, asset
        with open(path, "rb") as f:
            total += len(f.read())
    assert total < VISITOR_BUDGET_BYTES, f"{total} bytes: {assets}"


def test_the_visitor_page_holds_the_hidden_alternatives(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'id="wait-alternatives"' in html
    assert "Je blijft in de wachtrij." in html


def test_the_console_has_the_toolkit_card(operator_client: Client) -> None:
    html = operator_client.get("/medewerker/").content.decode()
    assert 'id="toolkit-panel"' in html
    assert "toolkit/console.js" in html


def test_an_operator_makes_a_personal_response_on_the_page(
    operator_client: Client, operator: User
) -> None:
    page = operator_client.get("/hulpmiddelen/snelantwoorden/")
    assert page.status_code == 200
    assert b'name="scope"' not in page.content  # operators make personal ones only
    response = operator_client.post(
        "/hulpmiddelen/snelantwoorden/",
        {"scope": "shared", "code": "/doei", "title": "Afsluiten", "body": "Tot ziens!"},
    )
    assert response.status_code == 302
    made = CannedResponse.objects.get()
    assert (made.owner, made.code) == (operator, "doei")


def test_the_page_shows_the_services_refusal_on_the_field(operator_client: Client) -> None:
    response = operator_client.post(
        "/hulpmiddelen/snelantwoorden/", {"code": "wel kom", "title": "t", "body": "b"}
    )
    assert response.status_code == 200
    assert "kleine letters" in response.content.decode()
    assert not CannedResponse.objects.exists()


def test_a_coordinator_makes_a_shared_response_on_the_page(
    coordinator_client: Client,
) -> None:
    assert b'name="scope"' in coordinator_client.get("/hulpmiddelen/snelantwoorden/").content
    coordinator_client.post(
        "/hulpmiddelen/snelantwoorden/",
        {"scope": "shared", "code": "welkom", "title": "Welkom", "body": "Dag!"},
    )
    assert CannedResponse.objects.get().owner is None


def test_edit_pages_follow_the_same_rules(
    operator_client: Client,
    other_operator_client: Client,
    operator: User,
    coordinator: User,
) -> None:
    shared = services.canned_response_create(
        actor=coordinator, shared=True, code="welkom", title="t", body="b"
    )
    mine = services.canned_response_create(
        actor=operator, shared=False, code="doei", title="t", body="b"
    )
    assert operator_client.get(f"/hulpmiddelen/snelantwoorden/{shared.pk}/").status_code == 403
    assert (
        operator_client.post(f"/hulpmiddelen/snelantwoorden/{shared.pk}/verwijder/").status_code
        == 403
    )
    assert other_operator_client.get(f"/hulpmiddelen/snelantwoorden/{mine.pk}/").status_code == 404
    assert (
        other_operator_client.post(f"/hulpmiddelen/snelantwoorden/{mine.pk}/verwijder/").status_code
        == 404
    )
    assert "doei" not in other_operator_client.get("/hulpmiddelen/snelantwoorden/").content.decode()
    response = operator_client.post(
        f"/hulpmiddelen/snelantwoorden/{mine.pk}/",
        {"code": "doei", "title": "Dag", "body": "Tot ziens!"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.body == "Tot ziens!"
    operator_client.post(f"/hulpmiddelen/snelantwoorden/{mine.pk}/verwijder/")
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()


def test_the_social_map_page(operator_client: Client, coordinator_client: Client) -> None:
    page = operator_client.get("/hulpmiddelen/sociale-kaart/?q=pesten").content.decode()
    assert "Conflicthelden" in page
    assert 'rel="noopener noreferrer"' in page
    assert 'name="name"' not in page  # no form for operators
    assert operator_client.post("/hulpmiddelen/sociale-kaart/", {}).status_code == 403
    awel = SocialMapEntry.objects.get(name="Awel")
    assert operator_client.get(f"/hulpmiddelen/sociale-kaart/{awel.pk}/").status_code == 403

    response = coordinator_client.post(
        "/hulpmiddelen/sociale-kaart/",
        {
            "name": "Voorbeeldtool",
            "url": "https://www.voorbeeld.be",
            "kind": "tool",
            "domains": ["PSF"],
            "audience": "all",
            "description": "Een voorbeeld van een tool.",
            "is_active": "on",
            "offer_while_waiting": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    made = SocialMapEntry.objects.get(name="Voorbeeldtool")
    assert [d.code for d in made.domains.all()] == ["PSF"]
    edit = coordinator_client.post(
        f"/hulpmiddelen/sociale-kaart/{made.pk}/",
        {
            "name": "Voorbeeldtool",
            "url": "http://onveilig.be",
            "kind": "tool",
            "audience": "all",
            "description": "Een voorbeeld van een tool.",
        },
    )
    assert edit.status_code == 200
    assert "https://" in edit.content.decode()
    coordinator_client.post(f"/hulpmiddelen/sociale-kaart/{made.pk}/verwijder/")
    assert not SocialMapEntry.objects.filter(pk=made.pk).exists()


def test_analysts_and_anonymous_visitors_get_no_page(analyst_client: Client) -> None:
    for url in ("/hulpmiddelen/snelantwoorden/", "/hulpmiddelen/sociale-kaart/"):
        assert analyst_client.get(url).status_code == 403
        assert Client().get(url).status_code == 302  # to the login
