"""The figures as tables, and those tables as CSV and XLSX.

``figures_tables`` turns the dictionary of ``figures.figures_for`` into
named tables, each with one or two key columns and a few measures. The XLSX
file has one sheet per table. The CSV file is one long table with the
columns ``table,key,subkey,measure,value`` (docs/statistics.md), so that a
spreadsheet pivot rebuilds any table.

Topic, result and operator names are typed in by people; a text cell that
starts with ``=``, ``+``, ``-`` or ``@`` gets a leading apostrophe so that a
spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook

Value = str | int | float | bool | None


@dataclass
class Table:
    name: str
    keys: tuple[str, ...]  # one or two key columns
    measures: tuple[str, ...]
    rows: list[tuple[tuple[Value, ...], dict[str, Value]]] = field(default_factory=list)

    def add(self, keys: Iterable[Value], values: dict[str, Any]) -> None:
        self.rows.append((tuple(keys), {m: values.get(m) for m in self.measures}))


AUDIENCES = ("all", "pupil", "parent")


def figures_tables(figures: dict[str, Any]) -> list[Table]:
    """The main tables of a ``figures_for`` dictionary, in a fixed order."""
    tables: list[Table] = []

    filters = Table("filters", ("filter",), ("value",))
    for name, value in figures["filters"].items():
        filters.add([name], {"value": value})
    tables.append(filters)

    totals = Table("totals", ("measure",), ("value",))
    for name, value in figures["totals"].items():
        totals.add([name], {"value": value})
    for name, value in figures["devices"].items():
        totals.add([f"devices_{name}"], {"value": value})
    pupils = figures["pupils"]
    for name in ("held", "gender_answered", "gender_unknown", "age_count", "age_mean"):
        totals.add([f"pupils_{name}"], {"value": pupils[name]})
    operators = figures["operators"]
    for name in ("count", "chats", "chats_per_operator", "chats_per_operator_median"):
        totals.add([f"operators_{name}"], {"value": operators[name]})
    tables.append(totals)

    change = ("held_previous_year", "change", "change_pct")
    months = Table("chats_per_month", ("month",), ("queued", "held", "missed", *change))
    for row in figures["chats_per_month"]:
        months.add([row["month"]], row)
    tables.append(months)

    years = Table(
        "chats_per_school_year",
        ("school_year",),
        ("complete", "queued", "held", "missed", *change),
    )
    for row in figures["chats_per_school_year"]:
        years.add([row["label"]], row)
    tables.append(years)

    audiences = Table("audiences", ("audience",), ("count", "share"))
    for row in figures["audiences"]:
        audiences.add([row["audience"]], row)
    tables.append(audiences)

    stars = tuple(f"stars_{n}" for n in range(1, 6))
    satisfaction = Table(
        "satisfaction", ("audience",), ("held", "rated", "rated_share", "mean", *stars)
    )
    for audience in AUDIENCES:
        entry = figures["satisfaction"][audience]
        distribution = {f"stars_{n}": count for n, count in entry["distribution"].items()}
        satisfaction.add([audience], {**entry, **distribution})
    tables.append(satisfaction)

    durations = Table(
        "duration_wait",
        ("measure",),
        ("count", "mean_s", "median_s", "p90_s", "long_count", "long_share"),
    )
    for name in ("duration", "wait"):
        entry = figures[name]
        durations.add(
            [name],
            {
                "count": entry["count"],
                "mean_s": entry["mean"],
                "median_s": entry["median"],
                "p90_s": entry["p90"],
                "long_count": entry.get("long_count"),
                "long_share": entry.get("long_share"),
            },
        )
    tables.append(durations)

    topics = Table("topics", ("audience", "topic"), ("topic_id", "domain", "count", "share"))
    for audience in AUDIENCES:
        for row in figures["topics"][audience]:
            topics.add([audience, row["name"]], {**row, "topic_id": row["id"]})
    tables.append(topics)

    results = Table("results", ("audience", "result"), ("code", "count", "share"))
    for audience in AUDIENCES:
        for row in figures["results"][audience]:
            results.add([audience, row["name"]], row)
    tables.append(results)

    broke_off = Table(
        "broke_off",
        ("audience",),
        ("held", "registered", "registered_share", "measured", "measured_share"),
    )
    for audience in AUDIENCES:
        broke_off.add([audience], figures["broke_off"][audience])
    tables.append(broke_off)

    referral = Table("referral_sources", ("audience", "source"), ("count", "share"))
    for audience in AUDIENCES:
        for row in figures["referral_sources"][audience]:
            referral.add([audience, row["source"]], row)
    tables.append(referral)

    prank = Table(
        "prank", ("audience",), ("held", "registered", "suspected", "share", "share_of_registered")
    )
    for audience in AUDIENCES:
        prank.add([audience], figures["prank"][audience])
    tables.append(prank)

    gender = Table("pupils_gender", ("gender",), ("count", "share"))
    for row in pupils["gender"]:
        gender.add([row["gender"]], row)
    tables.append(gender)

    disciplines = Table("operators_by_discipline", ("discipline",), ("count", "share"))
    for row in operators["by_discipline"]:
        disciplines.add([row["discipline"]], row)
    tables.append(disciplines)

    per_operator = Table("operators", ("operator",), ("operator_id", "discipline", "chats"))
    for row in operators["per_operator"]:
        per_operator.add([row["name"]], {**row, "operator_id": row["id"]})
    tables.append(per_operator)

    busyness = Table("busyness", ("weekday", "hour"), ("queued", "held", "missed"))
    for row in figures["busyness"]["cells"]:
        busyness.add([row["weekday"], row["hour"]], row)
    tables.append(busyness)
    return tables


def _cell(value: Value) -> Value:
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def tables_csv(tables: list[Table]) -> str:
    """Long format: ``table,key,subkey,measure,value``; empty cells for None."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["table", "key", "subkey", "measure", "value"])
    for table in tables:
        for keys, values in table.rows:
            key, subkey = (*keys, "")[:2]
            for measure, value in values.items():
                writer.writerow(
                    [
                        table.name,
                        _cell(key),
                        _cell(subkey),
                        measure,
                        "" if value is None else _cell(value),
                    ]
                )
    return out.getvalue()


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table (named after it), a header row, then the rows."""
    workbook = Workbook(write_only=True)
    for table in tables:
        # Sheet names are limited to 31 characters.
        sheet = workbook.create_sheet(title=table.name[:31])
        sheet.append([*table.keys, *table.measures])
        for keys, values in table.rows:
            sheet.append([_cell(k) for k in keys] + [_cell(values[m]) for m in table.measures])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
