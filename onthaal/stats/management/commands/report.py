"""``onthaal report --year 2024-2025``: the annual report (*jaarverslag*) of a school year.

The work is done by :func:`onthaal.stats.report.report_render`;
docs/statistics.md ("The annual report") says what is in it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onthaal.errors import ServiceError
from onthaal.stats.figures import school_year_parse
from onthaal.stats.models import FOREWORD_MAX_CHARS
from onthaal.stats.report import FORMATS, LANGUAGES, report_render


class Command(BaseCommand):
    help = (
        "Write the annual report (jaarverslag) of a school year as PDF, HTML or JSON: "
        "to stdout, or to a file with --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help="school year, e.g. 2024-2025")
        parser.add_argument(
            "--format", choices=FORMATS, default="pdf", help="pdf (default), html or json"
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="write the report to FILE (default: stdout; '-' is stdout too)",
        )
        parser.add_argument(
            "--language",
            choices=tuple(LANGUAGES),
            default="nl",
            help="nl (default, Flemish number formats) or en",
        )
        parser.add_argument(
            "--audience",
            choices=("pupil", "parent"),
            help="a report of the chats with pupils or with parents only",
        )
        parser.add_argument(
            "--foreword-file",
            metavar="FILE",
            help="a foreword to print instead of the one stored for the year (or the "
            "generated one): plain UTF-8 text, paragraphs separated by a blank line, "
            f"at most {FOREWORD_MAX_CHARS:,} characters",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            school_year = school_year_parse(options["year"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        foreword = self._foreword(options["foreword_file"])
        output = options["output"]
        to_stdout = output in (None, "-")
        stdout_bytes = getattr(self.stdout, "buffer", None)
        if to_stdout and options["format"] == "pdf":
            if stdout_bytes is None:
                raise CommandError("a PDF is binary: give --output FILE")
            if self.stdout.isatty():
                raise CommandError("a PDF would garble the terminal: give --output FILE")
        started = time.monotonic()
        try:
            content = report_render(
                school_year,
                format=options["format"],
                language=options["language"],
                audience=options["audience"],
                foreword=foreword,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        if not to_stdout:
            path = Path(output)
            try:
                path.write_bytes(content)
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
            self.stderr.write(
                f"Wrote the annual report ({options['format']}, {len(content):,} bytes) "
                f"to {path} in {time.monotonic() - started:.1f} s."
            )
        elif stdout_bytes is not None and options["format"] == "pdf":
            self.stdout.flush()
            stdout_bytes.write(content)
            stdout_bytes.flush()
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
            self.stdout.flush()

    def _foreword(self, name: str | None) -> str | None:
        """The text of ``--foreword-file``; None without the option."""
        if name is None:
            return None
        path = Path(name)
        try:
            # A foreword is a page of text: read a little more than allowed, so
            # that a huge file (or /dev/zero) is refused rather than read whole.
            with path.open("rb") as file:
                raw = file.read(FOREWORD_MAX_CHARS * 4 + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if len(raw) > FOREWORD_MAX_CHARS * 4:
            raise CommandError(
                f"{path}: the foreword is too long (at most {FOREWORD_MAX_CHARS:,} characters)"
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
        if not text.strip():
            raise CommandError(f"{path} is empty: leave --foreword-file out for the stored one")
        return text
