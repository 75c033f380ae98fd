"""A drawn chat keeps its transcript until its review is done, within an
upper bound; then retention deletes it as usual."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onthaal.chat.models import Conversation, Message
from onthaal.chat.retention import transcripts_purge
from onthaal.quality.models import ScanReview
from onthaal.quality.tests.helpers import at_noon, chat_day, draw, feedback
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

OLD = 40  # days ago: past the default retention of 30 days


@pytest.fixture
def held(
    finished_chat: Any, operator: User, coordinator_client: Client, settings: Any
) -> tuple[Conversation, Conversation, ScanReview]:
    """Two old chats of the operator; one drawn (drawing picks it by seed)."""
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    first = finished_chat(operator, ended_at=at_noon(chat_day(OLD)))
    second = finished_chat(operator, ended_at=at_noon(chat_day(OLD)))
    day = chat_day(OLD).isoformat()
    response = draw(coordinator_client, period_start=day, period_end=day, per_operator=1)
    assert response.status_code == 201
    review = ScanReview.objects.select_related("conversation").get()
    drawn = review.conversation
    other = second if drawn.pk == first.pk else first
    return drawn, other, review


def has_transcript(conversation: Conversation) -> bool:
    return Message.objects.filter(conversation=conversation).exists()


def test_a_held_chat_is_purged_only_after_its_review(
    held: tuple[Conversation, Conversation, ScanReview], coordinator_client: Client
) -> None:
    drawn, other, review = held

    assert transcripts_purge(dry_run=True) == 1
    assert transcripts_purge() == 1
    assert has_transcript(drawn)
    assert not has_transcript(other)

    # The coordinator can still read it.
    body = coordinator_client.get(f"/api/v1/quality/reviews/{review.pk}").json()
    assert [m["sender"] for m in body["transcript"]] == ["visitor", "operator"]

    assert feedback(coordinator_client, review.pk).status_code == 200
    assert transcripts_purge() == 1
    assert not has_transcript(drawn)
    assert drawn.events.filter(kind="purged").count() == 1

    # The feedback stays; the transcript is gone for everyone.
    after = coordinator_client.get(f"/api/v1/quality/reviews/{review.pk}").json()
    assert after["status"] == "reviewed"
    assert after["transcript"] is None
    assert after["has_transcript"] is False
    assert after["feedback"]["scores"]["welcome"] == 5


def test_the_hold_ends_at_the_upper_bound(
    held: tuple[Conversation, Conversation, ScanReview],
) -> None:
    drawn, _, review = held
    assert drawn.ended_at is not None
    limit = drawn.ended_at + timedelta(days=90)  # ONTHAAL_SCAN_HOLD_MAX_DAYS's default

    transcripts_purge(now=limit - timedelta(minutes=1))
    assert has_transcript(drawn)

    assert transcripts_purge(now=limit + timedelta(minutes=1)) == 1
    assert not has_transcript(drawn)
    review.refresh_from_db()
    assert review.status == "open"  # the review itself stays, without transcript


def test_the_upper_bound_is_a_setting(
    held: tuple[Conversation, Conversation, ScanReview], settings: Any
) -> None:
    drawn, _, _ = held
    settings.ONTHAAL_SCAN_HOLD_MAX_DAYS = OLD - 1
    assert transcripts_purge() == 2
    assert not has_transcript(drawn)


def test_a_hold_does_not_keep_a_chat_inside_retention_longer(
    finished_chat: Any, operator: User, coordinator_client: Client, settings: Any
) -> None:
    """A recent drawn chat is simply not due yet; after review it follows
    the normal retention period, not earlier."""
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    chat = finished_chat(operator)
    assert draw(coordinator_client).status_code == 201
    review = ScanReview.objects.get()
    assert feedback(coordinator_client, review.pk).status_code == 200
    assert transcripts_purge() == 0
    assert has_transcript(chat)
    assert transcripts_purge(now=timezone.now() + timedelta(days=30)) == 1
