"""Reads of the taxonomy and of registrations."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from onthaal.chat.models import Conversation
from onthaal.registration.models import Domain, Registration, Result, Topic


def taxonomy_tree() -> dict[str, Any]:
    """Active domains with their active topics, and the active results."""
    domains = Domain.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "topics", queryset=Topic.objects.filter(is_active=True).order_by("position", "name")
        )
    )
    return {
        "domains": [
            {
                "id": d.pk,
                "code": d.code,
                "name": d.name,
                "topics": [{"id": t.pk, "name": t.name} for t in d.topics.all()],
            }
            for d in domains
        ],
        "results": [
            {"id": r.pk, "code": r.code, "name": r.name}
            for r in Result.objects.filter(is_active=True)
        ],
    }


def registration_frame(registration: Registration) -> dict[str, Any]:
    return {
        "conversation_id": registration.conversation_id,
        "topic_ids": sorted(t.pk for t in registration.topics.all()),
        "result_ids": sorted(r.pk for r in registration.results.all()),
        "prank_suspected": registration.prank_suspected,
        "note": registration.note,
        "created_at": registration.created_at.isoformat(),
        "updated_at": registration.updated_at.isoformat(),
    }


def registration_for_conversation(*, conversation: Conversation) -> Registration | None:
    return (
        Registration.objects.prefetch_related("topics", "results")
        .filter(conversation=conversation)
        .first()
    )
