"""``/api/v1/stats``: who sees what, parameters and errors."""

from __future__ import annotations

import pytest
from django.test import Client

from onthaal.stats.tests.conftest import Dataset

YEAR = "start=2024-09-01&end=2025-08-31"


def _client(user: object | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/stats/figures?{YEAR}",
        "/api/v1/stats/figures/school-year/2024",
        "/api/v1/stats/trends",
        "/api/v1/stats/export.csv",
        "/api/v1/stats/export.xlsx",
    ],
)
def test_anonymous_callers_get_401(db: None, path: str) -> None:
    response = _client().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_coordinator_sees_every_figure(dataset: Dataset) -> None:
    body = _client(dataset.coordinator).get(f"/api/v1/stats/figures?{YEAR}").json()
    assert body["totals"]["held"] == 4
    assert body["totals"]["missed"] == 2
    assert body["filters"]["operator_id"] is None
    assert [o["name"] for o in body["operators"]["per_operator"]] == ["Anna", "Bart"]


def test_a_coordinator_may_narrow_to_one_operator(dataset: Dataset) -> None:
    client = _client(dataset.coordinator)
    body = client.get(f"/api/v1/stats/figures?{YEAR}&operator={dataset.bart.pk}").json()
    assert body["totals"]["held"] == 1
    assert body["filters"]["operator_id"] == dataset.bart.pk


def test_an_operator_sees_only_their_own_figures(dataset: Dataset) -> None:
    client = _client(dataset.anna)
    body = client.get(f"/api/v1/stats/figures?{YEAR}").json()
    assert body["filters"]["operator_id"] == dataset.anna.pk
    assert body["totals"]["held"] == 3
    assert body["totals"]["missed"] == 0
    assert [o["id"] for o in body["operators"]["per_operator"]] == [dataset.anna.pk]
    own = client.get(f"/api/v1/stats/figures?{YEAR}&operator={dataset.anna.pk}")
    assert own.json()["totals"]["held"] == 3


