"""Transcripts are deleted after the retention period; everything the
figures read stays."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from onthaal.chat.models import Conversation, ConversationEvent, Message, Sender
from onthaal.chat.retention import transcripts_purge


@pytest.fixture
def two_chats(chat_open: Any, operator: Any, make_ended_conversation: Any) -> tuple[Any, Any]:
    old, _ = make_ended_conversation(operator)
    recent, _ = make_ended_conversation(operator)
    for conversation in (old, recent):
        Message.objects.create(
            conversation=conversation,
            sender=Sender.VISITOR,
            body="mijn geheim",
            client_id=f"c{conversation.pk}",
            created_at=timezone.now(),
        )
    Conversation.objects.filter(pk=old.pk).update(ended_at=timezone.now() - timedelta(days=31))
    return old, recent


@pytest.mark.django_db
def test_purge_deletes_only_transcripts_past_the_retention_period(
    two_chats: tuple[Any, Any], settings: Any
) -> None:
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    old, recent = two_chats
    before = Conversation.objects.values(
        "pk", "status", "end_reason", "audience", "age", "queued_at", "accepted_at", "ended_at"
    ).order_by("pk")
    before_rows = list(before)

    assert transcripts_purge(dry_run=True) == 1
    assert Message.objects.filter(conversation=old).count() == 1

    assert transcripts_purge() == 1
    assert not Message.objects.filter(conversation=old).exists()
    assert Message.objects.filter(conversation=recent).count() == 1
    assert ConversationEvent.objects.filter(conversation=old, kind="purged").count() == 1
    # What the statistics read is untouched.
    assert list(before) == before_rows
    # Nothing left to do: a second run purges nothing.
    assert transcripts_purge() == 0


@pytest.mark.django_db
def test_purge_command_reports_the_count(two_chats: tuple[Any, Any], settings: Any) -> None:
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    out = StringIO()
    call_command("purge", stdout=out)
    assert out.getvalue().startswith("1 transcript(s) older than 30 days purged.")
