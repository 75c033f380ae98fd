"""The import file formats: CSV and JSON Lines, one conversation per row.

Both formats carry the same fields (:data:`FIELDS`, documented in
``docs/import.md``). Readers only split a file into rows of raw values with
their line numbers; what the values mean is checked by
:mod:`onthaal.history.records`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from onthaal.errors import InvalidInput

# In the order of docs/import.md; a CSV file may hold them in any order.
FIELDS: tuple[str, ...] = (
    "external_id",
    "channel",
    "queued_at",
    "accepted_at",
    "ended_at",
    "end_reason",
    "audience",
    "age",
    "gender",
    "referral_source",
    "device_class",
    "language",
    "rating",
    "operator",
    "topics",
    "results",
    "prank_suspected",
)
REQUIRED_FIELDS: tuple[str, ...] = ("external_id", "queued_at")

# Separates several topics or results inside one CSV cell.
LIST_SEPARATOR = "|"


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read (no header, an unknown column …)."""

    code = "import_file_invalid"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the file: its values by field name, or why it could not be read."""

    line: int  # where the row starts in the file, counting from 1
    values: dict[str, Any]
    error: str = ""


def format_for_path(path: str | Path, explicit: str | None = None) -> Format:
    """The format named by ``explicit``, else the one the file's extension says."""
    if explicit:
        try:
            return Format(explicit.lower())
        except ValueError:
            raise ImportFileError(
                f"unknown format '{explicit}' (use {' or '.join(Format)})"
            ) from None
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "ndjson":
        return Format.JSONL
    try:
        return Format(suffix)
    except ValueError:
        raise ImportFileError(
            f"cannot tell the format of '{path}' from its extension: name it .csv or "
            ".jsonl, or pass --format"
        ) from None


def rows_read(stream: TextIO, file_format: Format) -> Iterator[SourceRow]:
    """The data rows of an open text file, lazily, in file order.

    Raises :class:`ImportFileError` (when the iterator reaches it) for a CSV
    file without a usable header line.
    """
    if file_format == Format.CSV:
        return _csv_rows(stream)
    return _jsonl_rows(stream)


def _csv_rows(stream: TextIO) -> Iterator[SourceRow]:
    header_line = stream.readline()
    if not header_line.strip():
        raise ImportFileError("the CSV file is empty: its first line must name the columns")
    # Excel in a Belgian or Dutch locale writes semicolons; a header line
    # holds no quoted separators, so it tells which one this file uses.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [name.strip().lower() for name in next(csv.reader([header_line], delimiter=delimiter))]
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise ImportFileError(
            f"line 1: unknown column(s) {', '.join(repr(n) for n in unknown)}; "
            f"the columns are {', '.join(FIELDS)}"
        )
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        raise ImportFileError(f"line 1: column(s) named twice: {', '.join(doubled)}")
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise ImportFileError(f"line 1: required column(s) missing: {', '.join(missing)}")

    reader = csv.reader(stream, delimiter=delimiter)
    width = len(header)
    # reader.line_num counts the lines consumed so far (a quoted cell may span
    # several); the header was read before the reader existed.
    previous_end = 1
    for cells in reader:
        line = previous_end + 1
        previous_end = reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != width:
            yield SourceRow(line, {}, f"{len(cells)} fields where the header names {width} columns")
            continue
        yield SourceRow(line, dict(zip(header, cells, strict=True)))


def _jsonl_rows(stream: TextIO) -> Iterator[SourceRow]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            values = json.loads(text)
        except ValueError as exc:
            yield SourceRow(line, {}, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(values, dict):
            yield SourceRow(line, {}, "each line must hold one JSON object")
            continue
        unknown = [key for key in values if key not in FIELDS]
        if unknown:
            yield SourceRow(
                line, {}, f"unknown field(s) {', '.join(repr(k) for k in sorted(unknown))}"
            )
            continue
        yield SourceRow(line, values)


def data_line_count(path: str | Path, file_format: Format) -> int:
    """About how many rows the file holds (for a progress bar): its lines,
    less the header of a CSV file. Reads the file in binary chunks, fast."""
    count = 0
    last = b"\n"
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        count += 1
    if file_format == Format.CSV:
        count -= 1
    return max(count, 0)
