"""HTTP API of the operator console: profile, availability, the queue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from onthaal.api_schemas import (
    MyConversationsOut,
    ProfileOut,
    QueueOut,
    StaffConversationOut,
    responses,
)
from onthaal.chat import events, selectors
from onthaal.chat import services as chat_services
from onthaal.errors import PermissionDenied
from onthaal.staff import services
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["operator"], auth=staff_session)


class ProfileIn(Schema):
    pseudonym: str | None = Field(None, description="the only name visitors see")
    availability: str | None = Field(None, description="available | paused | offline")


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _chatter(request: HttpRequest) -> User:
    """The signed-in user, if their role takes chats (not an analyst)."""
    user = _user(request)
    if not user.can_chat:
        raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
    return user


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "pseudonym": user.pseudonym,
        "availability": user.availability,
        "discipline": user.discipline,
        "role": user.role,
        "max_chats": user.chat_limit,
    }


@router.get("/operator/me", response=responses(ProfileOut))
def me(request: HttpRequest) -> dict[str, Any]:
    return _profile(_user(request))


@router.patch("/operator/me", response=responses(ProfileOut))
def me_update(request: HttpRequest, payload: ProfileIn) -> dict[str, Any]:
    """Set the pseudonym and/or mark yourself available, paused or offline."""
    user = services.operator_update(
        operator=_user(request), pseudonym=payload.pseudonym, availability=payload.availability
    )
    return _profile(user)


@router.get("/operator/conversations", response=responses(MyConversationsOut))
def my_conversations(request: HttpRequest) -> dict[str, Any]:
    """Your active chats and the ended ones still waiting for their registration."""
    user = _chatter(request)
    return {
        "active": [
            events.conversation_frame_for_staff(c)
            for c in selectors.operator_active_conversations(operator=user)
        ],
        "todo": [
            events.conversation_frame_for_staff(c) for c in selectors.operator_todo(operator=user)
        ],
    }


@router.get("/queue", response=responses(QueueOut))
def queue(request: HttpRequest) -> dict[str, Any]:
    """Waiting visitors, longest-waiting first, with their intake answers."""
    _chatter(request)
    return {"queue": selectors.queue_entries()}


@router.post("/queue/take", response=responses(StaffConversationOut))
def queue_take(request: HttpRequest) -> dict[str, Any]:
    """Take the visitor who has waited longest."""
    conversation = chat_services.conversation_accept(
        conversation_id=None, operator=_chatter(request)
    )
    return {"conversation": events.conversation_frame_for_staff(conversation)}


@router.post("/conversations/{conversation_id}/accept", response=responses(StaffConversationOut))
def conversation_accept(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Take this queued visitor."""
    conversation = chat_services.conversation_accept(
        conversation_id=conversation_id, operator=_chatter(request)
    )
    return {"conversation": events.conversation_frame_for_staff(conversation)}
