"""Reads of conversations, with the access checks in front of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat import events
from onthaal.chat.models import Conversation, Message, Status, hash_token
from onthaal.errors import NotFound
from onthaal.staff.models import Availability, User

MAX_MESSAGES_PER_READ = 1000
# Used for the wait estimate until there are recent chats to learn from
# (DOMAIN.md: a chat lasts 20 minutes on average).
DEFAULT_CHAT_SECONDS = 20 * 60


def _not_found() -> NotFound:
    return NotFound(_("Dit gesprek bestaat niet."))


def conversation_get_for_visitor(*, conversation_id: int, token: str) -> Conversation:
    """The visitor's access check: a token opens only its own conversation.

    An unknown id and a wrong token give the same error.
    """
    if not isinstance(token, str) or not token or len(token) > 200 or not token.isascii():
        raise _not_found()
    conversation = (
        Conversation.objects.select_related("operator")
        .filter(pk=conversation_id, token_hash=hash_token(token))
        .first()
    )
    if conversation is None:
        raise _not_found()
    return conversation


def conversation_get_for_staff(*, user: User, conversation_id: int) -> Conversation:
    """The staff access check: an operator reaches the conversations assigned
    to them; coordinators reach every conversation. Everything else is
    "not found", the same as an id that does not exist."""
    conversation = (
        Conversation.objects.select_related("operator").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise _not_found()
    if not user.is_active or not user.can_chat:
        raise _not_found()
    if user.is_coordinator:
        return conversation
    if conversation.operator_id != user.pk:
        raise _not_found()
    return conversation


def messages_after(*, conversation: Conversation, after_id: int = 0) -> list[Message]:
    """The messages a reconnecting client missed: everything after ``after_id``."""
    return list(
        Message.objects.filter(conversation_id=conversation.pk, pk__gt=max(after_id, 0)).order_by(
            "pk"
        )[:MAX_MESSAGES_PER_READ]
    )


def queue_entries(*, now: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The queue as operators see it, oldest first, with the intake answers
    (the first ``limit`` when given)."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(status=Status.QUEUED).order_by("queued_at", "pk")
    if limit is not None:
        rows = rows[:limit]
    return [
        {
            "id": c.pk,
            "queued_at": c.queued_at.isoformat(),
            "waiting_seconds": max(0, int((now - c.queued_at).total_seconds())),
            "audience": c.audience,
            "age": c.age,
            "gender": c.gender,
            "referral_source": c.referral_source,
            "device_class": c.device_class,
            "language": c.language,
        }
        for c in rows
    ]


def queue_position(*, conversation: Conversation) -> int | None:
    """1 for the first in line; None when the conversation is not queued."""
    if conversation.status != Status.QUEUED:
        return None
    ahead = Conversation.objects.filter(status=Status.QUEUED).filter(
        Q(queued_at__lt=conversation.queued_at)
        | Q(queued_at=conversation.queued_at, pk__lt=conversation.pk)
    )
    return ahead.count() + 1


def _available_slots() -> int | None:
    """Chat slots of the available operators (each their own maximum); None
    when nobody is available."""
    row = (
        User.objects.filter(availability=Availability.AVAILABLE, is_active=True)
        .annotate(limit=Coalesce("max_chats", Value(settings.ONTHAAL_MAX_CHATS_PER_OPERATOR)))
        .aggregate(operators=Count("pk"), slots=Sum("limit"))
    )
    return int(row["slots"]) if row["operators"] else None


def estimated_wait_seconds(*, position: int, now: datetime | None = None) -> int | None:
    """A rough wait for the ``position``-th visitor in line.

    Each operator slot (available operators × chats each) frees up once per
    mean chat duration (of the last 30 days), so one slot frees every
    duration / slots seconds. None when no operator is available: then we
    cannot promise anything and the page says so.
    """
    now = now or timezone.now()
    slots = _available_slots()
    if slots is None:
        return None
    # Only the chats of available operators occupy the slots counted above.
    busy = Conversation.objects.filter(
        status=Status.ACTIVE,
        operator__availability=Availability.AVAILABLE,
        operator__is_active=True,
    ).count()
    free = max(0, slots - busy)
    if position <= free:
        return 0
    mean = (
        Conversation.objects.filter(
            accepted_at__isnull=False,
            ended_at__isnull=False,
            ended_at__gte=now - timedelta(days=30),
        )
        .annotate(
            length=ExpressionWrapper(F("ended_at") - F("accepted_at"), output_field=DurationField())
        )
        .aggregate(mean=Avg("length"))["mean"]
    )
    per_chat = mean.total_seconds() if mean else DEFAULT_CHAT_SECONDS
    return int((position - free) * per_chat / slots)


def queue_state_for_visitor(*, conversation: Conversation) -> dict[str, Any] | None:
    position = queue_position(conversation=conversation)
    if position is None:
        return None
    return {
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds(position=position),
    }


# --- Queue broadcasts (docs/performance.md, "Load") ------------------------------
# A queue change is computed once, by the service, and broadcast: each waiting
# visitor's consumer finds its own position in it without a query.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def queue_key(conversation: Conversation) -> list[int]:
    """The queue's sort key of a conversation, ``[queued_at in µs, id]``: a
    list, as it comes back from the channel layer (msgpack)."""
    return [(conversation.queued_at - _EPOCH) // timedelta(microseconds=1), conversation.pk]


def queue_keys() -> list[list[int]]:
    """The sort keys of everyone waiting, first in line first (one query)."""
    return [
        [(queued_at - _EPOCH) // timedelta(microseconds=1), pk]
        for queued_at, pk in Conversation.objects.filter(status=Status.QUEUED)
        .order_by("queued_at", "pk")
        .values_list("queued_at", "pk")
    ]


def wait_estimate_inputs(*, now: datetime | None = None) -> dict[str, Any] | None:
    """What :func:`estimated_wait_seconds` computes from, once for every
    position: free and total operator slots and the mean chat length. None
    when no operator is available."""
    now = now or timezone.now()
    slots = _available_slots()
    if slots is None:
        return None
    busy = Conversation.objects.filter(
        status=Status.ACTIVE,
        operator__availability=Availability.AVAILABLE,
        operator__is_active=True,
    ).count()
    mean = (
        Conversation.objects.filter(
            accepted_at__isnull=False,
            ended_at__isnull=False,
            ended_at__gte=now - timedelta(days=30),
        )
        .annotate(
            length=ExpressionWrapper(F("ended_at") - F("accepted_at"), output_field=DurationField())
        )
        .aggregate(mean=Avg("length"))["mean"]
    )
    return {
        "free": max(0, slots - busy),
        "slots": slots,
        "chat_seconds": mean.total_seconds() if mean else DEFAULT_CHAT_SECONDS,
    }


def wait_from_inputs(*, position: int, inputs: dict[str, Any] | None) -> int | None:
    """The arithmetic of :func:`estimated_wait_seconds`, without queries."""
    if inputs is None:
        return None
    if position <= inputs["free"]:
        return 0
    return int((position - inputs["free"]) * inputs["chat_seconds"] / inputs["slots"])


def operator_active_conversations(*, operator: User) -> list[Conversation]:
    return list(
        Conversation.objects.select_related("operator")
        .filter(operator=operator, status=Status.ACTIVE)
        .order_by("accepted_at")
    )


def operator_todo(*, operator: User) -> list[Conversation]:
    """Chats this operator held that still wait for their registration."""
    return list(
        Conversation.objects.select_related("operator")
        .filter(
            operator=operator,
            status=Status.ENDED,
            accepted_at__isnull=False,
            registration__isnull=True,
        )
        .order_by("ended_at")
    )


def visitor_snapshot(*, conversation: Conversation, after_id: int = 0) -> dict[str, Any]:
    """Everything a (re)connecting visitor needs in one frame."""
    return {
        "conversation": events.conversation_frame_for_visitor(conversation),
        "queue": queue_state_for_visitor(conversation=conversation),
        "messages": [
            events.message_frame(m)
            for m in messages_after(conversation=conversation, after_id=after_id)
        ],
    }
