"""The social map: seeded from DOMAIN.md, searched by everyone who chats,
managed by coordinators, and validated."""

from __future__ import annotations

import pytest
from django.test import Client

from onthaal.toolkit.models import ResourceKind, SocialMapEntry
from onthaal.toolkit.tests.conftest import send

pytestmark = pytest.mark.django_db

NEW = {
    "name": "Jongerenlijn",
    "url": "https://www.voorbeeld.be/jongeren",
    "description": "Een voorbeeld van een hulplijn voor jongeren.",
    "kind": "helpline",
    "phone": "0800 12 345",
    "domains": ["psf", "OLB"],
    "theme": "pesten",
    "audience": "pupil",
    "age_min": 12,
    "age_max": 18,
}


def test_the_social_map_of_domain_md_is_seeded() -> None:
    names = set(SocialMapEntry.objects.values_list("name", flat=True))
    assert {
        "NokNok",
        "Geluksdriehoek",
        "Conflicthelden",
        "Onderwijskiezer",
        "MoodSpace LifeCraft",
        "MoodSpace Stress & Angst",
        "m-Path",
        "Tools van de Zelfmoordlijn",
        "Zelfmoordlijn 1813",
        "Awel",
        "Tele-Onthaal",
    } <= names
    helplines = {e.name: e.phone for e in SocialMapEntry.objects.filter(kind=ResourceKind.HELPLINE)}
    assert helplines["Zelfmoordlijn 1813"] == "1813"
    assert helplines["Awel"] == "102"
    assert helplines["Tele-Onthaal"] == "106"
    noknok = SocialMapEntry.objects.get(name="NokNok")
    assert (noknok.age_min, noknok.age_max) == (12, 16)
    assert sorted(d.code for d in noknok.domains.all()) == ["PGZ", "PSF"]
    assert all(e.url.startswith("https://") for e in SocialMapEntry.objects.all())


def test_an_operator_searches_by_name_theme_description_domain_and_age(
    operator_client: Client,
) -> None:
    def names(query: str) -> list[str]:
        response = send(operator_client, "GET", f"/social-map?{query}")
        assert response.status_code == 200
        return [e["name"] for e in response.json()["entries"]]

    assert "Onderwijskiezer" in names("q=studiekeuze")
    assert names("q=NOKNOK") == ["NokNok"]
    assert "Conflicthelden" in names("q=pesten")
    assert "Onderwijskiezer" in names("domain=OLB")
    assert "NokNok" not in names("domain=OLB")
    assert "NokNok" not in names("age=17")
    assert "NokNok" in names("age=13")
    assert names("kind=helpline")[:3] == ["Zelfmoordlijn 1813", "Awel", "Tele-Onthaal"]
    assert names("q=bestaatniet") == []


def test_a_coordinator_manages_the_list(
    coordinator_client: Client, operator_client: Client
) -> None:
    made = send(coordinator_client, "POST", "/social-map", NEW)
    assert made.status_code == 201, made.content
    entry = made.json()
    assert entry["domains"] == ["OLB", "PSF"]
    assert entry["phone"] == "0800 12 345"

    changed = send(
        coordinator_client,
        "PATCH",
        f"/social-map/{entry['id']}",
        {"is_active": False, "age_max": None},
    )
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["age_max"], changed.json()["age_min"]) == (
        False,
        None,
        12,
    )
    # Inactive: gone for operators, still there for coordinators who ask.
    assert send(operator_client, "GET", f"/social-map/{entry['id']}").status_code == 404
    assert "Jongerenlijn" not in [
        e["name"]
        for e in send(operator_client, "GET", "/social-map?include_inactive=true").json()["entries"]
    ]
    assert "Jongerenlijn" in [
        e["name"]
        for e in send(coordinator_client, "GET", "/social-map?include_inactive=true").json()[
            "entries"
        ]
    ]

    assert send(coordinator_client, "DELETE", f"/social-map/{entry['id']}").status_code == 204
    assert not SocialMapEntry.objects.filter(name="Jongerenlijn").exists()


def test_operators_and_analysts_cannot_manage_it(
    operator_client: Client, analyst_client: Client
) -> None:
    awel = SocialMapEntry.objects.get(name="Awel")
    for client, status in ((operator_client, 403), (analyst_client, 403)):
        assert send(client, "POST", "/social-map", NEW).status_code == status
        assert send(client, "PATCH", f"/social-map/{awel.pk}", {"name": "X"}).status_code == status
        assert send(client, "DELETE", f"/social-map/{awel.pk}").status_code == status
    assert send(analyst_client, "GET", "/social-map").status_code == 403
    assert send(Client(), "GET", "/social-map").status_code == 401
    awel.refresh_from_db()
    assert awel.name == "Awel"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://www.voorbeeld.be"}, "url"),  # https only
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://"}, "url"),
        ({"name": "X"}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"description": "kort"}, "description"),
        ({"description": "d" * 501}, "description"),
        ({"description": "tekst met \x1b escape erin"}, "description"),
        ({"kind": "app"}, "kind"),
        ({"audience": "iedereen"}, "audience"),
        ({"phone": "bel me"}, "phone"),
        ({"age_min": 3}, "age_min"),
        ({"age_max": 120}, "age_max"),
        ({"age_min": 16, "age_max": 12}, "age_max"),
        ({"domains": ["XYZ"]}, "domains"),
        ({"theme": "t" * 101}, "theme"),
    ],
)
def test_invalid_entries_are_refused(coordinator_client: Client, change: dict, field: str) -> None:
    response = send(coordinator_client, "POST", "/social-map", {**NEW, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]["fields"]
    assert not SocialMapEntry.objects.filter(name__in=["Jongerenlijn", change.get("name")]).exists()


def test_names_are_unique_in_any_case(coordinator_client: Client) -> None:
    response = send(coordinator_client, "POST", "/social-map", {**NEW, "name": "awel"})
    assert response.status_code == 409
    assert response.json()["code"] == "name_taken"
    noknok = SocialMapEntry.objects.get(name="NokNok")
    rename = send(coordinator_client, "PATCH", f"/social-map/{noknok.pk}", {"name": "AWEL"})
    assert rename.status_code == 409


def test_a_patch_cannot_empty_a_required_field(coordinator_client: Client) -> None:
    awel = SocialMapEntry.objects.get(name="Awel")
    response = send(coordinator_client, "PATCH", f"/social-map/{awel.pk}", {"url": None})
    assert response.status_code == 400
    assert response.json()["details"]["fields"] == {"url": "null"}
