"""Multi-year trends: counts per school year and chosen topics, by id or name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from onthaal.errors import InvalidInput
from onthaal.stats.figures import topics_resolve, trends
from onthaal.stats.tests.conftest import Dataset, approx


def test_counts_per_school_year(dataset: Dataset) -> None:
    trend = trends(2023, 2025)
    assert trend["filters"] == {
        "from": 2023,
        "to": 2025,
        "channel": None,
        "audience": None,
        "operator_id": None,
    }
    assert trend["topics"] == []
    years = trend["years"]
    assert [(y["label"], y["queued"], y["held"], y["missed"]) for y in years] == [
        ("2023-2024", 3, 3, 0),
        ("2024-2025", 7, 4, 2),
        ("2025-2026", 1, 1, 0),
    ]
    assert years[1] == {
        "school_year": 2024,
        "label": "2024-2025",
        "queued": 7,
        "held": 4,
        "missed": 2,
        "missed_share": approx(2 / 6),
        "held_pupil": 3,
        "held_parent": 1,
        "rated": 3,
        "rating_mean": 4.0,
        "prank": 1,
        "prank_share": 0.25,
        "change": 1,
        "change_pct": approx(100 / 3),
    }
    assert (years[0]["change"], years[0]["change_pct"]) == (None, None)
    assert (years[2]["change"], years[2]["change_pct"]) == (-3, -75.0)
    assert years[0]["rating_mean"] is None


def test_chosen_topics_by_name_and_id_with_a_retired_one(dataset: Dataset) -> None:
    corona = dataset.topics["corona"]
    trend = trends(2023, 2024, topics=["Zelfmoordgedachten", corona.pk])
    assert [(t["name"], t["is_active"]) for t in trend["topics"]] == [
        ("corona", False),
        ("zelfmoordgedachten", True),
    ]
    corona_years = trend["topics"][0]["years"]
    assert corona_years == [
        {"school_year": 2023, "label": "2023-2024", "count": 1, "share": approx(1 / 3)},
        {"school_year": 2024, "label": "2024-2025", "count": 0, "share": 0.0},
    ]
    suicide_years = trend["topics"][1]["years"]
    assert [(y["count"], y["share"]) for y in suicide_years] == [(0, 0.0), (1, 0.25)]


def test_a_renamed_topic_keeps_its_history(dataset: Dataset) -> None:
    motivation = dataset.topics["motivation"]
    motivation.name = "zin in school"
    motivation.save(update_fields=["name"])
    trend = trends(2024, 2024, topics=["zin in school"])
    assert trend["topics"][0]["id"] == motivation.pk
    assert trend["topics"][0]["years"][0]["count"] == 1
    with pytest.raises(InvalidInput) as error:
        trends(2024, 2024, topics=["motivatie"])
    assert error.value.code == "unknown_topic"
    assert error.value.details == {"fields": {"topics": ["motivatie"]}}


def test_the_audience_and_operator_filters(dataset: Dataset) -> None:
    pupils = trends(2024, 2024, topics=["pesten / cyberpesten"], audience="pupil")
    assert pupils["years"][0]["held"] == 3
    assert pupils["topics"][0]["years"][0]["share"] == approx(2 / 3)
    bart = trends(2023, 2024, operator_id=dataset.bart.pk)
    assert [y["held"] for y in bart["years"]] == [3, 1]


def test_bad_spans_are_refused(db: None) -> None:
    with pytest.raises(InvalidInput):
        trends(2025, 2024)
    with pytest.raises(InvalidInput):
        trends(2000, 2030)


def test_topics_resolve_skips_unknown_names_when_not_strict(dataset: Dataset) -> None:
    found = topics_resolve(["zelfmoordgedachten", "bestaat niet", ""], strict=False)
    assert [t.name for t in found] == ["zelfmoordgedachten"]


def test_imported_history_shows_in_the_trends(db: None, tmp_path: Path) -> None:
    """``onthaal import`` of two old school years: the trend counts them like live chats."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="lotte", pseudonym="Lotte", password=None)
    header = (
        "external_id,queued_at,accepted_at,ended_at,end_reason,audience,operator,topics,"
        "results,prank_suspected"
    )
    rows = [
        "old-1,2016-10-04T18:00:00+02:00,2016-10-04T18:03:00+02:00,2016-10-04T18:30:00+02:00,"
        ",pupil,lotte,zelfmoordgedachten|pesten / cyberpesten,support,false",
        "old-2,2016-11-08T19:00:00+01:00,2016-11-08T19:02:00+01:00,2016-11-08T19:20:00+01:00,"
        ",parent,lotte,studiekeuze / schoolloopbaan,info_advice,true",
        "old-3,2016-11-08T20:00:00+01:00,,2016-11-08T20:05:00+01:00,missed,pupil,,,,",
        "old-4,2017-09-12T18:00:00+02:00,2017-09-12T18:01:00+02:00,2017-09-12T18:40:00+02:00,"
        ",pupil,lotte,pesten / cyberpesten,support,false",
    ]
    history = tmp_path / "history.csv"
    history.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    call_command("import", str(history), stdout=io.StringIO(), stderr=io.StringIO())

    result = trends(2015, 2017, topics=["zelfmoordgedachten", "pesten / cyberpesten"])
    years = {row["label"]: row for row in result["years"]}
    assert [(label, row["held"], row["missed"], row["prank"]) for label, row in years.items()] == [
        ("2015-2016", 0, 0, 0),
        ("2016-2017", 2, 1, 1),
        ("2017-2018", 1, 0, 0),
    ]
    assert years["2016-2017"]["held_pupil"] == 1 and years["2016-2017"]["held_parent"] == 1
    counts = {t["name"]: [y["count"] for y in t["years"]] for t in result["topics"]}
    assert counts == {"zelfmoordgedachten": [0, 1, 0], "pesten / cyberpesten": [0, 1, 1]}
