"""The JSON shapes of the safeguard's API (one place, as ``chat.events``).

No frame holds a visitor hash: coordinators act on chats and blocks by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onthaal.chat.models import Message
from onthaal.safeguard.models import PrankReview, VisitorBlock
from onthaal.safeguard.selectors import ReviewItem


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decision_frame(review: PrankReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "decision": review.decision,
        "marked": bool(review.visitor_hash),
        "marked_until": _iso(review.marked_until),
        "note": review.note,
        "decided_by": review.decided_by.display_name,
        "decided_at": _iso(review.decided_at),
    }


def review_frame(item: ReviewItem) -> dict[str, Any]:
    conversation = item.conversation
    registration = item.registration
    return {
        "conversation_id": conversation.pk,
        "status": "open" if item.is_open else "decided",
        "operator": conversation.operator.display_name if conversation.operator else None,
        "audience": conversation.audience,
        "age": conversation.age,
        "queued_at": _iso(conversation.queued_at),
        "ended_at": _iso(conversation.ended_at),
        "end_reason": conversation.end_reason,
        "registration_note": registration.note if registration else "",
        "has_transcript": item.has_transcript,
        "has_visitor_key": item.has_visitor_key,
        "hold_until": _iso(item.hold_until),
        "decision": decision_frame(item.review),
    }


def transcript_frame(messages: list[Message]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.pk,
            "sender": m.sender,
            "body": m.body,
            "created_at": _iso(m.created_at),
        }
        for m in messages
    ]


def block_frame(block: VisitorBlock) -> dict[str, Any]:
    return {
        "id": block.pk,
        "conversation_id": block.conversation_id,
        "duration": block.duration,
        "reason": block.reason,
        "starts_at": _iso(block.starts_at),
        "ends_at": _iso(block.ends_at),
        "created_by": block.created_by.display_name,
        "lifted_at": _iso(block.lifted_at),
    }
