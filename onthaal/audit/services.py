"""The only writer of the audit log."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from onthaal.audit.models import Action, AuditEntry
from onthaal.staff.models import User


def audit_record(
    *,
    action: Action,
    actor: User | None = None,
    actor_name: str = "",
    target: str = "",
    **detail: Any,
) -> AuditEntry:
    """Append one entry. ``detail`` must hold no message text and nothing
    that identifies a visitor."""
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_name=actor_name or (actor.username if actor else ""),
        action=action,
        target=target[:100],
        detail=detail,
    )


def audit_transcript_opened(*, user: User, conversation_id: int, operator_id: int | None) -> None:
    """Someone other than the operator who held the chat read its messages."""
    if operator_id != user.pk:
        audit_record(
            action=Action.TRANSCRIPT_OPENED, actor=user, target=f"conversation:{conversation_id}"
        )
