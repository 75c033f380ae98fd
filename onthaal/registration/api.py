"""HTTP API of the post-chat registration."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from onthaal.api_schemas import RegistrationOut, TaxonomyOut, responses
from onthaal.chat import selectors as chat_selectors
from onthaal.errors import NotFound
from onthaal.registration import selectors, services
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["registration"], auth=staff_session)


class RegistrationIn(Schema):
    topic_ids: list[int] = []
    result_ids: list[int] = []
    prank_suspected: bool = False
    note: str = ""


@router.get("/taxonomy", response=responses(TaxonomyOut))
def taxonomy(request: HttpRequest) -> dict[str, Any]:
    """Active domains with their topics, and the results, for the registration form."""
    return selectors.taxonomy_tree()


@router.get("/conversations/{conversation_id}/registration", response=responses(RegistrationOut))
def registration_detail(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    conversation = chat_selectors.conversation_get_for_staff(
        user=user, conversation_id=conversation_id
    )
    registration = selectors.registration_for_conversation(conversation=conversation)
    if registration is None:
        raise NotFound(_("Deze chat is nog niet geregistreerd."), code="not_registered")
    return selectors.registration_frame(registration)


@router.put("/conversations/{conversation_id}/registration", response=responses(RegistrationOut))
def registration_save(
    request: HttpRequest, conversation_id: int, payload: RegistrationIn
) -> dict[str, Any]:
    """Register (or correct) an ended chat: topics, results, prank suspicion, note."""
    user: User = request.auth  # type: ignore[attr-defined]
    conversation = chat_selectors.conversation_get_for_staff(
        user=user, conversation_id=conversation_id
    )
    registration = services.registration_save(
        conversation=conversation,
        operator=user,
        topic_ids=payload.topic_ids,
        result_ids=payload.result_ids,
        prank_suspected=payload.prank_suspected,
        note=payload.note,
    )
    return selectors.registration_frame(registration)
