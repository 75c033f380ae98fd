"""CSV and XLSX exports of the main tables."""

from __future__ import annotations

import csv
import io

from django.test import Client
from openpyxl import load_workbook

from onthaal.stats.export import figures_tables
from onthaal.stats.tests.conftest import Dataset

YEAR = "start=2024-09-01&end=2025-08-31"
TABLES = [
    "filters",
    "totals",
    "chats_per_month",
    "chats_per_school_year",
    "audiences",
    "satisfaction",
    "duration_wait",
    "topics",
    "results",
    "broke_off",
    "referral_sources",
    "prank",
    "pupils_gender",
    "operators_by_discipline",
    "operators",
    "busyness",
]


def _get(user: object, path: str):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client.get(path)


def _rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _value(rows: list[dict[str, str]], table: str, key: str, measure: str, subkey: str = "") -> str:
    matches = [
        r["value"]
        for r in rows
        if (r["table"], r["key"], r["subkey"], r["measure"]) == (table, key, subkey, measure)
    ]
    assert len(matches) == 1, (table, key, subkey, measure)
    return matches[0]


def test_csv_is_one_long_table_with_the_figures(dataset: Dataset) -> None:
    response = _get(dataset.coordinator, f"/api/v1/stats/export.csv?{YEAR}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="onthaal-cijfers-2024-09-01-2025-08-31.csv"'
    )
    assert response.content.decode().splitlines()[0] == "table,key,subkey,measure,value"
    rows = _rows(response)
    assert [t for t in dict.fromkeys(r["table"] for r in rows)] == TABLES
    assert _value(rows, "totals", "held", "value") == "4"
    assert _value(rows, "totals", "missed_share", "value") == str(2 / 6)
    assert _value(rows, "chats_per_month", "2024-10", "held") == "2"
    assert _value(rows, "chats_per_month", "2024-11", "change_pct") == ""
    assert _value(rows, "satisfaction", "pupil", "mean") == "4.5"
    assert _value(rows, "satisfaction", "all", "stars_5") == "1"
    assert _value(rows, "duration_wait", "duration", "p90_s") == "3240.0"
    assert _value(rows, "topics", "pupil", "count", subkey="pesten / cyberpesten") == "2"
    assert _value(rows, "results", "all", "code", subkey="info en advies") == "info_advice"
    assert _value(rows, "broke_off", "pupil", "measured") == "2"
    assert _value(rows, "referral_sources", "all", "count", subkey="unknown") == "1"
    assert _value(rows, "busyness", "2", "missed", subkey="18") == "1"
    assert _value(rows, "operators", "Anna", "chats") == "3"


def test_an_operators_csv_holds_only_their_chats(dataset: Dataset) -> None:
    rows = _rows(_get(dataset.bart, f"/api/v1/stats/export.csv?{YEAR}"))
    assert _value(rows, "totals", "held", "value") == "1"
    assert {r["key"] for r in rows if r["table"] == "operators"} == {"Bart"}


def test_xlsx_has_one_sheet_per_table(dataset: Dataset) -> None:
    response = _get(dataset.coordinator, f"/api/v1/stats/export.xlsx?{YEAR}&audience=pupil")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == TABLES
    totals = {row[0]: row[1] for row in workbook["totals"].iter_rows(values_only=True)}
    assert totals["measure"] == "value"
    assert totals["held"] == 3
    topics = list(workbook["topics"].iter_rows(values_only=True))
    assert topics[0] == ("audience", "topic", "topic_id", "domain", "count", "share")
    assert ("pupil", "pesten / cyberpesten", dataset.topics["bullying"].pk, "PSF", 2) in [
        row[:5] for row in topics
    ]
    # Read-only mode drops trailing empty cells: a None filter has no second cell.
    filters = {row[0]: (*row, None)[1] for row in workbook["filters"].iter_rows(values_only=True)}
    assert filters["audience"] == "pupil"


def test_text_that_a_spreadsheet_would_run_is_defused(dataset: Dataset) -> None:
    topic = dataset.topics["study"]
    topic.name = '=HYPERLINK("http://example.invalid")'
    topic.save(update_fields=["name"])
    rows = _rows(_get(dataset.coordinator, f"/api/v1/stats/export.csv?{YEAR}"))
    names = {r["subkey"] for r in rows if r["table"] == "topics"}
    assert '\'=HYPERLINK("http://example.invalid")' in names
    workbook = load_workbook(
        io.BytesIO(_get(dataset.coordinator, f"/api/v1/stats/export.xlsx?{YEAR}").content)
    )
    cells = [row[1] for row in workbook["topics"].iter_rows(values_only=True)]
    assert '\'=HYPERLINK("http://example.invalid")' in cells


def test_tables_of_an_empty_period(db: None) -> None:
    from datetime import date

    from onthaal.stats.figures import Filters, figures_for

    tables = figures_tables(figures_for(Filters(start=date(2030, 1, 1), end=date(2030, 1, 31))))
    assert [t.name for t in tables] == TABLES
    assert next(t for t in tables if t.name == "topics").rows == []
