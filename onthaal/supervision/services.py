"""Every write of supervision: presence, support requests, reading along,
whispers, takeover and transfer.

Who may do what is checked here (and in ``selectors``), not only in the
adapters. The change of a chat's operator itself is
``chat.services.conversation_reassign``: a conditional UPDATE, so two
coordinators taking over at once, or a transfer racing the end of the chat,
cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.audit.services import audit_transcript_opened
from onthaal.broadcast import broadcast_on_commit
from onthaal.chat import events
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, ConversationEvent, EventKind, Status
from onthaal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onthaal.staff.models import Availability, User
from onthaal.supervision import selectors
from onthaal.supervision.models import (
    PRESENCE_TIMEOUT_SECONDS,
    ConsoleConnection,
    NoteKind,
    ReadAlong,
    StaffNote,
    SupportRequest,
)
from onthaal.text import text_check

MAX_NOTE_CHARS = 2000
# Rows of consoles whose process died without closing them.
STALE_CONNECTION_SECONDS = 10 * 60


def overview_announce() -> None:
    """Tell every open overview that something it shows changed."""
    broadcast_on_commit(events.OVERVIEW_GROUP, {"type": "overview.changed"})


def _readers_announce(conversation_id: int) -> None:
    broadcast_on_commit(
        events.staff_conversation_group(conversation_id),
        {"type": "supervision.readers", "conversation_id": conversation_id},
    )


# --- presence ----------------------------------------------------------------------


@transaction.atomic
def presence_open(*, user: User, channel_name: str, now: datetime | None = None) -> None:
    """A console socket opened: the user is online from now."""
    now = now or timezone.now()
    ConsoleConnection.objects.filter(
        seen_at__lt=now - timedelta(seconds=STALE_CONNECTION_SECONDS)
    ).delete()
    ConsoleConnection.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "opened_at": now, "seen_at": now}
    )
    overview_announce()


def presence_touch(*, channel_name: str, now: datetime | None = None) -> None:
    """The console's heartbeat (its ping, every 20 s)."""
    presences_touch(channel_names=[channel_name], now=now)


