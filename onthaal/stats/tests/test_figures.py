"""Every figure of ``figures_for`` on the hand-made data set (see conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from onthaal.errors import InvalidInput
from onthaal.hours.selectors import opening_days
from onthaal.stats.figures import Filters, figures_for, school_year_figures
from onthaal.stats.tests.conftest import BRUSSELS, Dataset, approx, at, make_chat

SCHOOL_YEAR = Filters(start=date(2024, 9, 1), end=date(2025, 8, 31))


@pytest.fixture
def figures(dataset: Dataset) -> dict:
    return figures_for(SCHOOL_YEAR)


def test_totals(figures: dict) -> None:
    days = len(opening_days(start=date(2024, 9, 1), end=date(2025, 8, 31)))
    assert days > 100
    assert figures["totals"] == {
        "queued": 7,
        "held": 4,
        "missed": 2,
        "missed_gave_up": 1,
        "missed_at_closing": 1,
        "missed_share": approx(2 / 6),
        "waiting": 1,
        "opening_days": days,
        "held_per_opening_day": approx(4 / days),
    }


def test_filters_are_echoed(figures: dict) -> None:
    assert figures["filters"] == {
        "start": "2024-09-01",
        "end": "2025-08-31",
        "channel": None,
        "audience": None,
        "operator_id": None,
    }


def test_chats_per_opening_day_counts_a_known_school_week(dataset: Dataset) -> None:
    # Mon 30 Sep – Sun 6 Oct 2024, no holiday: open Mon, Tue, Wed, Thu.
    week = figures_for(Filters(start=date(2024, 9, 30), end=date(2024, 10, 6)))
    assert week["totals"]["opening_days"] == 4
    assert week["totals"]["held"] == 2  # c1, c2
    assert week["totals"]["held_per_opening_day"] == 0.5


def test_opening_days_of_a_running_period_stop_today(dataset: Dataset) -> None:
    today = timezone.localdate(timezone=BRUSSELS)
    running = figures_for(Filters(start=today - timedelta(days=6), end=today + timedelta(days=60)))
    assert running["totals"]["opening_days"] == len(
        opening_days(start=today - timedelta(days=6), end=today)
    )


def test_chats_per_month_next_to_the_year_before(figures: dict) -> None:
    months = {m["month"]: m for m in figures["chats_per_month"]}
    assert list(months) == [f"2024-{m:02d}" for m in range(9, 13)] + [
        f"2025-{m:02d}" for m in range(1, 9)
    ]
    assert months["2024-10"] == {
        "month": "2024-10",
        "school_year": 2024,
        "queued": 3,
        "held": 2,
        "missed": 1,
        "held_previous_year": 1,  # p1
        "change": 1,
        "change_pct": 100.0,
    }
    assert months["2024-11"] | {} == {
        "month": "2024-11",
        "school_year": 2024,
        "queued": 2,
        "held": 1,
        "missed": 1,
        "held_previous_year": 0,
        "change": 1,
        "change_pct": None,
    }
    assert (months["2025-03"]["held"], months["2025-03"]["held_previous_year"]) == (1, 1)
    assert months["2025-03"]["change_pct"] == 0.0
    # b1 (31 Aug 2024, 23:30 Brussels = 21:30 UTC) is August 2024, a year before August 2025.
    assert months["2025-08"]["held_previous_year"] == 1
    assert months["2025-05"]["queued"] == 1
    assert months["2024-09"]["queued"] == 0


def test_chats_per_school_year_with_the_change(figures: dict) -> None:
    assert figures["chats_per_school_year"] == [
        {
            "school_year": 2024,
            "label": "2024-2025",
            "complete": True,
            "queued": 7,
            "held": 4,
            "missed": 2,
            "held_previous_year": 3,  # p1, p2, b1
            "change": 1,
            "change_pct": approx(100 / 3),
        }
    ]


def test_a_period_across_two_school_years_is_split(dataset: Dataset) -> None:
    figures = figures_for(Filters(start=date(2024, 8, 1), end=date(2024, 10, 31)))
    years = [(y["label"], y["held"], y["complete"]) for y in figures["chats_per_school_year"]]
    assert years == [("2023-2024", 1, False), ("2024-2025", 2, False)]


def test_pupils_and_parents(figures: dict) -> None:
    assert figures["audiences"] == [
        {"audience": "pupil", "label": "leerling", "count": 3, "share": 0.75},
        {"audience": "parent", "label": "ouder", "count": 1, "share": 0.25},
        {"audience": "unknown", "label": "niet ingevuld", "count": 0, "share": 0.0},
    ]


def test_satisfaction_per_audience(figures: dict) -> None:
    satisfaction = figures["satisfaction"]
    assert satisfaction["all"] == {
        "held": 4,
        "rated": 3,
        "rated_share": 0.75,
        "mean": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
    }
    assert satisfaction["pupil"]["mean"] == 4.5
    assert satisfaction["pupil"]["rated"] == 2
    assert satisfaction["pupil"]["rated_share"] == approx(2 / 3)
    assert satisfaction["parent"]["mean"] == 3.0
    assert satisfaction["parent"]["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 0}


def test_satisfaction_without_any_rating(dataset: Dataset) -> None:
    only_c2 = figures_for(Filters(start=date(2024, 10, 2), end=date(2024, 10, 2)))
    assert only_c2["satisfaction"]["all"] == {
        "held": 1,
        "rated": 0,
        "rated_share": 0.0,
        "mean": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert only_c2["satisfaction"]["parent"]["mean"] is None
    assert only_c2["satisfaction"]["parent"]["rated_share"] is None


def test_duration_and_wait(figures: dict) -> None:
    # Lengths 20, 40 (across midnight), 60, 10 minutes; waits 2, 4, 6, 8 minutes.
    assert figures["duration"] == {
        "count": 4,
        "mean": 1950.0,
        "median": 1800.0,
        "p90": 3240.0,  # 40 min + 0.7 × 20 min, interpolated as percentile_cont does
        "long_minutes": 50,
        "long_count": 1,
        "long_share": 0.25,
    }
    assert figures["wait"] == {"count": 4, "mean": 300.0, "median": 300.0, "p90": 444.0}


def test_a_chat_across_midnight_belongs_to_the_day_it_was_queued(dataset: Dataset) -> None:
    wednesday = figures_for(Filters(start=date(2024, 10, 2), end=date(2024, 10, 2)))
    thursday = figures_for(Filters(start=date(2024, 10, 3), end=date(2024, 10, 3)))
    assert wednesday["totals"]["held"] == 1
    assert wednesday["duration"]["mean"] == 2400.0  # 23:54 → 00:34
    assert thursday["totals"]["queued"] == 0


def test_no_chats_at_all(db: None) -> None:
    empty = figures_for(Filters(start=date(2030, 1, 1), end=date(2030, 1, 31)))
    assert empty["totals"]["held"] == 0
    assert empty["totals"]["missed_share"] is None
    assert empty["duration"] == {
        "count": 0,
        "mean": None,
        "median": None,
        "p90": None,
        "long_minutes": 50,
        "long_count": 0,
        "long_share": None,
    }
    assert empty["wait"]["median"] is None
    assert empty["top_topics"] == {"all": [], "pupil": [], "parent": []}
    assert empty["operators"]["chats_per_operator"] is None
    assert empty["busyness"] == {"cells": [], "by_weekday": [], "by_hour": []}


def test_phone_and_tablet_share(figures: dict) -> None:
    assert figures["devices"] == {"held": 4, "mobile": 2, "desktop": 2, "mobile_share": 0.5}


def test_top_topics_per_audience(dataset: Dataset, figures: dict) -> None:
    t = dataset.topics
    top = figures["top_topics"]
    assert [(i["id"], i["count"], i["share"]) for i in top["all"]] == [
        (t["bullying"].pk, 2, 0.5),
        (t["motivation"].pk, 1, 0.25),
        (t["study"].pk, 1, 0.25),
        (t["suicide"].pk, 1, 0.25),
    ]
    assert [(i["name"], i["count"]) for i in top["pupil"]] == [
        ("pesten / cyberpesten", 2),
        ("motivatie", 1),
        ("zelfmoordgedachten", 1),
    ]
    assert top["pupil"][0]["share"] == approx(2 / 3)
    assert top["parent"] == [
        {
            "id": t["study"].pk,
            "name": "studiekeuze / schoolloopbaan",
            "domain": "OLB",
            "is_active": True,
            "count": 1,
            "share": 1.0,
        }
    ]
    assert figures["topics"]["all"] == top["all"]


def test_top_ten_stops_at_ten(dataset: Dataset) -> None:
    from onthaal.registration.models import Topic

    many = list(Topic.objects.filter(is_active=True)[:12])
    make_chat(
        at(2024, 12, 3, 18),
        operator=dataset.anna,
        wait=timedelta(minutes=1),
        duration=timedelta(minutes=5),
        topics=many,
    )
    figures = figures_for(SCHOOL_YEAR)
    assert len(figures["top_topics"]["all"]) == 10
    assert len(figures["topics"]["all"]) > 10


def test_a_renamed_topic_counts_under_its_id_with_the_new_name(dataset: Dataset) -> None:
    motivation = dataset.topics["motivation"]
    motivation.name = "motivatie en zin in school"
    motivation.save(update_fields=["name"])
    figures = figures_for(SCHOOL_YEAR)
    item = next(i for i in figures["topics"]["pupil"] if i["id"] == motivation.pk)
    assert (item["name"], item["count"]) == ("motivatie en zin in school", 1)


def test_a_retired_topic_still_counts_and_says_so(dataset: Dataset) -> None:
    figures = figures_for(Filters(start=date(2023, 9, 1), end=date(2024, 8, 31)))
    assert figures["topics"]["all"] == [
        {
            "id": dataset.topics["corona"].pk,
            "name": "corona",
            "domain": "PGZ",
            "is_active": False,
            "count": 1,
            "share": approx(1 / 3),
        }
    ]


def test_results_per_audience_may_add_past_one_hundred_percent(figures: dict) -> None:
    results = figures["results"]
    assert [(r["code"], r["count"]) for r in results["all"]] == [
        ("info_advice", 2),
        ("referral_clb", 2),
        ("support", 1),
        ("broke_off", 1),
    ]
    assert sum(r["share"] for r in results["all"]) == 1.5
    assert {r["code"]: r["share"] for r in results["parent"]} == {
        "info_advice": 1.0,
        "referral_clb": 1.0,
    }
    assert {r["code"] for r in results["pupil"]} == {
        "support",
        "referral_clb",
        "broke_off",
        "info_advice",
    }
    assert results["pupil"][0]["name"]  # the current name


def test_registered_broke_off_next_to_measured(figures: dict) -> None:
    # c1 and c2 ended as broke_off; only c2 was registered as "sessie afgebroken".
    assert figures["broke_off"] == {
        "all": {
            "held": 4,
            "registered": 1,
            "registered_share": 0.25,
            "measured": 2,
            "measured_share": 0.5,
        },
        "pupil": {
            "held": 3,
            "registered": 1,
            "registered_share": approx(1 / 3),
            "measured": 2,
            "measured_share": approx(2 / 3),
        },
        "parent": {
            "held": 1,
            "registered": 0,
            "registered_share": 0.0,
            "measured": 0,
            "measured_share": 0.0,
        },
    }


def test_referral_sources_per_audience(figures: dict) -> None:
    sources = figures["referral_sources"]
    assert [(s["source"], s["count"]) for s in sources["all"]] == [
        ("clb_website", 1),
        ("internet", 1),
        ("smartschool", 1),
        ("unknown", 1),
    ]
    assert sources["parent"] == [
        {"source": "clb_website", "label": "Website van het CLB", "count": 1, "share": 1.0}
    ]
    assert {s["source"]: s["share"] for s in sources["pupil"]} == {
        "internet": approx(1 / 3),
        "smartschool": approx(1 / 3),
        "unknown": approx(1 / 3),
    }


def test_suspected_prank_share(figures: dict) -> None:
    assert figures["prank"]["all"] == {
        "held": 4,
        "registered": 4,
        "suspected": 1,
        "share": 0.25,
        "share_of_registered": 0.25,
    }
    assert figures["prank"]["pupil"]["share"] == approx(1 / 3)
    assert figures["prank"]["parent"]["suspected"] == 0


def test_pupils_gender_and_age(figures: dict) -> None:
    pupils = figures["pupils"]
    assert [(g["gender"], g["count"]) for g in pupils["gender"]] == [
        ("girl", 1),
        ("boy", 1),
        ("x", 1),
    ]
    assert all(g["share"] == approx(1 / 3) for g in pupils["gender"])
    assert (pupils["held"], pupils["gender_answered"], pupils["gender_unknown"]) == (3, 3, 0)
    # c2 gave no age: the mean is over c1 (14) and c4 (15).
    assert (pupils["age_count"], pupils["age_mean"]) == (2, 14.5)


def test_operators_by_discipline_and_chats_per_operator(dataset: Dataset, figures: dict) -> None:
    operators = figures["operators"]
    assert operators["count"] == 2
    assert operators["chats"] == 4
    assert operators["chats_per_operator"] == 2.0
    assert operators["chats_per_operator_median"] == 2.0
    assert operators["by_discipline"] == [
        {"discipline": "nurse", "label": "verpleegkundige", "count": 1, "share": 0.5},
        {
            "discipline": "psycho_pedagogue",
            "label": "psychopedagoog",
            "count": 1,
            "share": 0.5,
        },
    ]
    assert operators["per_operator"] == [
        {"id": dataset.anna.pk, "name": "Anna", "discipline": "psycho_pedagogue", "chats": 3},
        {"id": dataset.bart.pk, "name": "Bart", "discipline": "nurse", "chats": 1},
    ]


def test_busyness_per_weekday_and_hour(figures: dict) -> None:
    cells = {
        (c["weekday"], c["hour"]): (c["queued"], c["held"], c["missed"])
        for c in figures["busyness"]["cells"]
    }
    assert cells == {
        (1, 17): (1, 1, 0),  # c3, Monday
        (1, 20): (1, 0, 1),  # c6, closed at closing time
        (2, 18): (2, 1, 1),  # c1 and c5, Tuesday
        (3, 15): (1, 0, 0),  # c7, still queued
        (3, 23): (1, 1, 0),  # c2, Wednesday before midnight
        (4, 19): (1, 1, 0),  # c4, Thursday (winter time)
    }
    assert figures["busyness"]["by_weekday"][0] == {
        "weekday": 1,
        "queued": 2,
        "held": 1,
        "missed": 1,
    }
    assert [h["hour"] for h in figures["busyness"]["by_hour"]] == [15, 17, 18, 19, 20, 23]


def test_busyness_hours_across_the_changes_of_clock(db: None) -> None:
    from datetime import UTC, datetime

    # Sunday 27 Oct 2024: 03:00 summer time became 02:00 winter time at 01:00 UTC.
    make_chat(datetime(2024, 10, 27, 0, 30, tzinfo=UTC))  # 02:30 summer time
    make_chat(datetime(2024, 10, 27, 1, 30, tzinfo=UTC))  # 02:30 winter time
    # Sunday 30 Mar 2025: 02:00 winter time became 03:00 summer time at 01:00 UTC.
    make_chat(datetime(2025, 3, 30, 0, 30, tzinfo=UTC))  # 01:30 winter time
    make_chat(datetime(2025, 3, 30, 1, 30, tzinfo=UTC))  # 03:30 summer time
    figures = figures_for(SCHOOL_YEAR)
    assert [(c["weekday"], c["hour"], c["queued"]) for c in figures["busyness"]["cells"]] == [
        (7, 1, 1),
        (7, 2, 2),
        (7, 3, 1),
    ]
    months = {m["month"]: m["queued"] for m in figures["chats_per_month"]}
    assert (months["2024-10"], months["2025-03"]) == (2, 2)


def test_month_boundaries_follow_brussels_time(db: None) -> None:
    from datetime import UTC, datetime

    make_chat(datetime(2024, 9, 30, 22, 30, tzinfo=UTC))  # 1 Oct 00:30 in Brussels
    make_chat(datetime(2024, 12, 31, 23, 30, tzinfo=UTC))  # 1 Jan 00:30 in Brussels
    figures = figures_for(SCHOOL_YEAR)
    months = {m["month"]: m["queued"] for m in figures["chats_per_month"]}
    assert (months["2024-09"], months["2024-10"]) == (0, 1)
    assert (months["2024-12"], months["2025-01"]) == (0, 1)


def test_the_audience_filter(dataset: Dataset) -> None:
    parents = figures_for(Filters(start=date(2024, 9, 1), end=date(2025, 8, 31), audience="parent"))
    assert parents["totals"]["held"] == 1
    assert parents["totals"]["missed"] == 1  # c6
    assert parents["satisfaction"]["all"]["mean"] == 3.0
    assert parents["satisfaction"]["pupil"]["rated"] == 0
    assert parents["pupils"]["held"] == 0


def test_the_operator_filter_gives_an_operators_own_figures(dataset: Dataset) -> None:
    anna = figures_for(
        Filters(start=date(2024, 9, 1), end=date(2025, 8, 31), operator_id=dataset.anna.pk)
    )
    assert anna["totals"]["held"] == 3
    assert anna["totals"]["missed"] == 0  # a missed chat has no operator
    assert [o["id"] for o in anna["operators"]["per_operator"]] == [dataset.anna.pk]
    assert anna["prank"]["all"]["suspected"] == 1
    assert [t["count"] for t in anna["topics"]["all"]] == [2, 1, 1]


def test_the_channel_filter(dataset: Dataset) -> None:
    chat = figures_for(Filters(start=date(2024, 9, 1), end=date(2025, 8, 31), channel="chat"))
    assert chat["totals"]["held"] == 4


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"start": date(2025, 1, 2), "end": date(2025, 1, 1)}, "invalid_period"),
        ({"start": date(2000, 1, 1), "end": date(2025, 1, 1)}, "invalid_period"),
        ({"start": date(2025, 1, 1), "end": date(2025, 1, 1), "audience": "teacher"}, "invalid"),
        ({"start": date(2025, 1, 1), "end": date(2025, 1, 1), "channel": "phone"}, "invalid"),
    ],
)
def test_bad_filters_are_refused(kwargs: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Filters(**kwargs)
    assert error.value.code == code


def test_school_year_figures_are_the_figures_of_that_school_year(dataset: Dataset) -> None:
    figures = school_year_figures(2024)
    assert figures["school_year"] == {
        "year": 2024,
        "label": "2024-2025",
        "start": "2024-09-01",
        "end": "2025-08-31",
    }
    del figures["school_year"]
    assert figures == figures_for(SCHOOL_YEAR)
    assert school_year_figures(2023)["totals"]["held"] == 3  # p1, p2, b1
    assert school_year_figures(2025)["totals"]["held"] == 1  # b2


def test_the_result_is_plain_json(figures: dict) -> None:
    import json

    assert json.loads(json.dumps(figures)) == figures
