"""Retention: transcripts of anonymous chats do not stay.

The message text of a conversation is deleted a configurable number of days
(``ONTHAAL_TRANSCRIPT_RETENTION_DAYS``, default 30) after the conversation
ended. The conversation row itself (intake answers, times, end reason,
rating) and its registration stay: the figures and the annual report are
built from them, never from message text.

A chat drawn for a chat scan (``onthaal.quality``) is held back while its
review is open, but never longer than ``ONTHAAL_SCAN_HOLD_MAX_DAYS`` (default
90) after it ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onthaal.chat.models import Conversation, ConversationEvent, EventKind, Message, Status
from onthaal.quality.selectors import scan_held_conversation_ids

logger = logging.getLogger("onthaal.retention")

BATCH = 500


def transcripts_purge(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete the messages of conversations that ended more than the
    retention period ago; returns how many conversations lost their
    transcript. Each purge appends a ``purged`` event to the conversation."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS)
    due = (
        Conversation.objects.filter(status=Status.ENDED, ended_at__lt=cutoff)
        .filter(messages__isnull=False)
        # A chat drawn for a chat scan keeps its transcript until the review
        # is done, at most ONTHAAL_SCAN_HOLD_MAX_DAYS after it ended.
        .exclude(pk__in=scan_held_conversation_ids(now=now))
        .values_list("pk", flat=True)
        .distinct()
    )
    purged = 0
    while True:
        ids = list(due[:BATCH])
        if not ids or dry_run:
            return purged + len(ids) if dry_run else purged
        with transaction.atomic():
            Message.objects.filter(conversation_id__in=ids).delete()
            ConversationEvent.objects.bulk_create(
                ConversationEvent(conversation_id=pk, kind=EventKind.PURGED, at=now) for pk in ids
            )
        purged += len(ids)
        logger.info("purged the transcripts of %s conversations", len(ids))
