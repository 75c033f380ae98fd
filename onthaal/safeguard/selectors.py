"""Reads of prank reviews, markings and blocks, with the access checks in front.

Access, in one place:

- the review queue, a review (with its transcript), decisions and blocks:
  coordinators and administrators only (``forbidden`` for anyone else); a
  coordinator never reviews a chat they held themselves ("not found");
- the alert on a returning visitor's chat: part of the conversation's staff
  frame, so whoever may see that frame (the operator who holds the chat, a
  coordinator), never the visitor and never the queue;
- analysts: nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from onthaal.chat.models import Conversation, Message, Origin
from onthaal.errors import NotFound, PermissionDenied
from onthaal.registration.models import Registration
from onthaal.safeguard.models import (
    ConversationVisitor,
    PrankDecision,
    PrankReview,
    VisitorBlock,
)
from onthaal.staff.models import User

DEFAULT_HOLD_MAX_DAYS = 60
DEFAULT_MARK_DAYS = 180
MAX_LISTED = 200


def prank_hold_max_days() -> int:
    """How long after a chat ended an open prank review may keep its
    transcript (``ONTHAAL_PRANK_HOLD_MAX_DAYS``, default 60)."""
    return int(getattr(settings, "ONTHAAL_PRANK_HOLD_MAX_DAYS", DEFAULT_HOLD_MAX_DAYS))


def prank_mark_days() -> int:
    """How long a confirmed marking alerts operators (``ONTHAAL_PRANK_MARK_DAYS``)."""
    return int(getattr(settings, "ONTHAAL_PRANK_MARK_DAYS", DEFAULT_MARK_DAYS))


# --- retention -----------------------------------------------------------------


def _open_prank_registrations() -> QuerySet[Registration]:
    """Registrations of live chats marked as suspected prank that no
    coordinator decided on yet: the review queue."""
    return Registration.objects.filter(
        prank_suspected=True,
        conversation__origin=Origin.LIVE,
        conversation__prank_review__isnull=True,
    )


def prank_held_conversation_ids(*, now: datetime) -> QuerySet[Registration, dict[str, Any]]:
    """The conversations whose transcript (and visitor link) retention must
    keep for now: an open prank review of a chat that ended less than the
    hold maximum ago. For use as a subquery (``pk__in=...``)."""
    bound = now - timedelta(days=prank_hold_max_days())
    return (
        _open_prank_registrations()
        .filter(conversation__ended_at__gte=bound)
        .values("conversation_id")
    )


def prank_hold_until(conversation: Conversation) -> datetime | None:
    """The latest moment an open prank review keeps this chat's transcript."""
    if conversation.ended_at is None:
        return None
    return conversation.ended_at + timedelta(days=prank_hold_max_days())


# --- access --------------------------------------------------------------------


def require_coordinator(user: User) -> None:
    """Prank reviews and blocks are a coordinator's task."""
    if not user.is_active or not user.is_coordinator:
        raise PermissionDenied(_("Alleen coördinatoren beoordelen nepoproepen en blokkeringen."))


def _not_found() -> NotFound:
    return NotFound(_("Deze beoordeling bestaat niet."))


@dataclass
class ReviewItem:
    """One chat in the prank review queue or among the decided ones."""

    conversation: Conversation
    registration: Registration | None
    review: PrankReview | None
    has_transcript: bool
    has_visitor_key: bool

    @property
    def is_open(self) -> bool:
        return self.review is None

    @property
    def hold_until(self) -> datetime | None:
        return prank_hold_until(self.conversation) if self.is_open else None


def _items(registrations: QuerySet[Registration]) -> list[ReviewItem]:
    rows = registrations.select_related(
        "conversation__operator", "conversation__prank_review__decided_by"
    ).annotate(
        has_transcript=Exists(Message.objects.filter(conversation_id=OuterRef("conversation_id"))),
        has_visitor_key=Exists(
            ConversationVisitor.objects.filter(conversation_id=OuterRef("conversation_id"))
        ),
    )
    items = []
    for registration in rows[:MAX_LISTED]:
        conversation = registration.conversation
        items.append(
            ReviewItem(
                conversation=conversation,
                registration=registration,
                review=getattr(conversation, "prank_review", None),
                has_transcript=registration.has_transcript,  # type: ignore[attr-defined]
                has_visitor_key=registration.has_visitor_key,  # type: ignore[attr-defined]
            )
        )
    return items


