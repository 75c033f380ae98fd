"""The seeded taxonomy (DOMAIN.md) and what the registration form is offered."""

from __future__ import annotations

import pytest

from onthaal.registration.models import Domain, Result, Topic

pytestmark = pytest.mark.django_db


def test_the_migration_seeded_the_four_domains() -> None:
    assert list(Domain.objects.values_list("code", "name")) == [
        ("OLB", "onderwijsloopbaanbegeleiding"),
        ("PSF", "psychisch en sociaal functioneren"),
        ("L&S", "leren en studeren"),
        ("PGZ", "preventieve gezondheidszorg"),
    ]


def test_the_migration_seeded_eighteen_topics() -> None:
    assert Topic.objects.count() == 18
    per_domain = {
        domain.code: list(domain.topics.order_by("position").values_list("name", flat=True))
        for domain in Domain.objects.all()
    }
    assert per_domain["OLB"] == ["studiekeuze / schoolloopbaan"]
    assert len(per_domain["PSF"]) == 10
    assert "zelfmoordgedachten" in per_domain["PSF"]
    assert "pesten / cyberpesten" in per_domain["PSF"]
    assert per_domain["L&S"] == [
        "leer- en studiemethode",
        "leermoeilijkheden",
        "motivatie",
        "concentratieproblemen",
    ]
    assert per_domain["PGZ"] == ["seksualiteit", "vaccinatie", "medisch onderzoek"]
    assert not Topic.objects.filter(is_active=False).exists()


def test_the_migration_seeded_eight_results() -> None:
    assert list(Result.objects.values_list("code", flat=True)) == [
        "info_advice",
        "support",
        "referral_clb",
        "referral_school",
        "referral_network",
        "referral_onderwijskiezer",
        "crisis",
        "broke_off",
    ]


def test_the_taxonomy_endpoint_offers_the_active_choices(
    operator_client, django_assert_max_num_queries
) -> None:
    # Measured: 5 (session, user, domains, their topics, results).
    with django_assert_max_num_queries(5):
        response = operator_client.get("/api/v1/taxonomy")

    assert response.status_code == 200
    body = response.json()
    assert [d["code"] for d in body["domains"]] == ["OLB", "PSF", "L&S", "PGZ"]
    assert sum(len(d["topics"]) for d in body["domains"]) == 18
    assert len(body["results"]) == 8
    pgz = body["domains"][3]
    assert [t["name"] for t in pgz["topics"]] == ["seksualiteit", "vaccinatie", "medisch onderzoek"]
    assert all(isinstance(t["id"], int) for t in pgz["topics"])


def test_a_retired_topic_or_result_is_not_offered(operator_client) -> None:
    Topic.objects.filter(name="vaccinatie").update(is_active=False)
    Result.objects.filter(code="crisis").update(is_active=False)

    body = operator_client.get("/api/v1/taxonomy").json()

    names = [t["name"] for d in body["domains"] for t in d["topics"]]
    assert "vaccinatie" not in names
    assert len(names) == 17
    assert "crisis" not in [r["code"] for r in body["results"]]


def test_a_retired_domain_is_not_offered(operator_client) -> None:
    Domain.objects.filter(code="PGZ").update(is_active=False)
    body = operator_client.get("/api/v1/taxonomy").json()
    assert [d["code"] for d in body["domains"]] == ["OLB", "PSF", "L&S"]