def presences_touch(*, channel_names: list[str], now: datetime | None = None) -> None:
    """:func:`presence_touch` for many consoles at once (the pings of a few
    seconds in one process, in one UPDATE)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=PRESENCE_TIMEOUT_SECONDS)
    rows = ConsoleConnection.objects.filter(channel_name__in=channel_names)
    with transaction.atomic():
        # A row that had already expired makes the user reappear: tell the overview.
        revived = rows.filter(seen_at__lt=stale).exists()
        rows.update(seen_at=now)
        if revived:
            overview_announce()


@transaction.atomic
def presence_close(*, channel_name: str) -> None:
    """A console socket closed."""
    ConsoleConnection.objects.filter(channel_name=channel_name).delete()
    overview_announce()


# --- support, reading along, whispers --------------------------------------------


def _active_check(conversation: Conversation) -> None:
    if conversation.status != Status.ACTIVE:
        raise Conflict(_("Dit gesprek loopt niet (meer)."), code="conversation_not_active")


@transaction.atomic
def support_request(
    *, conversation_id: int, operator: User, now: datetime | None = None
) -> SupportRequest:
    """The operator of a live chat asks a coordinator for support. Asking
    again while a request is open returns that request."""
    now = now or timezone.now()
    conversation = selectors.conversation_get_for_supervision(
        user=operator, conversation_id=conversation_id
    )
    if conversation.operator_id != operator.pk:
        raise PermissionDenied(
            _("Alleen wie de chat voert, vraagt ondersteuning."), code="not_your_chat"
        )
    _active_check(conversation)
    existing = selectors.open_support_request(conversation_id=conversation.pk)
    if existing is not None:
        return existing
    request = SupportRequest.objects.create(
        conversation=conversation, operator=operator, requested_at=now
    )
    ConversationEvent.objects.create(
        conversation=conversation, kind=EventKind.SUPPORT_REQUESTED, at=now, actor=operator
    )
    broadcast_on_commit(
        events.SUPPORT_GROUP,
        {
            "type": "support.requested",
            "support": {
                "conversation_id": conversation.pk,
                "operator_pseudonym": operator.display_name,
                "requested_at": now.isoformat(),
            },
        },
    )
    broadcast_on_commit(
        events.staff_conversation_group(conversation.pk),
        {"type": "supervision.support", "conversation_id": conversation.pk, "requested": True},
    )
    overview_announce()
    return request


@transaction.atomic
def read_along_start(
    *, conversation_id: int, coordinator: User, now: datetime | None = None
) -> Conversation:
    """A coordinator opens a live chat to read along. Audited as a transcript
    opened; the operator's console shows who reads along; an open request
    for support is answered by it."""
    now = now or timezone.now()
    conversation = selectors.conversation_get_for_supervisor(
        user=coordinator, conversation_id=conversation_id
    )
    _active_check(conversation)
    if conversation.operator_id == coordinator.pk:
        raise Conflict(_("Dit is je eigen chat."), code="own_chat")
    audit_transcript_opened(
        user=coordinator, conversation_id=conversation.pk, operator_id=conversation.operator_id
    )
    if not ReadAlong.objects.filter(
        conversation=conversation, coordinator=coordinator, ended_at__isnull=True
    ).exists():
        try:
            with transaction.atomic():
                ReadAlong.objects.create(
                    conversation=conversation, coordinator=coordinator, started_at=now
                )
        except IntegrityError:
            pass  # a second tab of the same coordinator opened it at the same moment
    SupportRequest.objects.filter(conversation=conversation, answered_at__isnull=True).update(
        answered_by=coordinator, answered_at=now
    )
    _readers_announce(conversation.pk)
    overview_announce()
    return conversation


@transaction.atomic
def read_along_stop(
    *, conversation_id: int, coordinator: User, now: datetime | None = None
) -> None:
    """The coordinator stops reading along (closes the chat, or their page)."""
    now = now or timezone.now()
    stopped = ReadAlong.objects.filter(
        conversation_id=conversation_id, coordinator=coordinator, ended_at__isnull=True
    ).update(ended_at=now)
    if stopped:
        _readers_announce(conversation_id)
        overview_announce()


def _note_body(body: Any) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_("Een bericht is tekst."), code="invalid_message")
    text_check(body, field="body")
    text = body.strip()
    if not text:
        raise InvalidInput(_("Een leeg bericht kan niet verstuurd worden."), code="empty_message")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(
            _("Een bericht mag hoogstens %(n)s tekens lang zijn.") % {"n": MAX_NOTE_CHARS},
            code="message_too_long",
            max_chars=MAX_NOTE_CHARS,
        )
    return text


@transaction.atomic
def whisper_post(
    *, conversation_id: int, author: User, body: str, now: datetime | None = None
) -> StaffNote:
    """A whisper: staff-only text in a live chat (a coordinator to the
    operator, or the operator back). Stored encrypted; sent only to the
    chat's staff group, which no visitor socket ever joins."""
    now = now or timezone.now()
    text = _note_body(body)
    conversation = selectors.conversation_get_for_supervision(
        user=author, conversation_id=conversation_id
    )
    _active_check(conversation)
    note = StaffNote.objects.create(
        conversation=conversation,
        kind=NoteKind.WHISPER,
        author=author,
        body=text,
        created_at=now,
    )
    broadcast_on_commit(
        events.staff_conversation_group(conversation.pk),
        {"type": "whisper.new", "whisper": selectors.note_frame(note)},
    )
    return note


def _release_read_along(conversation_id: int, user: User, now: datetime) -> None:
    """Whoever becomes the chat's operator no longer reads along in it."""
    ReadAlong.objects.filter(
        conversation_id=conversation_id, coordinator=user, ended_at__isnull=True
    ).update(ended_at=now)
    SupportRequest.objects.filter(conversation_id=conversation_id, answered_at__isnull=True).update(
        answered_by=user, answered_at=now
    )
    _readers_announce(conversation_id)


# --- takeover and transfer ---------------------------------------------------------