def test_an_operator_cannot_ask_for_someone_elses_figures(dataset: Dataset) -> None:
    client = _client(dataset.anna)
    for path in (
        f"/api/v1/stats/figures?{YEAR}&operator={dataset.bart.pk}",
        f"/api/v1/stats/figures/school-year/2024?operator={dataset.bart.pk}",
        f"/api/v1/stats/trends?operator={dataset.bart.pk}",
        f"/api/v1/stats/export.csv?operator={dataset.bart.pk}",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden"


def test_an_analyst_sees_every_aggregate_but_no_single_operator(dataset: Dataset) -> None:
    client = _client(dataset.analyst)
    body = client.get(f"/api/v1/stats/figures?{YEAR}").json()
    assert body["filters"]["operator_id"] is None
    assert body["totals"]["held"] == 4
    assert body["totals"]["missed"] == 2
    assert body["operators"]["per_operator"] == []
    assert [d["count"] for d in body["operators"]["by_discipline"]] == [1, 1]
    assert (
        client.get("/api/v1/stats/figures/school-year/2024").json()["operators"]["per_operator"]
        == []
    )
    assert client.get("/api/v1/stats/trends?from=2023&to=2024").json()["years"][1]["held"] == 4
    response = client.get(f"/api/v1/stats/figures?{YEAR}&operator={dataset.anna.pk}")
    assert response.status_code == 403
    csv_body = client.get(f"/api/v1/stats/export.csv?{YEAR}").content.decode()
    assert "operators,Anna" not in csv_body


def test_an_operators_trend_and_school_year_are_their_own(dataset: Dataset) -> None:
    client = _client(dataset.bart)
    trend = client.get("/api/v1/stats/trends?from=2023&to=2024").json()
    assert trend["filters"]["operator_id"] == dataset.bart.pk
    assert [y["held"] for y in trend["years"]] == [3, 1]
    year = client.get("/api/v1/stats/figures/school-year/2024-2025").json()
    assert year["totals"]["held"] == 1


def test_the_school_year_endpoint_takes_both_spellings(dataset: Dataset) -> None:
    client = _client(dataset.coordinator)
    short = client.get("/api/v1/stats/figures/school-year/2024").json()
    long = client.get("/api/v1/stats/figures/school-year/2024-2025").json()
    assert short == long
    assert short["school_year"]["label"] == "2024-2025"
    assert short["totals"]["held"] == 4


def test_the_default_period_is_the_current_school_year(dataset: Dataset) -> None:
    from onthaal.stats.figures import school_year_dates
    from onthaal.stats.selectors import current_school_year

    body = _client(dataset.coordinator).get("/api/v1/stats/figures").json()
    start, end = school_year_dates(current_school_year())
    assert (body["filters"]["start"], body["filters"]["end"]) == (
        start.isoformat(),
        end.isoformat(),
    )


def test_trends_by_topic_name_and_id(dataset: Dataset) -> None:
    corona = dataset.topics["corona"].pk
    client = _client(dataset.coordinator)
    body = client.get(
        f"/api/v1/stats/trends?from=2023-2024&to=2024&topics=zelfmoordgedachten,{corona}"
        "&topics=pesten / cyberpesten"
    ).json()
    assert body["filters"]["from"] == 2023
    assert [t["name"] for t in body["topics"]] == [
        "corona",
        "zelfmoordgedachten",
        "pesten / cyberpesten",
    ]
    assert [y["held"] for y in body["years"]] == [3, 4]


def test_trends_default_to_ten_years_and_the_default_topics(dataset: Dataset) -> None:
    body = _client(dataset.coordinator).get("/api/v1/stats/trends").json()
    assert len(body["years"]) == 10
    assert [t["name"] for t in body["topics"]] == ["zelfmoordgedachten", "pesten / cyberpesten"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/stats/figures?start=gisteren", "invalid"),
        ("/api/v1/stats/figures?start=2025-01-02&end=2025-01-01", "invalid_period"),
        ("/api/v1/stats/figures?start=2000-01-01&end=2025-01-01", "invalid_period"),
        ("/api/v1/stats/figures?audience=teacher", "invalid"),
        ("/api/v1/stats/figures?channel=phone", "invalid"),
        ("/api/v1/stats/figures?operator=abc", "invalid"),
        ("/api/v1/stats/figures/school-year/2024-2026", "invalid_school_year"),
        ("/api/v1/stats/figures/school-year/vorig-jaar", "invalid_school_year"),
        ("/api/v1/stats/trends?from=2025&to=2020", "invalid_period"),
        ("/api/v1/stats/trends?from=1990", "invalid_school_year"),
        ("/api/v1/stats/trends?topics=bestaat-niet", "unknown_topic"),
        ("/api/v1/stats/export.csv?end=2020-13-01", "invalid"),
        # Inputs that once reached the database (or Python's date range) unchecked.
        ("/api/v1/stats/figures?start=0001-01-01&end=0001-01-01", "invalid_period"),
        ("/api/v1/stats/figures?end=9999-12-31", "invalid_period"),
        ("/api/v1/stats/figures?operator=99999999999999999999", "invalid"),
        ("/api/v1/stats/figures?operator=0", "invalid"),
        ("/api/v1/stats/figures/school-year/%C2%B2", "invalid_school_year"),
        ("/api/v1/stats/trends?topics=a%00b", "unknown_topic"),
        ("/api/v1/stats/trends?topics=99999999999999999999", "unknown_topic"),
    ],
)
def test_bad_parameters_get_400_with_a_code(dataset: Dataset, path: str, code: str) -> None:
    response = _client(dataset.coordinator).get(path)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert "details" in body


def test_the_figures_are_in_the_openapi_schema(db: None) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/stats/figures",
        "/api/v1/stats/figures/school-year/{year}",
        "/api/v1/stats/trends",
        "/api/v1/stats/export.csv",
        "/api/v1/stats/export.xlsx",
    } <= set(paths)
