"""Reads for supervision: the live overview, who may receive a transfer, and
the access checks of read-along, whispers, takeover and transfer.

Authorization (docs/api.md): an operator reaches only the chats they hold;
coordinators and administrators reach every chat and the overview; an
analyst reaches none of it. A chat the caller may not reach is "not found".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat import selectors as chat_selectors
from onthaal.chat.models import Conversation, EndReason, Status
from onthaal.errors import PermissionDenied
from onthaal.shifts.selectors import scheduled_now
from onthaal.staff.models import Availability, Discipline, Role, User
from onthaal.supervision.models import (
    PRESENCE_TIMEOUT_SECONDS,
    ConsoleConnection,
    ReadAlong,
    StaffNote,
    SupportRequest,
)

MEDICAL = {Discipline.DOCTOR, Discipline.NURSE}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def supervisor_check(*, user: User) -> None:
    """Coordinators and administrators supervise; nobody else."""
    if not user.is_active or not user.can_chat or not user.is_coordinator:
        raise PermissionDenied(
            _("Alleen coördinatoren en beheerders zien het live overzicht."),
            code="not_a_coordinator",
        )


def conversation_get_for_supervision(*, user: User, conversation_id: int) -> Conversation:
    """The chat's own operator, or any coordinator; else "not found"."""
    return chat_selectors.conversation_get_for_staff(user=user, conversation_id=conversation_id)


def conversation_get_for_supervisor(*, user: User, conversation_id: int) -> Conversation:
    """Any chat, for a coordinator or administrator only."""
    supervisor_check(user=user)
    return chat_selectors.conversation_get_for_staff(user=user, conversation_id=conversation_id)


