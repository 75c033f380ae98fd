"""Fixtures of the safeguard tests: visitors who open chats through the API
with a returning-visitor key, operators who register them as suspected
prank, and clients for each role."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import logged_in_client, make_staff
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, EndReason, Sender
from onthaal.registration.models import Result
from onthaal.registration.services import registration_save
from onthaal.staff.models import Availability, Role, User

_ids = itertools.count(1)
_networks = itertools.count(1)


def new_key() -> str:
    """What visitor.js keeps in localStorage: 32 random bytes as hex."""
    return secrets.token_hex(32)


def fresh_address() -> str:
    """A different network per call, so that the flood hold stays out of the way."""
    n = next(_networks)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def open_chat(visitor_key: str = "", *, address: str | None = None, **intake: Any) -> Any:
    """POST the intake as visitor.js does; returns the response."""
    body = {"audience": "pupil", "age": 14, **intake}
    if visitor_key:
        body["visitor_key"] = visitor_key
    return Client(REMOTE_ADDR=address or fresh_address()).post(
        "/api/v1/conversations", body, content_type="application/json"
    )


OpenChat = Callable[..., Conversation]


@pytest.fixture
def chat_with_key(chat_open: Any) -> OpenChat:
    """``chat_with_key(key, operator=..., ended_at=..., prank=True)``: a chat
    opened through the API with ``key``; with an operator it is accepted,
    gets two messages, is ended and registered (``prank`` flags it)."""

    def make(
        visitor_key: str,
        *,
        operator: User | None = None,
        prank: bool = False,
        ended_at: datetime | None = None,
    ) -> Conversation:
        response = open_chat(visitor_key)
        assert response.status_code == 201, response.json()
        conversation = Conversation.objects.get(pk=response.json()["id"])
        if operator is None:
            return conversation
        chat_services.conversation_accept(conversation_id=conversation.pk, operator=operator)
        chat_services.message_post(
            conversation=conversation,
            sender=Sender.VISITOR,
            body="haha wie ben jij",
            client_id=f"v{next(_ids)}",
        )
        chat_services.message_post(
            conversation=conversation,
            sender=Sender.OPERATOR,
            body="Waarmee kan ik je helpen?",
            client_id=f"o{next(_ids)}",
            author=operator,
        )
        conversation = chat_services.conversation_end(
            conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator
        )
        registration_save(
            conversation=conversation,
            operator=operator,
            topic_ids=[],
            result_ids=[Result.objects.order_by("pk").first().pk],  # type: ignore[union-attr]
            prank_suspected=prank,
        )
        if ended_at is not None:
            Conversation.objects.filter(pk=conversation.pk).update(
                queued_at=ended_at - timedelta(minutes=20),
                accepted_at=ended_at - timedelta(minutes=18),
                ended_at=ended_at,
            )
        return Conversation.objects.get(pk=conversation.pk)

    return make


@pytest.fixture
def analyst(db: None) -> User:
    return make_staff(
        username="analist", pseudonym="", role=Role.ANALYST, availability=Availability.OFFLINE
    )


@pytest.fixture
def administrator(db: None) -> User:
    return make_staff(username="beheerder", pseudonym="Beheer", role=Role.ADMINISTRATOR)


@pytest.fixture
def clients(
    operator: User, coordinator: User, administrator: User, analyst: User
) -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "operator": logged_in_client(operator),
        "coordinator": logged_in_client(coordinator),
        "administrator": logged_in_client(administrator),
        "analyst": logged_in_client(analyst),
    }


def days_ago(n: int) -> datetime:
    return timezone.now() - timedelta(days=n)
