"""Blocking a returning-visitor key: intake refused calmly, expiry, lifting, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onthaal.audit.models import AuditEntry
from onthaal.errors import PermissionDenied
from onthaal.safeguard import services
from onthaal.safeguard.keys import visitor_key_hash
from onthaal.safeguard.models import VisitorBlock
from onthaal.safeguard.tests.conftest import new_key, open_chat
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1/safeguard"


def block(client: Client, conversation_id: int, duration: str = "24h", reason: str = "") -> Any:
    return client.post(
        f"{API}/blocks",
        {"conversation_id": conversation_id, "duration": duration, "reason": reason},
        content_type="application/json",
    )


def test_a_blocked_key_is_refused_calmly_with_the_helplines(
    chat_with_key: Any, operator: User, coordinator: User, coordinator_client: Client
) -> None:
    key = new_key()
    chat = chat_with_key(key, operator=operator, prank=True)
    response = block(coordinator_client, chat.pk, "7d", "Herhaalde scheldchats.")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["duration"] == "7d"
    assert body["conversation_id"] == chat.pk
    assert "visitor_hash" not in body
    entry = AuditEntry.objects.get(action="visitor_blocked")
    assert entry.actor == coordinator
    assert entry.detail == {"conversation": chat.pk, "duration": "7d"}

    refused = open_chat(key)
    assert refused.status_code == 403
    refusal = refused.json()
    assert refusal["code"] == "intake_refused"
    # Calm and neutral: no word of a block; the emergency numbers are there.
    assert "blok" not in refusal["message"].lower()
    assert "1813" in refusal["message"]
    assert "112" in refusal["message"]
    phones = [h["phone"] for h in refusal["details"]["helplines"]]
    assert "1813" in phones
    assert "112" in phones

    # Another visitor, and the same visitor without the key, are not refused.
    assert open_chat(new_key()).status_code == 201
    assert open_chat("").status_code == 201


@pytest.mark.parametrize(("duration", "hours"), [("24h", 24), ("7d", 168), ("30d", 720)])
def test_a_block_ends_by_itself(
    chat_with_key: Any, operator: User, coordinator: User, duration: str, hours: int
) -> None:
    key = new_key()
    chat = chat_with_key(key, operator=operator)
    now = timezone.now()
    created = services.visitor_block_create(
        coordinator=coordinator, conversation_id=chat.pk, duration=duration, now=now
    )
    assert created.ends_at - created.starts_at == timedelta(hours=hours)
    just_before = now + timedelta(hours=hours) - timedelta(minutes=1)
    with pytest.raises(PermissionDenied):
        services.intake_guard(visitor_key=key, client_address="", now=just_before)
    after = now + timedelta(hours=hours, minutes=1)
    assert services.intake_guard(visitor_key=key, client_address="", now=after) == visitor_key_hash(
        key
    )
    # Once over, retention forgets the block's hash; the block itself stays.
    services.safeguard_purge(now=after)
    assert VisitorBlock.objects.get().visitor_hash == ""


def test_a_coordinator_lifts_a_block(
    chat_with_key: Any, operator: User, coordinator: User, coordinator_client: Client
) -> None:
    key = new_key()
    chat = chat_with_key(key, operator=operator)
    created = block(coordinator_client, chat.pk, "30d").json()
    assert [b["id"] for b in coordinator_client.get(f"{API}/blocks").json()["blocks"]] == [
        created["id"]
    ]
    assert open_chat(key).status_code == 403
    lifted = coordinator_client.post(f"{API}/blocks/{created['id']}/lift")
    assert lifted.status_code == 200
    assert lifted.json()["lifted_at"] is not None
    assert AuditEntry.objects.get(action="visitor_unblocked").target == f"block:{created['id']}"
    assert open_chat(key).status_code == 201
    assert coordinator_client.get(f"{API}/blocks").json()["blocks"] == []
    again = coordinator_client.post(f"{API}/blocks/{created['id']}/lift")
    assert again.status_code == 409
    assert again.json()["code"] == "block_ended"
    assert coordinator_client.post(f"{API}/blocks/999999/lift").status_code == 404


def test_lifting_from_the_page(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    chat = chat_with_key(new_key(), operator=operator, prank=True)
    response = coordinator_client.post(
        f"/nepoproepen/chats/{chat.pk}/", {"action": "block", "duration": "24h"}
    )
    assert response.status_code == 302
    created = VisitorBlock.objects.get()
    overview = coordinator_client.get("/nepoproepen/").content.decode()
    assert f"/nepoproepen/blokkeringen/{created.pk}/opheffen/" in overview
    assert (
        coordinator_client.post(f"/nepoproepen/blokkeringen/{created.pk}/opheffen/").status_code
        == 302
    )
    created.refresh_from_db()
    assert created.lifted_at is not None


def test_blocking_needs_a_key_a_valid_duration_and_no_block_in_force(
    chat_with_key: Any, operator: User, coordinator_client: Client
) -> None:
    keyless = chat_with_key("", operator=operator)
    response = block(coordinator_client, keyless.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "no_visitor_key"

    chat = chat_with_key(new_key(), operator=operator)
    bad = block(coordinator_client, chat.pk, "forever")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_duration"
    assert block(coordinator_client, 999_999).status_code == 404

    assert block(coordinator_client, chat.pk).status_code == 201
    twice = block(coordinator_client, chat.pk, "30d")
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_blocked"