def online_user_ids(*, now: datetime | None = None) -> set[int]:
    """Staff with a console socket seen within the presence timeout."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=PRESENCE_TIMEOUT_SECONDS)
    return set(
        ConsoleConnection.objects.filter(seen_at__gte=cutoff, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


def active_chat_counts(user_ids: set[int]) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(status=Status.ACTIVE, operator_id__in=user_ids)
        .values("operator_id")
        .annotate(n=Count("id"))
    )
    return {row["operator_id"]: row["n"] for row in rows}


def readers_of(*, conversation_id: int) -> list[dict[str, Any]]:
    """The coordinators reading along in a chat now."""
    return [
        {"id": r.coordinator_id, "pseudonym": r.coordinator.display_name}
        for r in ReadAlong.objects.select_related("coordinator").filter(
            conversation_id=conversation_id, ended_at__isnull=True
        )
    ]


def note_frame(note: StaffNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "conversation_id": note.conversation_id,
        "kind": note.kind,
        "author_id": note.author_id,
        "author_pseudonym": note.author.display_name,
        "body": note.body,
        "created_at": _iso(note.created_at),
    }


def staff_notes(*, conversation: Conversation) -> list[dict[str, Any]]:
    return [
        note_frame(n)
        for n in StaffNote.objects.select_related("author").filter(conversation=conversation)
    ]


def overview(*, viewer: User, now: datetime | None = None) -> dict[str, Any]:
    """The live overview of the line, for coordinators and administrators.

    A fixed number of queries, whatever the number of operators and chats.
    """
    supervisor_check(user=viewer)
    now = now or timezone.now()
    online_ids = online_user_ids(now=now)
    scheduled = scheduled_now(now)
    scheduled_ids = {u.pk for u in scheduled}
    counts = active_chat_counts(online_ids)
    online_users = list(User.objects.filter(pk__in=online_ids).order_by("pseudonym", "username"))
    online = [
        {
            "id": u.pk,
            "pseudonym": u.display_name,
            "discipline": u.discipline,
            "medical": u.discipline in MEDICAL,
            "role": u.role,
            "availability": u.availability,
            "chats": counts.get(u.pk, 0),
            "max_chats": u.chat_limit,
            "scheduled": u.pk in scheduled_ids,
        }
        for u in online_users
    ]
    medical_online = any(row["medical"] for row in online)

    queued = Conversation.objects.filter(status=Status.QUEUED).order_by("queued_at")
    oldest = queued.values_list("queued_at", flat=True).first()
    queue = {
        "length": queued.count(),
        "longest_wait_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
    }

    active_rows = list(
        Conversation.objects.select_related("operator")
        .filter(status=Status.ACTIVE)
        .order_by("accepted_at", "pk")
    )
    active_ids = [c.pk for c in active_rows]
    readers: dict[int, list[str]] = {}
    for r in ReadAlong.objects.select_related("coordinator").filter(
        conversation_id__in=active_ids, ended_at__isnull=True
    ):
        readers.setdefault(r.conversation_id, []).append(r.coordinator.display_name)
    support = list(
        SupportRequest.objects.select_related("operator", "answered_by")
        .filter(conversation_id__in=active_ids)
        .order_by("requested_at")
    )
    support_by_chat = {s.conversation_id: s for s in support}
    active = [
        {
            "id": c.pk,
            "operator_id": c.operator_id,
            "operator_pseudonym": c.operator.display_name if c.operator else None,
            "accepted_at": _iso(c.accepted_at),
            "duration_seconds": max(0, int((now - c.accepted_at).total_seconds()))
            if c.accepted_at
            else 0,
            "audience": c.audience,
            "age": c.age,
            "support_requested": c.pk in support_by_chat,
            "readers": readers.get(c.pk, []),
        }
        for c in active_rows
    ]

    local_midnight = timezone.make_aware(
        datetime.combine(timezone.localdate(now), time(0, 0)), timezone.get_current_timezone()
    )
    missed_today = Conversation.objects.filter(
        status=Status.ENDED,
        end_reason__in=[EndReason.MISSED, EndReason.CLOSED],
        ended_at__gte=local_midnight,
    ).count()

    warnings = []
    if not medical_online:
        warnings.append(
            {
                "code": "no_medical_online",
                "message": _("Er is geen chatmedewerker van de medische discipline online."),
            }
        )
    return {
        "generated_at": now.isoformat(),
        "online": online,
        "scheduled_now": [
            {
                "id": u.pk,
                "pseudonym": u.display_name,
                "discipline": u.discipline,
                "online": u.pk in online_ids,
            }
            for u in scheduled
        ],
        "online_count": len(online),
        "available_count": sum(1 for row in online if row["availability"] == "available"),
        "scheduled_count": len(scheduled),
        "medical_online": medical_online,
        "queue": queue,
        "active": active,
        "missed_today": missed_today,
        "support_requests": [
            {
                "conversation_id": s.conversation_id,
                "operator_pseudonym": s.operator.display_name,
                "requested_at": _iso(s.requested_at),
                "answered_by": s.answered_by.display_name if s.answered_by else None,
            }
            for s in support
            if s.answered_at is None
        ],
        "warnings": warnings,
    }


def transfer_targets(
    *, viewer: User, conversation_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Colleagues who could take this chat now: online, available, with a
    pseudonym and a free place; never the chat's current operator."""
    conversation = conversation_get_for_supervision(user=viewer, conversation_id=conversation_id)
    online_ids = online_user_ids(now=now)
    candidates = list(
        User.objects.filter(pk__in=online_ids, availability=Availability.AVAILABLE, is_active=True)
        .exclude(pk=conversation.operator_id)
        .exclude(pseudonym="")
        .exclude(role=Role.ANALYST)
        .order_by("pseudonym")
    )
    counts = active_chat_counts({u.pk for u in candidates})
    return [
        {
            "id": u.pk,
            "pseudonym": u.display_name,
            "discipline": u.discipline,
            "chats": counts.get(u.pk, 0),
            "max_chats": u.chat_limit,
        }
        for u in candidates
        if counts.get(u.pk, 0) < u.chat_limit
    ]


def open_support_request(*, conversation_id: int) -> SupportRequest | None:
    return (
        SupportRequest.objects.filter(conversation_id=conversation_id, answered_at__isnull=True)
        .order_by("-requested_at")
        .first()
    )