def prank_queue(*, viewer: User) -> list[ReviewItem]:
    """The open prank reviews, oldest chat first (a viewer's own chats left out)."""
    require_coordinator(viewer)
    return _items(
        _open_prank_registrations()
        .exclude(conversation__operator=viewer)
        .order_by("conversation__ended_at", "conversation_id")
    )


def prank_reviews_decided(*, viewer: User) -> list[ReviewItem]:
    """The most recent decisions, newest first."""
    require_coordinator(viewer)
    return _items(
        Registration.objects.filter(conversation__prank_review__isnull=False).order_by(
            "-conversation__prank_review__decided_at", "-conversation_id"
        )
    )


def prank_review_get_for_viewer(*, viewer: User, conversation_id: int) -> ReviewItem:
    """One chat registered as a suspected prank (open or decided), for a
    coordinator who did not hold it; "not found" otherwise."""
    require_coordinator(viewer)
    items = _items(
        Registration.objects.filter(conversation_id=conversation_id).filter(
            Q(prank_suspected=True, conversation__origin=Origin.LIVE)
            | Q(conversation__prank_review__isnull=False)
        )
    )
    if not items:
        raise _not_found()
    item = items[0]
    if item.conversation.operator_id == viewer.pk:
        raise _not_found()
    return item


# --- markings and blocks -------------------------------------------------------


def visitor_hash_of(*, conversation_id: int) -> str:
    """The returning-visitor hash linked to a chat, or ""."""
    return (
        ConversationVisitor.objects.filter(conversation_id=conversation_id)
        .values_list("visitor_hash", flat=True)
        .first()
        or ""
    )


def visitor_block_active(*, visitor_hash: str, now: datetime) -> VisitorBlock | None:
    if not visitor_hash:
        return None
    return (
        VisitorBlock.objects.filter(
            visitor_hash=visitor_hash, starts_at__lte=now, ends_at__gt=now, lifted_at__isnull=True
        )
        .order_by("-ends_at")
        .first()
    )


def visitor_blocks_active(*, viewer: User, now: datetime | None = None) -> list[VisitorBlock]:
    """Blocks in force now, ending soonest first."""
    require_coordinator(viewer)
    now = now or timezone.now()
    return list(
        VisitorBlock.objects.select_related("created_by")
        .filter(ends_at__gt=now, lifted_at__isnull=True)
        .order_by("ends_at", "pk")[:MAX_LISTED]
    )


def visitor_block_get_for_viewer(*, viewer: User, block_id: int) -> VisitorBlock:
    require_coordinator(viewer)
    block = VisitorBlock.objects.filter(pk=block_id).first()
    if block is None:
        raise NotFound(_("Deze blokkering bestaat niet."))
    return block


def visitor_alert(
    *, conversation: Conversation, now: datetime | None = None
) -> dict[str, Any] | None:
    """The alert an operator sees on a returning visitor's chat: the most
    recent confirmed marking of the same returning-visitor key (another chat),
    while it lasts; None otherwise. One query.

    Never part of what the visitor receives.
    """
    now = now or timezone.now()
    link = ConversationVisitor.objects.filter(conversation_id=conversation.pk).values(
        "visitor_hash"
    )[:1]
    marking = (
        PrankReview.objects.filter(
            decision=PrankDecision.CONFIRMED,
            visitor_hash=link,
            marked_until__gt=now,
        )
        .exclude(visitor_hash="")
        .exclude(conversation_id=conversation.pk)
        .order_by("-conversation__queued_at")
        .values("conversation__queued_at", "decided_at")
        .first()
    )
    if marking is None:
        return None
    chat_day = timezone.localtime(marking["conversation__queued_at"]).date()
    return {
        "kind": "prank_marked",
        "marked_chat_on": chat_day.isoformat(),
        "message": _(
            "Let op: deze bezoeker werd eerder gemarkeerd als nepoproep (chat van %(date)s)."
        )
        % {"date": formats.date_format(chat_day, "j F Y")},
    }
