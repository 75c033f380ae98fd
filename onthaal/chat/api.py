"""HTTP API of conversations: what the visitor page and the console use
besides the websocket, and what any other client can use instead of it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer

from onthaal.api_schemas import (
    ERRORS,
    ChatStatusOut,
    ConversationOut,
    ConversationStateOut,
    MessageOut,
    MessagesOut,
    VisitorConversationOut,
    responses,
)
from onthaal.audit.services import audit_transcript_opened
from onthaal.chat import events, selectors, services
from onthaal.chat.closing import intake_status
from onthaal.chat.models import Conversation, EndReason, Sender
from onthaal.errors import NotFound
from onthaal.ratelimit import rate_limit_hit
from onthaal.safeguard import services as safeguard_services
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["conversations"])

HELPLINES = [
    {"name": "Zelfmoordlijn", "phone": "1813", "url": "https://www.zelfmoord1813.be"},
    {"name": "Awel", "phone": "102", "url": "https://www.awel.be"},
    {"name": "Noodnummer", "phone": "112", "url": None},
]


class VisitorToken(HttpBearer):
    """``Authorization: Bearer <token>``: the token returned when the
    conversation was opened. Which conversation it opens is checked per call."""

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        return token or None


VISITOR_OR_STAFF = [VisitorToken(), staff_session]


class IntakeIn(Schema):
    audience: str = Field("", description="pupil | parent | '' (skipped)")
    age: int | None = Field(None, description="4–99, or null (skipped)")
    gender: str = Field("", description="girl | boy | x | '' (skipped)")
    referral_source: str = Field("", description="how they found the chat, or ''")
    touch: bool = Field(False, description="the page saw a touch screen (device class only)")
    visitor_key: str = Field(
        "",
        description="returning-visitor key kept by the browser (32–128 of A-Z a-z 0-9 - _), "
        "or '' (only a keyed hash is stored; docs/security.md)",
    )


class OpenedOut(Schema):
    id: int
    token: str = Field(description="secret; send as Bearer token; shown only once")
    conversation: dict[str, Any]
    queue: dict[str, Any] | None


class MessageIn(Schema):
    client_id: str = Field(description="idempotency key chosen by the client (1–64 chars)")
    body: str


class RatingIn(Schema):
    rating: int = Field(description="1–5 stars")
    comment: str = ""


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    """The one access check of this router: staff through their role, a
    visitor through the token of this very conversation."""
    if isinstance(request.auth, User):  # type: ignore[attr-defined]
        return selectors.conversation_get_for_staff(
            user=request.auth,  # type: ignore[attr-defined]
            conversation_id=conversation_id,
        )
    return selectors.conversation_get_for_visitor(
        conversation_id=conversation_id,
        token=request.auth,  # type: ignore[attr-defined]
    )


def _is_staff(request: HttpRequest) -> bool:
    return isinstance(request.auth, User)  # type: ignore[attr-defined]


def _frame(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    if _is_staff(request):
        return events.conversation_frame_for_staff(conversation)
    return events.conversation_frame_for_visitor(conversation)


@router.get("/status", auth=None, tags=["status"], response=responses(ChatStatusOut))
def chat_status(request: HttpRequest) -> dict[str, Any]:
    """Is the chat open now; if not, when it opens next, and where to turn meanwhile.

    ``accepting`` is false also while open, in the last
    ``ONTHAAL_CLOSING_CUTOFF_MINUTES`` before closing (``intake_closes_at``);
    ``next_opening`` then says when a new chat can start again.
    """
    intake = intake_status(at=timezone.now())
    return {
        "open": intake.is_open,
        "accepting": intake.accepting,
        "closes_at": intake.closes_at.isoformat() if intake.closes_at else None,
        "intake_closes_at": intake.intake_closes_at.isoformat()
        if intake.intake_closes_at
        else None,
        "next_opening": intake.next_opening.isoformat() if intake.next_opening else None,
        "helplines": HELPLINES,
    }


@router.post("/conversations", auth=None, response={201: OpenedOut, **ERRORS})
def conversation_open(request: HttpRequest, intake: IntakeIn) -> Status[dict[str, Any]]:
    """Answer the intake and join the queue. Every intake answer may be skipped."""
    rate_limit_hit(
        scope="conversation_open",
        key=request.META.get("REMOTE_ADDR", ""),
        limit=settings.ONTHAAL_RATE_CONVERSATIONS_PER_HOUR,
        window_seconds=3600,
    )
    # Blocks and the flood hold (onthaal.safeguard): the address is only hashed.
    visitor_hash = safeguard_services.intake_guard(
        visitor_key=intake.visitor_key, client_address=request.META.get("REMOTE_ADDR", "")
    )
    with transaction.atomic():
        conversation, token = services.conversation_open(
            intake=services.Intake(
                audience=intake.audience,
                age=intake.age,
                gender=intake.gender,
                referral_source=intake.referral_source,
            ),
            user_agent=request.headers.get("User-Agent", ""),
            touch=intake.touch,
            language=get_language() or settings.LANGUAGE_CODE,
        )
        safeguard_services.conversation_visitor_link(
            conversation=conversation, visitor_hash=visitor_hash
        )
    return Status(
        201,
        {
            "id": conversation.pk,
            "token": token,
            "conversation": events.conversation_frame_for_visitor(conversation),
            "queue": selectors.queue_state_for_visitor(conversation=conversation),
        },
    )


@router.get(
    "/conversations/{conversation_id}",
    auth=VISITOR_OR_STAFF,
    response=responses(ConversationStateOut),
)
def conversation_detail(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    conversation = _conversation(request, conversation_id)
    if not _is_staff(request):
        services.conversation_visitor_seen(conversation_id=conversation.pk)
    return {
        "conversation": _frame(request, conversation),
        "queue": selectors.queue_state_for_visitor(conversation=conversation),
    }


@router.get(
    "/conversations/{conversation_id}/messages",
    auth=VISITOR_OR_STAFF,
    response=responses(MessagesOut),
)
def message_list(request: HttpRequest, conversation_id: int, after: int = 0) -> dict[str, Any]:
    """Messages with an id greater than ``after`` (what a reconnecting client missed)."""
    conversation = _conversation(request, conversation_id)
    if _is_staff(request):
        audit_transcript_opened(
            user=request.auth,  # type: ignore[attr-defined]
            conversation_id=conversation.pk,
            operator_id=conversation.operator_id,
        )
    return {
        "messages": [
            events.message_frame(m)
            for m in selectors.messages_after(conversation=conversation, after_id=after)
        ]
    }


@router.post(
    "/conversations/{conversation_id}/messages",
    auth=VISITOR_OR_STAFF,
    response={201: MessageOut, **responses(MessageOut)},
)
def message_send(
    request: HttpRequest, conversation_id: int, payload: MessageIn
) -> Status[dict[str, Any]]:
    """Send a message. Resending the same ``client_id`` stores nothing new and
    answers 200 with the stored message (201 when it is new)."""
    conversation = _conversation(request, conversation_id)
    sender = Sender.OPERATOR if _is_staff(request) else Sender.VISITOR
    rate_limit_hit(
        scope="message",
        key=f"{conversation.pk}:{sender}",
        limit=settings.ONTHAAL_RATE_MESSAGES_PER_MINUTE,
        window_seconds=60,
    )
    message, created = services.message_post(
        conversation=conversation,
        sender=sender,
        author=request.auth if _is_staff(request) else None,  # type: ignore[attr-defined]
        body=payload.body,
        client_id=payload.client_id,
    )
    return Status(201 if created else 200, {"message": events.message_frame(message)})


@router.post(
    "/conversations/{conversation_id}/end",
    auth=VISITOR_OR_STAFF,
    response=responses(ConversationOut),
)
def conversation_end(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """End the chat (the visitor, or the operator who holds it)."""
    conversation = _conversation(request, conversation_id)
    if _is_staff(request):
        if conversation.operator_id != request.auth.pk:  # type: ignore[attr-defined]
            # A coordinator reading along does not end someone else's chat here.
            raise NotFound(_("Dit gesprek bestaat niet."))
        reason = EndReason.OPERATOR_ENDED
        actor = request.auth  # type: ignore[attr-defined]
    else:
        reason, actor = EndReason.VISITOR_ENDED, None
    conversation = services.conversation_end(conversation=conversation, reason=reason, actor=actor)
    return {"conversation": _frame(request, conversation)}


@router.post(
    "/conversations/{conversation_id}/rating",
    auth=VisitorToken(),
    response=responses(VisitorConversationOut),
)
def conversation_rate(
    request: HttpRequest, conversation_id: int, payload: RatingIn
) -> dict[str, Any]:
    """The visitor rates an ended chat, once: 1–5 stars and an optional comment."""
    conversation = _conversation(request, conversation_id)
    conversation = services.conversation_rate(
        conversation=conversation, rating=payload.rating, comment=payload.comment
    )
    return {"conversation": events.conversation_frame_for_visitor(conversation)}
