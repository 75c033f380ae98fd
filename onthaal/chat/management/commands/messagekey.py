"""``onthaal messagekey new|rotate``: keys for message text at rest."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from onthaal import crypto
from onthaal.chat.models import Message

BATCH = 1000


class Command(BaseCommand):
    help = (
        "new: print a fresh key. rotate: re-encrypt every stored message with the "
        "first key of ONTHAAL_MESSAGE_KEYS (put the new key first, rotate, then "
        "remove the old key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["new", "rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "new":
            self.stdout.write(crypto.new_key())
            return
        total = Message.objects.count()
        done = 0
        last_pk = 0
        with tqdm(total=total, disable=not self.stderr.isatty(), file=self.stderr) as bar:
            while True:
                with transaction.atomic():
                    # Read the stored (encrypted) values untouched, re-encrypt them.
                    rows = list(
                        Message.objects.filter(pk__gt=last_pk)
                        .order_by("pk")
                        .values_list("pk", flat=True)[:BATCH]
                    )
                    if not rows:
                        break
                    messages = list(Message.objects.filter(pk__in=rows).only("pk", "body"))
                    # Saving writes the body with the first key.
                    Message.objects.bulk_update(messages, ["body"])
                last_pk = rows[-1]
                done += len(rows)
                bar.update(len(rows))
        self.stdout.write(f"{done} message(s) re-encrypted with the first key.")
