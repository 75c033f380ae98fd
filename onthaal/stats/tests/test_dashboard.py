"""The dashboard page, /cijfers/: who sees what, and that it obeys the CSP."""

from __future__ import annotations

import re

from django.test import Client

from onthaal.stats.tests.conftest import Dataset

YEAR = "?start=2024-09-01&end=2025-08-31"


def _page(user: object, query: str = YEAR) -> str:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get(f"/cijfers/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login(db: None) -> None:
    response = Client().get("/cijfers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/medewerker/")


def test_a_coordinator_sees_every_section(dataset: Dataset) -> None:
    html = _page(dataset.coordinator)
    assert "<h1>Cijfers</h1>" in html
    for heading in (
        "Kerncijfers",
        "Chats per maand",
        "Leerlingen en ouders",
        "Tevredenheid",
        "Duur en wachttijd",
        "Thema's: top 10",
        "Resultaten",
        "Plots afgebroken chats",
        "Hoe vonden bezoekers de chat?",
        "Vermoedelijke nepoproepen",
        "Leerlingen: gender en leeftijd",
        "Chatmedewerkers",
        "Drukte per weekdag en uur",
        "Over de jaren",
    ):
        assert f">{heading}</h2>" in html, heading
    assert "Gemiste chats" in html
    assert "pesten / cyberpesten" in html
    assert "Bart" in html  # chats per operator
    assert "32,5 min" in html  # mean duration 1950 s, in Dutch
    assert "/api/v1/stats/export.csv?start=2024-09-01&amp;end=2025-08-31" in html


def test_an_operator_sees_only_their_own_figures(dataset: Dataset) -> None:
    html = _page(dataset.bart)
    assert "<h1>Mijn cijfers</h1>" in html
    assert "Je ziet de cijfers van de chats die jij voerde." in html
    assert ">Chatmedewerkers</h2>" not in html
    assert "Gemiste chats" not in html
    assert "Anna" not in html


def test_an_analyst_sees_the_aggregates_without_single_operators(dataset: Dataset) -> None:
    html = _page(dataset.analyst)
    assert "<h1>Cijfers</h1>" in html
    assert "Gemiste chats" in html
    assert ">Chatmedewerkers</h2>" in html
    assert "Chats per medewerker" not in html
    assert "Anna" not in html
    assert "Naar de console" not in html


def test_the_filters_narrow_the_figures(dataset: Dataset) -> None:
    html = _page(dataset.coordinator, YEAR + "&audience=parent")
    assert "Alleen: ouder." in html
    assert ">Leerlingen: gender en leeftijd</h2>" not in html


def test_a_bad_period_is_explained_and_the_default_shown(dataset: Dataset) -> None:
    html = _page(dataset.coordinator, "?start=2025-01-02&end=2025-01-01")
    assert 'role="alert">De begindatum ligt na de einddatum.</p>' in html
    html = _page(dataset.coordinator, "?start=morgen")
    assert "Voer een geldige datum in." in html


def test_no_inline_style_or_script_and_named_charts(dataset: Dataset) -> None:
    html = _page(dataset.coordinator)
    assert " style=" not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    charts = re.findall(r"<svg [^>]*>", html)
    assert len(charts) >= 4
    for chart in charts:
        assert 'role="img"' in chart
        label = re.search(r'aria-labelledby="([^"]+)"', chart)
        assert label and f'id="{label.group(1)}"' in html
    # Geometry is written without the Dutch decimal comma.
    assert not re.search(r'(?:x|y|width|height)="\d+,\d', html)


def test_tables_have_captions_and_header_cells(dataset: Dataset) -> None:
    html = _page(dataset.coordinator)
    tables = re.findall(r"<table.*?</table>", html, flags=re.S)
    assert len(tables) >= 10
    for table in tables:
        assert "<caption" in table
        assert '<th scope="col">' in table


def test_the_console_links_to_the_figures(dataset: Dataset) -> None:
    for user, label in ((dataset.coordinator, "Cijfers"), (dataset.anna, "Mijn cijfers")):
        client = Client()
        client.force_login(user)
        html = client.get("/medewerker/").content.decode()
        assert f'href="/cijfers/">{label}</a>' in html
