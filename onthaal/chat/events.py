"""Channel-layer group names and the JSON frames sent to clients.

One module builds every frame, so that the websocket protocol in
docs/api.md and the HTTP API describe conversations and messages the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onthaal.chat.models import Conversation, Message
from onthaal.safeguard.selectors import visitor_alert

# Every operator console: the queue list (its first QUEUE_LIST_LIMIT entries).
QUEUE_GROUP = "queue"
# The sockets of visitors still waiting: their positions (docs/performance.md).
QUEUE_VISITORS_GROUP = "queue.visitors"
QUEUE_LIST_LIMIT = 50


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def operator_group(operator_id: int) -> str:
    return f"operator.{operator_id}"


# Supervision (onthaal.supervision). The staff group of a conversation carries
# what only staff may see (whispers, transfer notes, who reads along): no
# visitor socket ever joins it.
OVERVIEW_GROUP = "supervision.overview"
SUPPORT_GROUP = "supervision.support"


def staff_conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}.staff"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_frame(message: Message) -> dict[str, Any]:
    return message_frame_of(
        id=message.pk,
        conversation_id=message.conversation_id,
        sender=message.sender,
        body=message.body,
        client_id=message.client_id,
        created_at=message.created_at,
    )


def message_frame_of(
    *,
    id: int,
    conversation_id: int,
    sender: str,
    body: str,
    client_id: str,
    created_at: datetime | None,
) -> dict[str, Any]:
    """A message's frame from its values (no model instance)."""
    return {
        "id": id,
        "conversation_id": conversation_id,
        "sender": sender,
        "body": body,
        "client_id": client_id,
        "created_at": _iso(created_at),
    }


def receipt_frame(conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": conversation.pk,
        "visitor_delivered_id": conversation.visitor_delivered_id,
        "visitor_read_id": conversation.visitor_read_id,
        "operator_delivered_id": conversation.operator_delivered_id,
        "operator_read_id": conversation.operator_read_id,
    }


def conversation_frame_for_visitor(conversation: Conversation) -> dict[str, Any]:
    """What the visitor may know: never the operator's real name or account."""
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "end_reason": conversation.end_reason,
        "operator_pseudonym": conversation.operator.display_name if conversation.operator else None,
        "queued_at": _iso(conversation.queued_at),
        "accepted_at": _iso(conversation.accepted_at),
        "ended_at": _iso(conversation.ended_at),
        "rating": conversation.rating,
        "receipts": receipt_frame(conversation),
    }


def conversation_frame_for_staff(conversation: Conversation) -> dict[str, Any]:
    frame = conversation_frame_for_visitor(conversation)
    frame.update(
        {
            "channel": conversation.channel,
            "audience": conversation.audience,
            "age": conversation.age,
            "gender": conversation.gender,
            "referral_source": conversation.referral_source,
            "device_class": conversation.device_class,
            "language": conversation.language,
            "operator_id": conversation.operator_id,
        }
    )
    # A returning visitor whose earlier chat a coordinator confirmed as a
    # prank: an alert for staff only, never in the visitor's frame.
    frame["visitor_alert"] = visitor_alert(conversation=conversation)
    return frame
