"""Fixtures of the chat scan tests: finished chats with a transcript, at a
chosen time, and clients for each role."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import logged_in_client, make_staff
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, EndReason, Sender
from onthaal.quality.tests.helpers import at_noon, chat_day
from onthaal.staff.models import Availability, Role, User

_client_ids = itertools.count(1)

FinishedChat = Callable[..., Conversation]


@pytest.fixture
def finished_chat(chat_open: Any, make_active_conversation: Any) -> FinishedChat:
    """``finished_chat(operator, ended_at=..., messages=True)``: a chat accepted
    and ended by ``operator``, with a visitor's and an operator's message
    (unless ``messages=False``), moved to end at ``ended_at`` (default:
    noon, five days ago)."""

    def make(
        operator: User, *, ended_at: datetime | None = None, messages: bool = True
    ) -> Conversation:
        conversation, _ = make_active_conversation(operator)
        if messages:
            chat_services.message_post(
                conversation=conversation,
                sender=Sender.VISITOR,
                body="Ik word gepest op school <b>echt</b>.",
                client_id=f"v{next(_client_ids)}",
            )
            chat_services.message_post(
                conversation=conversation,
                sender=Sender.OPERATOR,
                body="Fijn dat je het vertelt. Wat gebeurt er precies?",
                client_id=f"o{next(_client_ids)}",
                author=operator,
            )
        chat_services.conversation_end(
            conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator
        )
        end = ended_at or at_noon(chat_day())
        Conversation.objects.filter(pk=conversation.pk).update(
            queued_at=end - timedelta(minutes=25),
            accepted_at=end - timedelta(minutes=22),
            ended_at=end,
        )
        return Conversation.objects.get(pk=conversation.pk)

    return make


@pytest.fixture
def analyst(db: None) -> User:
    return make_staff(
        username="analist", pseudonym="", role=Role.ANALYST, availability=Availability.OFFLINE
    )


@pytest.fixture
def analyst_client(analyst: User) -> Client:
    return logged_in_client(analyst)


@pytest.fixture
def second_coordinator(db: None) -> User:
    return make_staff(username="coordinator2", pseudonym="Mira", role=Role.COORDINATOR)
