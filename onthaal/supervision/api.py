"""HTTP API of supervision: the live overview, asking for support, reading
along, whispers, takeover and transfer. The same actions exist on the
websockets (docs/api.md); authorization is checked in the services and
selectors, whatever the adapter."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from onthaal.api_schemas import responses
from onthaal.chat import events
from onthaal.chat import selectors as chat_selectors
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session
from onthaal.supervision import selectors, services

router = Router(tags=["supervision"], auth=staff_session)


class WhisperIn(Schema):
    body: str = Field(description="staff-only text; never shown to the visitor")


class TransferIn(Schema):
    operator_id: int = Field(description="the colleague who takes the chat")
    note: str = Field("", description="for the colleague only; never shown to the visitor")


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get("/supervision/overview", response=responses())
def overview(request: HttpRequest) -> dict[str, Any]:
    """The live overview (coordinators and administrators): who is online,
    the queue, the active chats, missed chats today, open requests for
    support, who is scheduled now."""
    return selectors.overview(viewer=_user(request))


@router.get("/conversations/{conversation_id}/transfer-targets", response=responses())
def transfer_targets(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Colleagues who could take this chat now (online, available, with a free place)."""
    return {
        "operators": selectors.transfer_targets(
            viewer=_user(request), conversation_id=conversation_id
        )
    }


@router.post("/conversations/{conversation_id}/support", response=responses())
def support_request(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Ask a coordinator for support in your live chat."""
    support = services.support_request(conversation_id=conversation_id, operator=_user(request))
    return {
        "conversation_id": support.conversation_id,
        "requested_at": support.requested_at.isoformat(),
    }


@router.post("/conversations/{conversation_id}/read-along", response=responses())
def read_along_start(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Read along in a live chat (coordinators): its messages and staff notes.
    Audited; the operator sees who reads along. Live updates come over
    ``/ws/v1/overview/``."""
    user = _user(request)
    conversation = services.read_along_start(conversation_id=conversation_id, coordinator=user)
    return {
        "conversation": events.conversation_frame_for_staff(conversation),
        "messages": [
            events.message_frame(m)
            for m in chat_selectors.messages_after(conversation=conversation, after_id=0)
        ],
        "notes": selectors.staff_notes(conversation=conversation),
        "readers": selectors.readers_of(conversation_id=conversation.pk),
    }


@router.delete("/conversations/{conversation_id}/read-along", response=responses())
def read_along_stop(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    user = _user(request)
    selectors.supervisor_check(user=user)
    services.read_along_stop(conversation_id=conversation_id, coordinator=user)
    return {"conversation_id": conversation_id, "reading": False}


@router.get("/conversations/{conversation_id}/notes", response=responses())
def notes(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Whispers and transfer notes of a chat (its operator, coordinators)."""
    user = _user(request)
    conversation = selectors.conversation_get_for_supervision(
        user=user, conversation_id=conversation_id
    )
    return {"notes": selectors.staff_notes(conversation=conversation)}


@router.post("/conversations/{conversation_id}/whispers", response=responses())
def whisper(request: HttpRequest, conversation_id: int, payload: WhisperIn) -> dict[str, Any]:
    """Write to the staff of a live chat only; the visitor never sees it."""
    note = services.whisper_post(
        conversation_id=conversation_id, author=_user(request), body=payload.body
    )
    return {"whisper": selectors.note_frame(note)}


@router.post("/conversations/{conversation_id}/take-over", response=responses())
def take_over(
    request: HttpRequest, conversation_id: int, from_operator_id: int | None = None
) -> dict[str, Any]:
    """A coordinator takes the live chat over and becomes its operator.

    ``from_operator_id`` (query): the operator you saw holding the chat; the
    takeover is refused (409 ``conversation_changed``) if that changed."""
    conversation = services.conversation_take_over(
        conversation_id=conversation_id,
        coordinator=_user(request),
        from_operator_id=from_operator_id,
    )
    return {"conversation": events.conversation_frame_for_staff(conversation)}


@router.post("/conversations/{conversation_id}/transfer", response=responses())
def transfer(request: HttpRequest, conversation_id: int, payload: TransferIn) -> dict[str, Any]:
    """Hand your live chat (coordinators: any live chat) to an available colleague."""
    conversation = services.conversation_transfer(
        conversation_id=conversation_id,
        actor=_user(request),
        to_operator_id=payload.operator_id,
        note=payload.note,
    )
    return {"conversation": events.conversation_frame_for_staff(conversation)}
