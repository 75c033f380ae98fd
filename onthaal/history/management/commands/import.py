"""``onthaal import FILE``: conversations and registrations from an earlier tool.

The format is described in docs/import.md; the work is done by
:func:`onthaal.history.services.conversations_import`.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from onthaal.errors import ServiceError
from onthaal.history.formats import Format, data_line_count, format_for_path, rows_read
from onthaal.history.services import ImportResult, conversations_import

DEFAULT_SHOWN_ERRORS = 100


class Command(BaseCommand):
    help = (
        "Import ended conversations and their registrations from a CSV or JSON Lines file "
        "(see docs/import.md). Checks every row first: one invalid row and nothing is "
        "imported, unless --skip-invalid. Rows whose external_id is present already are "
        "skipped, so running it twice adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv or .jsonl file, or - for standard input")
        parser.add_argument(
            "--format", choices=[f.value for f in Format], help="default: from the extension"
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and list the invalid ones",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count only; write nothing"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--show-errors",
            type=int,
            default=DEFAULT_SHOWN_ERRORS,
            metavar="N",
            help=f"list at most N invalid rows (default {DEFAULT_SHOWN_ERRORS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        try:
            if path == "-" and not options["format"]:
                raise CommandError("reading standard input needs --format")
            file_format = format_for_path(path, options["format"])
            with ExitStack() as stack:
                if path == "-":
                    stream = sys.stdin
                    total = None
                else:
                    try:
                        # utf-8-sig: spreadsheet programs start a CSV file with a BOM.
                        stream = stack.enter_context(open(path, encoding="utf-8-sig", newline=""))
                    except OSError as exc:
                        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
                    total = data_line_count(path, file_format)
                bar = stack.enter_context(
                    tqdm(
                        total=total,
                        desc="check" if options["dry_run"] else "import",
                        unit=" rows",
                        unit_scale=True,
                        file=sys.stderr,
                        disable=options["quiet"] or not sys.stderr.isatty(),
                        dynamic_ncols=True,
                    )
                )
                result = conversations_import(
                    rows=rows_read(stream, file_format),
                    skip_invalid=options["skip_invalid"],
                    dry_run=options["dry_run"],
                    progress=bar.update,
                )
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason})") from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self._report(result, skip_invalid=options["skip_invalid"], shown=options["show_errors"])

    def _report(self, result: ImportResult, *, skip_invalid: bool, shown: int) -> None:
        invalid = len(result.invalid)
        for row in result.invalid[: max(shown, 0)]:
            self.stderr.write(str(row))
        if invalid > shown:
            self.stderr.write(f"… and {invalid - shown} more invalid rows")
        counts = f"{result.new} new, {result.already_present} already present"
        if result.dry_run:
            self.stdout.write(
                f"Dry run: {result.rows} rows checked: {counts}, {invalid} invalid. "
                "Nothing was written."
            )
            if invalid and not skip_invalid:
                raise CommandError(f"{invalid} invalid row(s)")
            return
        if not result.written:
            raise CommandError(
                f"{invalid} invalid row(s) of {result.rows}; nothing was imported "
                "(correct them, or use --skip-invalid to import the valid rows)"
            )
        message = f"Imported {result.rows - invalid} rows: {counts}"
        if result.registrations:
            message += f" ({result.registrations} registrations)"
        if invalid:
            message += f"; {invalid} invalid row(s) skipped"
        self.stdout.write(self.style.SUCCESS(message + "."))
