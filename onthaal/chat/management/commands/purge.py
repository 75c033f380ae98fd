"""``onthaal purge``: delete transcripts past the retention period now.

The server also does this by itself every hour (see onthaal.lifespan).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from onthaal.chat.retention import transcripts_purge


class Command(BaseCommand):
    help = (
        "Delete the message text of conversations that ended more than "
        "ONTHAAL_TRANSCRIPT_RETENTION_DAYS ago. Figures and registrations stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be deleted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = transcripts_purge(dry_run=options["dry_run"])
        days = settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS
        verb = "would be purged" if options["dry_run"] else "purged"
        self.stdout.write(f"{count} transcript(s) older than {days} days {verb}.")
