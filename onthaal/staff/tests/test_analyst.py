"""An analyst reads aggregates only: no queue, no chats, no transcript."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import make_staff
from onthaal.staff.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client() -> Client:
    client = Client()
    client.force_login(make_staff(role=Role.ANALYST, availability="offline"))
    return client


def test_an_analyst_sees_no_queue_and_takes_no_chat(
    analyst_client: Client, chat_open: Any, make_conversation: Any
) -> None:
    conversation, _ = make_conversation()
    for method, url in [
        ("get", "/api/v1/queue"),
        ("post", "/api/v1/queue/take"),
        ("post", f"/api/v1/conversations/{conversation.pk}/accept"),
        ("get", "/api/v1/operator/conversations"),
    ]:
        response = getattr(analyst_client, method)(url, content_type="application/json")
        assert response.status_code == 403, url
        assert response.json()["code"] == "role_cannot_chat"


def test_an_analyst_reads_no_transcript(
    analyst_client: Client, chat_open: Any, operator: Any, make_ended_conversation: Any
) -> None:
    conversation, _ = make_ended_conversation(operator)
    for url in [
        f"/api/v1/conversations/{conversation.pk}",
        f"/api/v1/conversations/{conversation.pk}/messages",
        f"/api/v1/conversations/{conversation.pk}/registration",
    ]:
        assert analyst_client.get(url).status_code == 404, url


def test_an_analyst_cannot_go_available(analyst_client: Client) -> None:
    response = analyst_client.patch(
        "/api/v1/operator/me", {"availability": "available"}, content_type="application/json"
    )
    assert response.status_code == 403
