"""HTTP API of prank reviews and blocks, mounted at ``/api/v1/safeguard``
(session auth; coordinators and administrators only)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from onthaal.api_schemas import Error
from onthaal.safeguard import frames, selectors, services
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["safeguard"], auth=staff_session)

Frame = dict[str, Any]


class DecisionIn(Schema):
    decision: str = Field(description="confirmed | dismissed")
    note: str = ""


class BlockIn(Schema):
    conversation_id: int = Field(description="a chat started with the visitor key to block")
    duration: str = Field(description="24h | 7d | 30d")
    reason: str = ""


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get("/prank-reviews", response={200: Frame, 400: Error, 401: Error, 403: Error})
def prank_review_list(
    request: HttpRequest, status: Literal["open", "decided"] = "open"
) -> dict[str, Any]:
    """The review queue (``open``, oldest first) or the decided reviews (newest first)."""
    user = _user(request)
    items = (
        selectors.prank_queue(viewer=user)
        if status == "open"
        else selectors.prank_reviews_decided(viewer=user)
    )
    return {"reviews": [frames.review_frame(i) for i in items]}


@router.get(
    "/prank-reviews/{conversation_id}", response={200: Frame, 401: Error, 403: Error, 404: Error}
)
def prank_review_detail(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """One chat registered as a suspected prank, with its transcript while it
    exists. Reading the transcript is audited."""
    user = _user(request)
    item = selectors.prank_review_get_for_viewer(viewer=user, conversation_id=conversation_id)
    messages = services.prank_review_transcript_read(viewer=user, item=item)
    frame = frames.review_frame(item)
    frame["transcript"] = frames.transcript_frame(messages) if messages else None
    return frame


@router.post(
    "/prank-reviews/{conversation_id}/decision",
    response={200: Frame, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
)
def prank_review_decide(
    request: HttpRequest, conversation_id: int, payload: DecisionIn
) -> dict[str, Any]:
    """Confirm (marks the visitor's key) or dismiss; closes the review, once."""
    user = _user(request)
    services.prank_review_decide(
        coordinator=user,
        conversation_id=conversation_id,
        decision=payload.decision,
        note=payload.note,
    )
    item = selectors.prank_review_get_for_viewer(viewer=user, conversation_id=conversation_id)
    return frames.review_frame(item)


@router.get("/blocks", response={200: Frame, 401: Error, 403: Error})
def block_list(request: HttpRequest) -> dict[str, Any]:
    """The blocks in force now, ending soonest first."""
    blocks = selectors.visitor_blocks_active(viewer=_user(request))
    return {"blocks": [frames.block_frame(b) for b in blocks]}


@router.post(
    "/blocks", response={201: Frame, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error}
)
def block_create(request: HttpRequest, payload: BlockIn) -> Status[dict[str, Any]]:
    """Block the visitor key of a chat for 24 hours, 7 days or 30 days."""
    block = services.visitor_block_create(
        coordinator=_user(request),
        conversation_id=payload.conversation_id,
        duration=payload.duration,
        reason=payload.reason,
    )
    return Status(201, frames.block_frame(block))


@router.post(
    "/blocks/{block_id}/lift", response={200: Frame, 401: Error, 403: Error, 404: Error, 409: Error}
)
def block_lift(request: HttpRequest, block_id: int) -> dict[str, Any]:
    """End a block before its time."""
    block = services.visitor_block_lift(coordinator=_user(request), block_id=block_id)
    return frames.block_frame(block)