@transaction.atomic
def conversation_take_over(
    *,
    conversation_id: int,
    coordinator: User,
    from_operator_id: int | None = None,
    now: datetime | None = None,
) -> Conversation:
    """A coordinator takes a live chat over: they become its operator. The
    visitor sees only the new pseudonym; the former operator's console lets
    the chat go. Of two coordinators taking over at once, one wins.

    ``from_operator_id`` is the operator the coordinator saw holding the chat
    (the overview sends it): if someone else holds it by now, the takeover
    is refused instead of taking the chat from a colleague who just took it.
    """
    now = now or timezone.now()
    coordinator = User.objects.select_for_update().get(pk=coordinator.pk)
    conversation = selectors.conversation_get_for_supervisor(
        user=coordinator, conversation_id=conversation_id
    )
    _active_check(conversation)
    if conversation.operator_id == coordinator.pk:
        raise Conflict(_("Je voert dit gesprek al."), code="already_yours")
    if not coordinator.pseudonym:
        raise Conflict(
            _("Kies eerst een pseudoniem: dat is de enige naam die de bezoeker ziet."),
            code="pseudonym_required",
        )
    if from_operator_id is not None and from_operator_id != conversation.operator_id:
        raise Conflict(
            _("Dit gesprek is intussen overgenomen of beëindigd."), code="conversation_changed"
        )
    assert conversation.operator_id is not None
    taken = chat_services.conversation_reassign(
        conversation_id=conversation.pk,
        from_operator_id=conversation.operator_id,
        to_operator=coordinator,
        kind=EventKind.TAKEN_OVER,
        actor=coordinator,
        now=now,
    )
    if taken is None:
        raise Conflict(
            _("Dit gesprek is intussen overgenomen of beëindigd."), code="conversation_changed"
        )
    _release_read_along(conversation.pk, coordinator, now)
    overview_announce()
    return taken


def _target_check(target: User) -> None:
    if not target.is_active or not target.can_chat:
        raise InvalidInput(
            _("Deze medewerker neemt geen chats aan."),
            code="target_cannot_chat",
            fields={"operator_id": "role"},
        )
    if target.availability != Availability.AVAILABLE:
        raise Conflict(
            _("%(name)s is nu niet beschikbaar.") % {"name": target.display_name},
            code="target_not_available",
        )
    if not target.pseudonym:
        raise Conflict(
            _("%(name)s heeft nog geen pseudoniem.") % {"name": target.display_name},
            code="target_not_available",
        )
    if target.pk not in selectors.online_user_ids():
        raise Conflict(
            _("%(name)s heeft de console niet open.") % {"name": target.display_name},
            code="target_not_online",
        )
    held = Conversation.objects.filter(operator=target, status=Status.ACTIVE).count()
    if held >= target.chat_limit:
        raise Conflict(
            _("%(name)s voert al het maximum aantal chats.") % {"name": target.display_name},
            code="target_at_capacity",
        )


@transaction.atomic
def conversation_transfer(
    *,
    conversation_id: int,
    actor: User,
    to_operator_id: int,
    note: str = "",
    now: datetime | None = None,
) -> Conversation:
    """Hand a live chat to another available operator, with a note only
    staff see. ``actor`` is the chat's operator or a coordinator.

    Refused when the target is not a chat role, not available, has no
    console open or already holds the maximum number of chats. The target's
    row is locked, so two transfers to the last free place cannot both land.
    """
    now = now or timezone.now()
    conversation = selectors.conversation_get_for_supervision(
        user=actor, conversation_id=conversation_id
    )
    if conversation.operator_id != actor.pk and not actor.is_coordinator:
        raise NotFound(_("Dit gesprek bestaat niet."))
    _active_check(conversation)
    text = text_check((note or "").strip(), field="note") if note else ""
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(
            _("Een notitie mag hoogstens %(n)s tekens lang zijn.") % {"n": MAX_NOTE_CHARS},
            code="note_too_long",
        )
    if isinstance(to_operator_id, bool) or not isinstance(to_operator_id, int):
        raise InvalidInput(_("Kies een collega."), code="invalid_target")
    target = User.objects.select_for_update().filter(pk=to_operator_id).first()
    if target is None:
        raise InvalidInput(
            _("Deze medewerker bestaat niet."),
            code="invalid_target",
            fields={"operator_id": "unknown"},
        )
    if target.pk == conversation.operator_id:
        raise Conflict(_("Deze medewerker voert het gesprek al."), code="already_theirs")
    _target_check(target)
    assert conversation.operator_id is not None
    moved = chat_services.conversation_reassign(
        conversation_id=conversation.pk,
        from_operator_id=conversation.operator_id,
        to_operator=target,
        kind=EventKind.TRANSFERRED,
        actor=actor,
        now=now,
    )
    if moved is None:
        raise Conflict(
            _("Dit gesprek is intussen overgenomen of beëindigd."), code="conversation_changed"
        )
    if text:
        transfer_note = StaffNote.objects.create(
            conversation=moved,
            kind=NoteKind.TRANSFER_NOTE,
            author=actor,
            body=text,
            created_at=now,
        )
        # After conversation.assigned on the same group: the console has the
        # chat open by the time the note arrives.
        broadcast_on_commit(
            events.operator_group(target.pk),
            {"type": "whisper.new", "whisper": selectors.note_frame(transfer_note)},
        )
    _release_read_along(moved.pk, target, now)
    overview_announce()
    return moved
