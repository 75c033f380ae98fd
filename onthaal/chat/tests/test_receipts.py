"""Receipts: how far each side has received and read, in one statement."""

from __future__ import annotations

import pytest

from onthaal.chat import services
from onthaal.chat.models import Conversation, Sender
from onthaal.errors import InvalidInput

pytestmark = pytest.mark.django_db


def _receipts(conversation: Conversation) -> tuple[int, int, int, int]:
    conversation.refresh_from_db()
    return (
        conversation.visitor_delivered_id,
        conversation.visitor_read_id,
        conversation.operator_delivered_id,
        conversation.operator_read_id,
    )


@pytest.fixture
def chat_with_two_messages(make_active_conversation, operator, chat_open):
    conversation, _ = make_active_conversation(operator)
    first, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Een", client_id="1"
    )
    second, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Twee", client_id="2"
    )
    return conversation, first.pk, second.pk


def test_a_receipt_moves_forward_in_one_statement(
    chat_with_two_messages, operator, django_assert_num_queries
) -> None:
    conversation, first, second = chat_with_two_messages
    with django_assert_num_queries(1):
        services.conversation_receipt(
            conversation=conversation,
            side=Sender.OPERATOR,
            delivered_id=second,
            read_id=first,
            operator=operator,
        )
    assert _receipts(conversation) == (0, 0, second, first)

    # Back is ignored, field by field: read moves on, delivered stays.
    services.conversation_receipt(
        conversation=conversation, side=Sender.OPERATOR, delivered_id=first, read_id=second
    )
    assert _receipts(conversation) == (0, 0, second, second)


def test_a_receipt_past_the_last_message_is_refused_whole(chat_with_two_messages) -> None:
    conversation, first, second = chat_with_two_messages
    with pytest.raises(InvalidInput) as caught:
        services.conversation_receipt(
            conversation=conversation, side=Sender.VISITOR, delivered_id=first, read_id=second + 1
        )
    assert caught.value.code == "invalid_message_id"
    assert _receipts(conversation) == (0, 0, 0, 0)


@pytest.mark.parametrize("bad", [-1, True, 2**63, "3"])
def test_a_receipt_id_that_is_no_id_is_refused(chat_with_two_messages, bad) -> None:
    conversation, _first, _second = chat_with_two_messages
    with pytest.raises(InvalidInput):
        services.conversation_receipt(conversation=conversation, side=Sender.VISITOR, read_id=bad)
    assert _receipts(conversation) == (0, 0, 0, 0)


def test_another_operators_receipt_moves_nothing(chat_with_two_messages, other_operator) -> None:
    """A coordinator reading along, or a console that lost the chat in a
    transfer a moment ago, marks nothing read for the chat's operator."""
    conversation, _first, second = chat_with_two_messages
    services.conversation_receipt(
        conversation=conversation, side=Sender.OPERATOR, read_id=second, operator=other_operator
    )
    assert _receipts(conversation) == (0, 0, 0, 0)
