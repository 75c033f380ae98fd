"""An open prank review keeps the transcript (and the visitor link) from
retention, within an upper bound; closing it releases both; figures stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onthaal.chat.models import Conversation, Message
from onthaal.chat.retention import transcripts_purge
from onthaal.safeguard.models import ConversationVisitor, PrankReview
from onthaal.safeguard.tests.conftest import days_ago, new_key
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

OLD = 40  # days: past the default retention of 30 days


def has_transcript(conversation: Conversation) -> bool:
    return Message.objects.filter(conversation=conversation).exists()


def has_link(conversation: Conversation) -> bool:
    return ConversationVisitor.objects.filter(conversation=conversation).exists()


def figures(client: Client) -> Any:
    day = timezone.localdate()
    start = (day - timedelta(days=60)).isoformat()
    response = client.get(f"/api/v1/stats/figures?start={start}&end={day.isoformat()}")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def old_chats(
    chat_with_key: Any, operator: User, settings: Any
) -> tuple[Conversation, Conversation]:
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    prank = chat_with_key(new_key(), operator=operator, prank=True, ended_at=days_ago(OLD))
    plain = chat_with_key(new_key(), operator=operator, prank=False, ended_at=days_ago(OLD))
    return prank, plain


def test_an_open_review_holds_the_transcript_until_it_closes(
    old_chats: tuple[Conversation, Conversation], coordinator_client: Client
) -> None:
    prank, plain = old_chats
    before = figures(coordinator_client)
    assert before["prank"]["all"]["suspected"] == 1, before["prank"]

    assert transcripts_purge(dry_run=True) == 1
    assert transcripts_purge() == 1
    assert has_transcript(prank)
    assert has_link(prank)
    assert not has_transcript(plain)
    assert not has_link(plain)
    assert figures(coordinator_client) == before

    # The coordinator reads it and confirms: the hold ends.
    detail = coordinator_client.get(f"/api/v1/safeguard/prank-reviews/{prank.pk}").json()
    assert len(detail["transcript"]) == 2
    response = coordinator_client.post(
        f"/api/v1/safeguard/prank-reviews/{prank.pk}/decision",
        {"decision": "confirmed"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert transcripts_purge() == 1
    assert not has_transcript(prank)
    assert not has_link(prank)
    assert prank.events.filter(kind="purged").count() == 1
    # The marking keeps its own hash; the review stays, without transcript.
    assert PrankReview.objects.get().visitor_hash != ""
    after = coordinator_client.get(f"/api/v1/safeguard/prank-reviews/{prank.pk}").json()
    assert after["transcript"] is None
    assert after["has_transcript"] is False
    # Registrations, intake and times: the figures are unchanged.
    assert figures(coordinator_client) == before
    assert figures(coordinator_client)["prank"] == before["prank"]


def test_a_dismissed_review_releases_the_hold_too(
    old_chats: tuple[Conversation, Conversation], coordinator_client: Client
) -> None:
    prank, _ = old_chats
    transcripts_purge()
    assert has_transcript(prank)
    coordinator_client.post(
        f"/api/v1/safeguard/prank-reviews/{prank.pk}/decision",
        {"decision": "dismissed"},
        content_type="application/json",
    )
    assert transcripts_purge() == 1
    assert not has_transcript(prank)


def test_the_hold_ends_at_the_upper_bound(old_chats: tuple[Conversation, Conversation]) -> None:
    prank, _ = old_chats
    assert prank.ended_at is not None
    limit = prank.ended_at + timedelta(days=60)  # ONTHAAL_PRANK_HOLD_MAX_DAYS's default
    transcripts_purge(now=limit - timedelta(minutes=1))
    assert has_transcript(prank)
    assert transcripts_purge(now=limit + timedelta(minutes=1)) == 1
    assert not has_transcript(prank)
    assert not has_link(prank)
    # Still in the queue, without transcript: it can be decided on.
    assert not PrankReview.objects.exists()


def test_the_upper_bound_is_a_setting(
    old_chats: tuple[Conversation, Conversation], settings: Any
) -> None:
    prank, _ = old_chats
    settings.ONTHAAL_PRANK_HOLD_MAX_DAYS = OLD - 1
    assert transcripts_purge() == 2
    assert not has_transcript(prank)


def test_a_recent_flagged_chat_follows_the_normal_retention_after_review(
    chat_with_key: Any, operator: User, coordinator_client: Client, settings: Any
) -> None:
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    coordinator_client.post(
        f"/api/v1/safeguard/prank-reviews/{prank.pk}/decision",
        {"decision": "dismissed"},
        content_type="application/json",
    )
    assert transcripts_purge() == 0
    assert has_transcript(prank)
    assert transcripts_purge(now=timezone.now() + timedelta(days=31)) == 1


def test_a_marking_forgets_its_hash_when_it_ends(
    chat_with_key: Any, operator: User, coordinator_client: Client, settings: Any
) -> None:
    settings.ONTHAAL_PRANK_MARK_DAYS = 10
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    coordinator_client.post(
        f"/api/v1/safeguard/prank-reviews/{prank.pk}/decision",
        {"decision": "confirmed"},
        content_type="application/json",
    )
    transcripts_purge(now=timezone.now() + timedelta(days=9))
    assert PrankReview.objects.get().visitor_hash != ""
    transcripts_purge(now=timezone.now() + timedelta(days=10, minutes=1))
    review = PrankReview.objects.get()
    assert review.visitor_hash == ""
    assert review.decision == "confirmed"


def test_imported_chats_never_enter_the_queue(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    Conversation.objects.filter(pk=prank.pk).update(origin="imported")
    assert coordinator_client.get("/api/v1/safeguard/prank-reviews").json()["reviews"] == []
