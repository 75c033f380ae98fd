"""Retention: transcripts of anonymous chats do not stay.

The message text of a conversation is deleted a configurable number of days
(``ONTHAAL_TRANSCRIPT_RETENTION_DAYS``, default 30) after the conversation
ended. The conversation row itself (intake answers, times, end reason,
rating) and its registration stay: the figures and the annual report are
built from them, never from message text.

A chat drawn for a chat scan (``onthaal.quality``) is held back while its
review is open, but never longer than ``ONTHAAL_SCAN_HOLD_MAX_DAYS`` (default
90) after it ended. A chat registered as a suspected prank is held the same
way while its prank review is open (``ONTHAAL_PRANK_HOLD_MAX_DAYS``, default
60); the visitor-key hashes of ``onthaal.safeguard`` are purged alongside.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onthaal.chat.models import Conversation, ConversationEvent, EventKind, Message, Status
from onthaal.quality.selectors import scan_held_conversation_ids
from onthaal.safeguard.selectors import prank_held_conversation_ids
from onthaal.safeguard.services import safeguard_purge
from onthaal.supervision.models import StaffNote

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
        # Whispers and transfer notes (supervision) are part of the transcript.
        .filter(Q(messages__isnull=False) | Q(staff_notes__isnull=False))
        # A chat drawn for a chat scan keeps its transcript until the review
        # is done, at most ONTHAAL_SCAN_HOLD_MAX_DAYS after it ended.
        .exclude(pk__in=scan_held_conversation_ids(now=now))
        # So does a chat in the prank review queue, at most
        # ONTHAAL_PRANK_HOLD_MAX_DAYS after it ended (onthaal.safeguard).
        .exclude(pk__in=prank_held_conversation_ids(now=now))
        .values_list("pk", flat=True)
        .distinct()
    )
    if not dry_run:
        # Visitor-key hashes no longer needed go at the same time.
        safeguard_purge(now=now)
    purged = 0
    while True:
        ids = list(due[:BATCH])
        if not ids or dry_run:
            return purged + len(ids) if dry_run else purged
        with transaction.atomic():
            Message.objects.filter(conversation_id__in=ids).delete()
            StaffNote.objects.filter(conversation_id__in=ids).delete()
            ConversationEvent.objects.bulk_create(
                ConversationEvent(conversation_id=pk, kind=EventKind.PURGED, at=now) for pk in ids
            )
        purged += len(ids)
        logger.info("purged the transcripts of %s conversations", len(ids))
