"""Reads of offers and of missed chats, with their access checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.aggregates import Avg, Count, Max
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from onthaal.assignment.models import Offer, Outcome
from onthaal.chat import events
from onthaal.chat.models import Conversation, EndReason, Status
from onthaal.errors import NotFound, PermissionDenied
from onthaal.staff.models import Availability, Role, User

# Unanswered chats: left the queue (missed) or were still waiting at closing time.
UNANSWERED_REASONS = (EndReason.MISSED, EndReason.CLOSED)


def assignment_is_auto() -> bool:
    return bool(settings.ONTHAAL_ASSIGNMENT == "auto")


def offers_open(*, now: datetime) -> QuerySet[Offer]:
    """Offers still to be answered: open and not yet past their time."""
    return Offer.objects.filter(outcome=Outcome.OPEN, expires_at__gt=now)


def offered_to_a_colleague(*, operator: User, now: datetime) -> Exists:
    """For a filter on conversations: the chat is offered to someone else
    right now, so nobody else may take it (an offer is exclusive)."""
    return Exists(
        offers_open(now=now).filter(conversation=OuterRef("pk")).exclude(operator=operator)
    )


def offer_get_for_operator(*, operator: User, offer_id: int) -> Offer:
    """The access check of an offer: only the operator it was made to.
    Anyone else, and an unknown id, get the same "not found"."""
    offer = (
        Offer.objects.select_related("conversation")
        .filter(pk=offer_id, operator_id=operator.pk)
        .first()
    )
    if offer is None or not operator.is_active or not operator.can_chat:
        raise NotFound(_("Dit aanbod bestaat niet."))
    return offer


def offers_for_operator(*, operator: User, now: datetime) -> list[Offer]:
    return list(
        offers_open(now=now)
        .filter(operator=operator)
        .select_related("conversation__operator")
        .order_by("offered_at", "pk")
    )


def offer_frame(offer: Offer) -> dict[str, Any]:
    """An offer as the console shows it: the chat's intake answers, and until when."""
    return {
        "id": offer.pk,
        "conversation_id": offer.conversation_id,
        "offered_at": offer.offered_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
        "outcome": offer.outcome,
        "conversation": events.conversation_frame_for_staff(offer.conversation),
    }


def _count(queryset: QuerySet[Any], field: str) -> Coalesce:
    """A correlated COUNT per operator, 0 when there is none (a subquery, so
    that two counts over different joins do not multiply each other)."""
    counted = queryset.values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def operators_by_load(*, now: datetime) -> QuerySet[User]:
    """Operators who may get an offer now, least loaded first.

    May get one: active, a role that chats, available, with a pseudonym, and
    fewer chats plus open offers than ``ONTHAAL_MAX_CHATS_PER_OPERATOR``.
    Load = active chats + open offers; a tie goes to whoever has been idle
    longest (the latest start or end of one of their chats lies furthest
    back; never having chatted counts as idle longest), then to the lower id.
    """
    last_busy = (
        Conversation.objects.filter(operator=OuterRef("pk"))
        .values("operator")
        .annotate(t=Max(Coalesce("ended_at", "accepted_at")))
        .values("t")
    )
    return (
        User.objects.filter(is_active=True, availability=Availability.AVAILABLE)
        .exclude(role=Role.ANALYST)
        .exclude(pseudonym="")
        .annotate(
            active_chats=_count(
                Conversation.objects.filter(operator=OuterRef("pk"), status=Status.ACTIVE),
                "operator",
            ),
            open_offers=_count(offers_open(now=now).filter(operator=OuterRef("pk")), "operator"),
            last_busy=Subquery(last_busy),
        )
        .annotate(load=F("active_chats") + F("open_offers"))
        .annotate(limit=Coalesce("max_chats", Value(settings.ONTHAAL_MAX_CHATS_PER_OPERATOR)))
        .filter(load__lt=F("limit"))
        .order_by("load", F("last_busy").asc(nulls_first=True), "pk")
    )


def operator_load(*, operator_id: int, now: datetime) -> int:
    """Active chats plus open offers of one operator."""
    active = Conversation.objects.filter(operator_id=operator_id, status=Status.ACTIVE).count()
    return active + offers_open(now=now).filter(operator_id=operator_id).count()


def missed_chats(*, viewer: User, start: datetime, end: datetime) -> dict[str, Any]:
    """Chats that left the queue unanswered between ``start`` and ``end``
    (by their end), with how long each visitor waited. Coordinators only.

    Two queries: the rows (at most 1000, newest first) and the totals.
    """
    if not viewer.is_active or not viewer.is_coordinator:
        raise PermissionDenied(_("Alleen coördinatoren zien de gemiste chats."))
    waited = ExpressionWrapper(F("ended_at") - F("queued_at"), output_field=DurationField())
    rows = (
        Conversation.objects.filter(
            status=Status.ENDED,
            accepted_at__isnull=True,
            end_reason__in=UNANSWERED_REASONS,
            ended_at__gte=start,
            ended_at__lt=end,
        )
        .annotate(waited=waited)
        .order_by("-ended_at", "-pk")
    )
    totals = rows.order_by().aggregate(count=Count("pk"), mean=Avg("waited"), longest=Max("waited"))
    items = [
        {
            "id": c.pk,
            "queued_at": c.queued_at.isoformat(),
            "ended_at": c.ended_at.isoformat() if c.ended_at else None,
            "end_reason": c.end_reason,
            "waited_seconds": int(c.waited.total_seconds()),
            "audience": c.audience,
        }
        for c in rows[:1000]
    ]
    return {
        "count": totals["count"],
        "mean_wait_seconds": _seconds(totals["mean"]),
        "longest_wait_seconds": _seconds(totals["longest"]),
        "chats": items,
    }


def _seconds(value: timedelta | None) -> int | None:
    return round(value.total_seconds()) if value is not None else None
