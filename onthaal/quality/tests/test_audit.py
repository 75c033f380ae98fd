"""Every read of a drawn chat's transcript by someone other than its
operator is in the audit log, with the purpose "chatscan"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from onthaal.audit.models import Action, AuditEntry
from onthaal.chat.models import Message
from onthaal.quality.models import ScanReview
from onthaal.quality.tests.helpers import draw, feedback
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(finished_chat: Any, operator: User, coordinator_client: Client) -> ScanReview:
    finished_chat(operator)
    assert draw(coordinator_client).status_code == 201
    return ScanReview.objects.get()


def opened() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.actor_name, e.target, e.detail)
        for e in AuditEntry.objects.filter(action=Action.TRANSCRIPT_OPENED).order_by("id")
    ]


def test_a_coordinators_reads_are_audited(
    review: ScanReview, coordinator: User, coordinator_client: Client
) -> None:
    assert opened() == []  # drawing reads no transcript
    coordinator_client.get(f"/api/v1/quality/reviews/{review.pk}")
    coordinator_client.get(f"/kwaliteit/chats/{review.pk}/")

    expected = (
        coordinator.username,
        f"conversation:{review.conversation_id}",
        {"purpose": "chatscan", "review": review.pk},
    )
    assert opened() == [expected, expected]
    # The log names ids, never message text.
    for entry in AuditEntry.objects.all():
        assert "gepest" not in str(entry.detail) + entry.target


def test_the_operators_own_reads_and_empty_transcripts_are_not(
    review: ScanReview, coordinator_client: Client, operator_client: Client
) -> None:
    assert feedback(coordinator_client, review.pk).status_code == 200
    AuditEntry.objects.all().delete()
    operator_client.get(f"/api/v1/quality/reviews/{review.pk}")
    operator_client.get(f"/kwaliteit/chats/{review.pk}/")
    assert opened() == []

    Message.objects.filter(conversation_id=review.conversation_id).delete()
    coordinator_client.get(f"/api/v1/quality/reviews/{review.pk}")
    assert opened() == []


def test_lists_read_no_transcript(review: ScanReview, coordinator_client: Client) -> None:
    coordinator_client.get("/api/v1/quality/scans")
    coordinator_client.get(f"/api/v1/quality/scans/{review.scan_id}")
    coordinator_client.get(f"/kwaliteit/chatscans/{review.scan_id}/")
    coordinator_client.get("/kwaliteit/")
    assert opened() == []
