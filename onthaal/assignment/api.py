"""HTTP API of automatic assignment (the operator's offers) and of missed chats."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from onthaal.api_schemas import responses
from onthaal.assignment import selectors, services
from onthaal.chat import events
from onthaal.errors import PermissionDenied
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["assignment"], auth=staff_session)


def _chatter(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can_chat:
        raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
    return user


@router.get("/offers", response=responses())
def offer_list(request: HttpRequest) -> dict[str, Any]:
    """Your open offers (automatic assignment), oldest first."""
    user = _chatter(request)
    return {
        "assignment": "auto" if selectors.assignment_is_auto() else "manual",
        "offers": [
            selectors.offer_frame(offer)
            for offer in selectors.offers_for_operator(operator=user, now=timezone.now())
        ],
    }


@router.post("/offers/{offer_id}/accept", response=responses())
def offer_accept(request: HttpRequest, offer_id: int) -> dict[str, Any]:
    """Accept a chat offered to you: it becomes yours."""
    conversation = services.offer_accept(offer_id=offer_id, operator=_chatter(request))
    return {"conversation": events.conversation_frame_for_staff(conversation)}


@router.post("/offers/{offer_id}/decline", response=responses())
def offer_decline(request: HttpRequest, offer_id: int) -> dict[str, Any]:
    """Decline a chat offered to you: it stays in the queue and goes to a colleague."""
    offer = services.offer_decline(offer_id=offer_id, operator=_chatter(request))
    return {
        "offer": {
            "id": offer.pk,
            "conversation_id": offer.conversation_id,
            "outcome": offer.outcome,
        }
    }


@router.get("/missed-chats", response=responses())
def missed_chat_list(request: HttpRequest, day: date | None = None) -> dict[str, Any]:
    """Chats that left the queue unanswered on ``day`` (default today,
    Brussels), with how long each visitor waited. Coordinators only."""
    day = day or timezone.now().astimezone(HELPLINE_TIMEZONE).date()
    start = datetime.combine(day, time(0, 0), tzinfo=HELPLINE_TIMEZONE)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=HELPLINE_TIMEZONE)
    figures = selectors.missed_chats(
        viewer=request.auth,  # type: ignore[attr-defined]
        start=start,
        end=end,
    )
    return {"day": day.isoformat(), **figures}
