"""Marking → review → confirm → alert on the next chat; dismiss → no alert."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import logged_in_client
from onthaal.audit.models import AuditEntry
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation
from onthaal.safeguard.models import PrankReview
from onthaal.safeguard.tests.conftest import new_key
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1/safeguard"


def decide(client: Client, conversation_id: int, decision: str, note: str = "") -> Any:
    return client.post(
        f"{API}/prank-reviews/{conversation_id}/decision",
        {"decision": decision, "note": note},
        content_type="application/json",
    )


def staff_frame(client: Client, conversation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}")
    assert response.status_code == 200, response.json()
    frame: dict[str, Any] = response.json()["conversation"]
    return frame


def test_a_flagged_chat_is_in_the_queue_and_a_plain_one_is_not(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    chat_with_key(new_key(), operator=operator, prank=False)
    queue = coordinator_client.get(f"{API}/prank-reviews").json()["reviews"]
    assert [r["conversation_id"] for r in queue] == [prank.pk]
    assert queue[0]["status"] == "open"
    assert queue[0]["has_transcript"] is True
    assert queue[0]["has_visitor_key"] is True
    assert queue[0]["hold_until"] is not None
    assert "visitor_hash" not in str(queue)


def test_reading_the_transcript_is_audited(
    chat_with_key: Any, operator: User, coordinator: User, coordinator_client: Client
) -> None:
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    body = coordinator_client.get(f"{API}/prank-reviews/{prank.pk}").json()
    assert [m["body"] for m in body["transcript"]] == [
        "haha wie ben jij",
        "Waarmee kan ik je helpen?",
    ]
    entry = AuditEntry.objects.get(action="transcript_opened")
    assert entry.actor == coordinator
    assert entry.target == f"conversation:{prank.pk}"
    assert entry.detail == {"purpose": "prank_review"}
    # The page reads it the same way, audited too.
    page = coordinator_client.get(f"/nepoproepen/chats/{prank.pk}/")
    assert page.status_code == 200
    assert "haha wie ben jij" in page.content.decode()
    assert AuditEntry.objects.filter(action="transcript_opened").count() == 2


def test_confirmed_marking_alerts_the_operator_on_the_next_chat(
    chat_with_key: Any,
    operator: User,
    other_operator: User,
    coordinator: User,
    coordinator_client: Client,
    other_operator_client: Client,
) -> None:
    key = new_key()
    prank = chat_with_key(key, operator=operator, prank=True)
    response = decide(coordinator_client, prank.pk, "confirmed", "Scheldwoorden, geen vraag.")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "decided"
    assert response.json()["decision"]["decision"] == "confirmed"
    assert response.json()["decision"]["marked"] is True
    audit = AuditEntry.objects.get(action="prank_reviewed")
    assert audit.actor == coordinator
    assert audit.detail == {"decision": "confirmed", "marked": True}
    assert coordinator_client.get(f"{API}/prank-reviews").json()["reviews"] == []

    # The same visitor returns; a colleague takes the chat.
    again = chat_with_key(key)
    chat_services.conversation_accept(conversation_id=again.pk, operator=other_operator)
    alert = staff_frame(other_operator_client, again.pk)["visitor_alert"]
    assert alert["kind"] == "prank_marked"
    assert alert["marked_chat_on"] == timezone.localtime(prank.queued_at).date().isoformat()
    assert alert["message"].startswith(
        "Let op: deze bezoeker werd eerder gemarkeerd als nepoproep (chat van "
    )
    # The coordinator sees it too; the marked chat itself has no alert.
    assert staff_frame(coordinator_client, again.pk)["visitor_alert"] == alert
    assert staff_frame(coordinator_client, prank.pk)["visitor_alert"] is None
    # Another visitor's chat has none.
    stranger = chat_with_key(new_key())
    assert staff_frame(coordinator_client, stranger.pk)["visitor_alert"] is None


def test_the_visitor_never_sees_the_alert(
    chat_with_key: Any, operator: User, coordinator_client: Client, visitor_client: Any
) -> None:
    key = new_key()
    prank = chat_with_key(key, operator=operator, prank=True)
    assert decide(coordinator_client, prank.pk, "confirmed").status_code == 200
    response = Client(REMOTE_ADDR="203.0.113.9").post(
        "/api/v1/conversations", {"visitor_key": key}, content_type="application/json"
    )
    assert response.status_code == 201
    assert "visitor_alert" not in response.json()["conversation"]
    assert "nepoproep" not in response.content.decode()
    visitor = visitor_client(response.json()["token"], response.json()["id"])
    body = visitor.get(visitor.url()).json()
    assert "visitor_alert" not in body["conversation"]


def test_the_alert_is_in_the_operators_websocket_snapshot(
    chat_with_key: Any, operator: User, other_operator: User, coordinator_client: Client
) -> None:
    from onthaal.chat.consumers import _operator_snapshot

    key = new_key()
    prank = chat_with_key(key, operator=operator, prank=True)
    assert decide(coordinator_client, prank.pk, "confirmed").status_code == 200
    again = chat_with_key(key)
    chat_services.conversation_accept(conversation_id=again.pk, operator=other_operator)
    snapshot, _followed = _operator_snapshot(other_operator)
    frames = {b["conversation"]["id"]: b["conversation"] for b in snapshot["conversations"]}
    assert frames[again.pk]["visitor_alert"]["kind"] == "prank_marked"
    # The queue the operators see carries no alert.
    assert "visitor_alert" not in str(snapshot["queue"])


def test_dismissed_marks_nothing(
    chat_with_key: Any,
    operator: User,
    other_operator: User,
    coordinator_client: Client,
    other_operator_client: Client,
) -> None:
    key = new_key()
    prank = chat_with_key(key, operator=operator, prank=True)
    response = decide(coordinator_client, prank.pk, "dismissed")
    assert response.status_code == 200
    assert response.json()["decision"]["marked"] is False
    assert PrankReview.objects.get().visitor_hash == ""
    again = chat_with_key(key)
    chat_services.conversation_accept(conversation_id=again.pk, operator=other_operator)
    assert staff_frame(other_operator_client, again.pk)["visitor_alert"] is None


def test_the_marking_ends_after_the_mark_period(
    chat_with_key: Any, operator: User, coordinator_client: Client, settings: Any
) -> None:
    from datetime import timedelta

    from onthaal.safeguard.selectors import visitor_alert

    settings.ONTHAAL_PRANK_MARK_DAYS = 10
    key = new_key()
    prank = chat_with_key(key, operator=operator, prank=True)
    assert decide(coordinator_client, prank.pk, "confirmed").status_code == 200
    again = chat_with_key(key)
    now = timezone.now()
    assert visitor_alert(conversation=again, now=now + timedelta(days=9)) is not None
    assert visitor_alert(conversation=again, now=now + timedelta(days=10, minutes=1)) is None


def test_a_review_is_decided_once_with_a_valid_decision(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    bad = decide(coordinator_client, prank.pk, "maybe")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_decision"
    too_long = decide(coordinator_client, prank.pk, "confirmed", "x" * 1001)
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "note_too_long"
    assert decide(coordinator_client, prank.pk, "confirmed").status_code == 200
    again = decide(coordinator_client, prank.pk, "dismissed")
    assert again.status_code == 409
    assert again.json()["code"] == "review_closed"
    assert PrankReview.objects.get().decision == "confirmed"


def test_a_chat_without_prank_flag_or_unknown_is_not_found(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    plain = chat_with_key(new_key(), operator=operator, prank=False)
    for conversation_id in (plain.pk, 999_999):
        response = coordinator_client.get(f"{API}/prank-reviews/{conversation_id}")
        assert response.status_code == 404
        assert decide(coordinator_client, conversation_id, "confirmed").status_code == 404


def test_a_coordinator_does_not_review_their_own_chat(
    chat_with_key: Any, coordinator: User, operator: User
) -> None:
    from onthaal.staff.models import Availability

    User.objects.filter(pk=coordinator.pk).update(availability=Availability.AVAILABLE)
    coordinator.refresh_from_db()
    own = chat_with_key(new_key(), operator=coordinator, prank=True)
    client = logged_in_client(coordinator)
    assert client.get(f"{API}/prank-reviews").json()["reviews"] == []
    assert client.get(f"{API}/prank-reviews/{own.pk}").status_code == 404
    assert decide(client, own.pk, "confirmed").status_code == 404


def test_an_unflagged_correction_leaves_the_queue(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    from onthaal.registration.models import Registration

    prank = chat_with_key(new_key(), operator=operator, prank=True)
    Registration.objects.filter(conversation=prank).update(prank_suspected=False)
    assert coordinator_client.get(f"{API}/prank-reviews").json()["reviews"] == []
    assert Conversation.objects.filter(pk=prank.pk).exists()


def test_the_decided_list_and_the_pages(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    prank = chat_with_key(new_key(), operator=operator, prank=True)
    page = coordinator_client.get("/nepoproepen/")
    assert page.status_code == 200
    assert f"/nepoproepen/chats/{prank.pk}/" in page.content.decode()
    response = coordinator_client.post(
        f"/nepoproepen/chats/{prank.pk}/", {"action": "decide", "decision": "confirmed"}
    )
    assert response.status_code == 302
    decided = coordinator_client.get(f"{API}/prank-reviews?status=decided").json()["reviews"]
    assert [r["conversation_id"] for r in decided] == [prank.pk]
    bad = coordinator_client.post(
        f"/nepoproepen/chats/{prank.pk}/", {"action": "decide", "decision": "dismissed"}
    )
    assert bad.status_code == 400
    assert "Over deze chat werd al beslist." in bad.content.decode()
