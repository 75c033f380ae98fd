"""Every write to a conversation goes through this module.

The conversation's state machine lives here, in one place:

    queued ──accept──▶ active ──end──▶ ended (visitor_ended, operator_ended, broke_off)
      └────────────────end───────────▶ ended (missed, closed)

Transitions are conditional UPDATEs (``WHERE status = ...``), so two
operators taking the same chat, or a sweeper and a visitor ending it at once,
cannot both win, on SQLite and on PostgreSQL alike. Broadcasts go out only
after the transaction commits (``transaction.on_commit``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.assignment.selectors import offered_to_a_colleague
from onthaal.assignment.services import assignment_kick, offers_settle
from onthaal.broadcast import (
    broadcast_on_commit,
    coalesced_on_commit,
    send_from_loop,
    send_now,
)
from onthaal.chat import events, selectors
from onthaal.chat.closing import intake_closing_check
from onthaal.chat.devices import device_class_from_user_agent
from onthaal.chat.models import (
    Audience,
    Conversation,
    ConversationEvent,
    EndReason,
    EventKind,
    Gender,
    Message,
    ReferralSource,
    Sender,
    Status,
    hash_token,
)
from onthaal.errors import Conflict, InvalidInput, PermissionDenied
from onthaal.hours.selectors import opening_status
from onthaal.ops import loopdb
from onthaal.ops.dbcalls import database_sync_to_async
from onthaal.staff.models import Availability, User
from onthaal.text import text_check

logger = logging.getLogger("onthaal.chat")

MIN_AGE = 4
MAX_AGE = 99
MAX_COMMENT_CHARS = 2000
MAX_CLIENT_ID_CHARS = 64


@dataclass(frozen=True)
class Intake:
    """The visitor's intake answers; every one may be left empty."""

    audience: str = ""
    age: int | None = None
    gender: str = ""
    referral_source: str = ""

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if self.audience not in {"", *Audience.values}:
            errors["audience"] = _("Kies leerling of ouder.")
        if self.gender not in {"", *Gender.values}:
            errors["gender"] = _("Kies meisje, jongen of X.")
        if self.referral_source not in {"", *ReferralSource.values}:
            errors["referral_source"] = _("Kies een van de mogelijkheden.")
        if self.age is not None and not MIN_AGE <= self.age <= MAX_AGE:
            errors["age"] = _("Geef een leeftijd tussen %(min)s en %(max)s.") % {
                "min": MIN_AGE,
                "max": MAX_AGE,
            }
        if errors:
            raise InvalidInput(_("Niet alle antwoorden zijn geldig."), fields=errors)


def _event(
    conversation: Conversation,
    kind: EventKind,
    *,
    at: datetime,
    actor: User | None = None,
    **data: Any,
) -> None:
    ConversationEvent.objects.create(
        conversation=conversation, kind=kind, at=at, actor=actor, data=data
    )


def _conversation_changed(conversation: Conversation) -> None:
    broadcast_on_commit(
        events.conversation_group(conversation.pk),
        {"type": "conversation.changed", "conversation_id": conversation.pk},
    )


def queue_announce() -> None:
    """Tell operators and queued visitors that the queue (or what the wait
    estimate depends on) changed.

    After commit, the new state is read once (a handful of queries, whatever
    the queue's length) and broadcast: the consoles get the first
    ``QUEUE_LIST_LIMIT`` entries and the total, the waiting visitors every
    waiting sort key and the estimate's inputs, from which each visitor's
    consumer finds its own position without a query. In a server process the
    changes of a quarter second share one broadcast (a dozen visitors arrive
    at once when the chat opens).
    """
    coalesced_on_commit("queue", _queue_broadcast)


def _queue_broadcast() -> None:
    # The clock before the reads: a consumer ignores a state read before the
    # one it last showed (two processes' broadcasts may arrive out of order).
    at = time.time()
    try:
        now = timezone.now()
        keys = selectors.queue_keys()
        entries = selectors.queue_entries(now=now, limit=events.QUEUE_LIST_LIMIT)
        estimate = selectors.wait_estimate_inputs(now=now)
    except Exception:
        # After commit: the write stands; clients catch up at the next change.
        logger.exception("queue broadcast: reading the queue failed")
        return
    send_now(
        events.QUEUE_GROUP,
        {"type": "queue.changed", "queue": entries, "queue_total": len(keys)},
    )
    send_now(
        events.QUEUE_VISITORS_GROUP,
        {"type": "queue.positions", "at": at, "keys": keys, "estimate": estimate},
    )


@transaction.atomic
def conversation_open(
    *,
    intake: Intake,
    user_agent: str,
    language: str,
    touch: bool = False,
    now: datetime | None = None,
) -> tuple[Conversation, str]:
    """Put a new visitor in the queue. Returns the conversation and the
    visitor's secret token (shown once; only its hash is stored).

    Preconditions: the chat is open now. The user agent is used only to
    derive the device class and is not kept.
    """
    now = now or timezone.now()
    intake.validate()
    status = opening_status(at=now)
    if not status.is_open:
        raise Conflict(_("De chat is nu gesloten."), code="chat_closed")
    intake_closing_check(at=now, status=status)
    token = secrets.token_urlsafe(32)
    conversation = Conversation.objects.create(
        status=Status.QUEUED,
        audience=intake.audience,
        age=intake.age,
        gender=intake.gender,
        referral_source=intake.referral_source,
        device_class=device_class_from_user_agent(user_agent, touch=touch),
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        queued_at=now,
        visitor_seen_at=now,
        token_hash=hash_token(token),
    )
    _event(conversation, EventKind.QUEUED, at=now)
    queue_announce()
    assignment_kick()
    return conversation, token


def _operator_capacity_check(operator: User) -> None:
    if not operator.can_chat:
        raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
    if operator.availability != Availability.AVAILABLE:
        raise Conflict(
            _("Zet jezelf eerst op beschikbaar om een chat aan te nemen."),
            code="operator_not_available",
        )
    if not operator.pseudonym:
        raise Conflict(
            _("Kies eerst een pseudoniem: dat is de enige naam die de bezoeker ziet."),
            code="pseudonym_required",
        )
    active = Conversation.objects.filter(operator=operator, status=Status.ACTIVE).count()
    if active >= operator.chat_limit:
        raise Conflict(
            _("Je hebt al %(n)s lopende chats.") % {"n": active},
            code="operator_at_capacity",
        )


def _queue_empty(everyone_waiting: Any) -> Conflict:
    if everyone_waiting.exists():
        return Conflict(_("Wie nu wacht, wordt al aan een collega aangeboden."), code="all_offered")
    return Conflict(_("De wachtrij is leeg."), code="queue_empty")


@transaction.atomic
def conversation_accept(
    *, conversation_id: int | None, operator: User, now: datetime | None = None
) -> Conversation:
    """Give a queued conversation to ``operator``: the one named, or else the
    one that has waited longest.

    Preconditions: the operator is available, has a pseudonym and holds fewer
    than their ``chat_limit`` active chats (``User.max_chats``, else
    ``ONTHAAL_MAX_CHATS_PER_OPERATOR``).
    """
    now = now or timezone.now()
    # Lock the operator's row so that two tabs of one operator cannot both
    # pass the capacity check (SQLite serialises writers anyway).
    operator = User.objects.select_for_update().get(pk=operator.pk)
    _operator_capacity_check(operator)
    queued = Conversation.objects.filter(status=Status.QUEUED)
    # Automatic assignment: a chat offered to a colleague is theirs to answer
    # until the offer ends (onthaal/assignment); every other chat can be taken.
    offered_elsewhere = offered_to_a_colleague(operator=operator, now=now)
    if (
        conversation_id is not None
        and queued.filter(offered_elsewhere, pk=conversation_id).exists()
    ):
        raise Conflict(
            _("Deze chat wordt net aan een collega aangeboden."), code="offered_to_colleague"
        )
    everyone_waiting = queued
    queued = queued.filter(~offered_elsewhere)
    row_locks = transaction.get_connection().features.has_select_for_update_skip_locked
    if conversation_id is not None:
        named = queued.filter(pk=conversation_id)
        if row_locks:
            # Wait for a colleague who is taking this very visitor (a short
            # transaction): then the answer is exact, "taken", or ours if
            # theirs rolled back.
            named = named.select_for_update()
        candidates = list(named.values_list("pk", flat=True))
        if not candidates:
            raise Conflict(_("Deze chat staat niet meer in de wachtrij."), code="not_in_queue")
    elif row_locks:
        # PostgreSQL: lock the longest-waiting visitor that no colleague is
        # taking at this moment (SKIP LOCKED), so that operators in several
        # processes taking at once each get a different visitor instead of
        # queueing behind one row lock and then losing the race.
        candidates = list(
            queued.order_by("queued_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:1]
        )
        if not candidates:
            if queued.exists():
                # Everyone waiting is being taken by a colleague right now.
                raise Conflict(_("Een collega was je net voor."), code="not_in_queue")
            raise _queue_empty(everyone_waiting)
    else:
        # SQLite: transactions are IMMEDIATE, so writers are serialised and
        # the conditional UPDATE below decides.
        candidates = list(queued.order_by("queued_at", "pk").values_list("pk", flat=True)[:20])
        if not candidates:
            raise _queue_empty(everyone_waiting)
    for pk in candidates:
        # The final guard on every database: only a row still queued changes.
        taken = Conversation.objects.filter(pk=pk, status=Status.QUEUED).update(
            status=Status.ACTIVE, operator=operator, accepted_at=now
        )
        if taken:
            conversation = Conversation.objects.select_related("operator").get(pk=pk)
            _event(conversation, EventKind.ACCEPTED, at=now, actor=operator)
            offers_settle(conversation_id=pk, operator=operator, now=now)
            logger.info(
                "conversation %s accepted",
                conversation.pk,
                extra={"event": "conversation.accepted", "conversation_id": conversation.pk},
            )
            _conversation_changed(conversation)
            # The operator's consoles are not yet in the conversation's group.
            broadcast_on_commit(
                events.operator_group(operator.pk),
                {"type": "conversation.assigned", "conversation_id": conversation.pk},
            )
            queue_announce()
            return conversation
    raise Conflict(_("Een collega was je net voor."), code="not_in_queue")


@transaction.atomic
def conversation_end(
    *,
    conversation: Conversation,
    reason: EndReason,
    actor: User | None = None,
    now: datetime | None = None,
) -> Conversation:
    """End a queued or active conversation.

    A visitor who ends while still queued left the queue unanswered: the
    reason becomes ``missed``. Ending an ended conversation is a no-op that
    returns it unchanged (a visitor may press "end" twice on a bad line).
    """
    now = now or timezone.now()
    current = Conversation.objects.get(pk=conversation.pk)
    if current.status == Status.ENDED:
        return current
    if current.status == Status.QUEUED and reason in {
        EndReason.VISITOR_ENDED,
        EndReason.BROKE_OFF,
    }:
        reason = EndReason.MISSED
    if current.status == Status.ACTIVE and reason in {EndReason.MISSED, EndReason.CLOSED}:
        raise Conflict(_("Een lopende chat kan niet zo eindigen."), code="invalid_transition")
    ended = Conversation.objects.filter(pk=current.pk, status=current.status).update(
        status=Status.ENDED, end_reason=reason, ended_at=now
    )
    if not ended:
        # Someone else changed it first; report what it is now.
        return Conversation.objects.get(pk=current.pk)
    current.refresh_from_db()
    extra: dict[str, Any] = {}
    if current.accepted_at is None:
        # A missed chat: how long the visitor waited before leaving the queue.
        extra["waited_seconds"] = max(0, int((now - current.queued_at).total_seconds()))
        offers_settle(conversation_id=current.pk, operator=None, now=now)
    _event(current, EventKind.ENDED, at=now, actor=actor, reason=str(reason), **extra)
    _conversation_changed(current)
    # A freed operator slot or a shorter queue changes every wait estimate.
    queue_announce()
    assignment_kick()
    logger.info("conversation %s ended: %s", current.pk, reason)
    return current


def conversation_reassign(
    *,
    conversation_id: int,
    from_operator_id: int,
    to_operator: User,
    kind: EventKind,
    actor: User,
    now: datetime | None = None,
) -> Conversation | None:
    """Hand an active conversation from one operator to another (a transfer
    or a coordinator's takeover); ``onthaal.supervision.services`` checks who
    may, and to whom, before calling this.

    A conditional UPDATE (``WHERE status = active AND operator_id = from``):
    of two coordinators taking over at once, or a transfer racing the end of
    the chat, only one wins; the loser gets None. Messages are rows of the
    conversation, not of the operator, so none is lost: the new operator's
    console joins the conversation's group and then reads everything stored.

    Must run inside the caller's transaction (broadcasts go out on commit).
    """
    now = now or timezone.now()
    moved = Conversation.objects.filter(
        pk=conversation_id, status=Status.ACTIVE, operator_id=from_operator_id
    ).update(operator=to_operator)
    if not moved:
        return None
    conversation = Conversation.objects.select_related("operator").get(pk=conversation_id)
    _event(
        conversation,
        kind,
        at=now,
        actor=actor,
        from_operator_id=from_operator_id,
        to_operator_id=to_operator.pk,
    )
    logger.info(
        "conversation %s %s",
        conversation_id,
        kind,
        extra={"event": f"conversation.{kind}", "conversation_id": conversation_id},
    )
    # The visitor's page shows the new pseudonym; the new operator's consoles
    # open the chat; the old operator's consoles let it go.
    _conversation_changed(conversation)
    broadcast_on_commit(
        events.operator_group(to_operator.pk),
        {"type": "conversation.assigned", "conversation_id": conversation_id},
    )
    broadcast_on_commit(
        events.operator_group(from_operator_id),
        {
            "type": "conversation.released",
            "conversation_id": conversation_id,
            "kind": str(kind),
            "to_pseudonym": to_operator.display_name,
        },
    )
    # Each operator's count of chats changed: so does every wait estimate.
    queue_announce()
    return conversation


def _validate_body(body: str) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_("Een bericht is tekst."), code="invalid_message")
    text_check(body, field="body")
    stripped = body.strip()
    if not stripped:
        raise InvalidInput(_("Een leeg bericht kan niet verstuurd worden."), code="empty_message")
    limit = settings.ONTHAAL_MAX_MESSAGE_CHARS
    if len(body) > limit:
        raise InvalidInput(
            _("Een bericht mag hoogstens %(n)s tekens lang zijn.") % {"n": limit},
            code="message_too_long",
            max_chars=limit,
        )
    return stripped


def _validate_client_id(client_id: str) -> str:
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS
        or not client_id.isascii()
        or not client_id.isprintable()
    ):
        raise InvalidInput(
            _("Elk bericht heeft een eigen client_id (1 tot 64 tekens)."),
            code="invalid_client_id",
        )
    return client_id


def message_post(
    *,
    conversation: Conversation,
    sender: Sender,
    body: str,
    client_id: str,
    author: User | None = None,
    now: datetime | None = None,
) -> tuple[Message, bool]:
    """Store a message, exactly once per ``client_id``; returns it and whether
    it was new. A resend of a stored ``client_id`` returns the stored message
    and broadcasts it again (its first broadcast may have been lost).

    Preconditions: the conversation is active (a visitor may also write while
    queued, so that the operator reads it on accepting); an operator posts
    only in a conversation assigned to them.
    """
    row = _message_row(
        conversation=conversation,
        sender=sender,
        body=body,
        client_id=client_id,
        author=author,
        now=now or timezone.now(),
    )
    refusal: Exception | None = None
    if connection.vendor == "postgresql":
        message = _message_insert_one_statement(**row)
    else:
        message, refusal = _message_insert_checked(**row)
    if message is not None:
        broadcast_on_commit(
            events.conversation_group(conversation.pk),
            {"type": "message.new", "message": events.message_frame(message)},
        )
        return message, True
    # Not stored: this client_id is stored already (a resend, or the same
    # frame on two sockets at once), or the chat does not take it. A resend
    # may come after the chat ended or moved on: a message the client saw
    # acknowledged is still answered as stored.
    existing = Message.objects.filter(
        conversation_id=conversation.pk, sender=sender, client_id=client_id
    ).first()
    if existing is None:
        raise refusal or _message_refusal(conversation.pk, sender)
    # The process that stored it may have died between the commit and the
    # broadcast (the "crash gap", docs/performance.md): send it again. Each
    # socket forwards a message id once (consumers), and pages keep one copy
    # per id.
    broadcast_on_commit(
        events.conversation_group(existing.conversation_id),
        {"type": "message.new", "message": events.message_frame(existing)},
    )
    return existing, False


def _message_row(
    *,
    conversation: Conversation,
    sender: Sender,
    body: str,
    client_id: str,
    author: User | None,
    now: datetime,
) -> dict[str, Any]:
    """The checked arguments of the insert (_message_insert_one_statement,
    _message_insert_checked)."""
    client_id = _validate_client_id(client_id)
    text = _validate_body(body)
    if sender == Sender.OPERATOR and author is None:
        raise PermissionDenied(_("Dit is niet jouw chat."))
    # The common case in as few statements as the engine allows
    # (docs/performance.md): a resend of a stored client_id is rare, so it
    # is found by the unique constraint, not looked up first.
    return {
        "conversation_id": conversation.pk,
        "sender": sender,
        "author": author,
        "text": text,
        "client_id": client_id,
        "now": now,
    }


async def message_post_async(
    *,
    conversation: Conversation,
    sender: Sender,
    body: str,
    client_id: str,
    author: User | None = None,
) -> dict[str, Any]:
    """:func:`message_post` from the websocket consumers, on their event
    loop; returns the stored message's frame.

    On PostgreSQL a new message's one statement runs on the event loop's own
    connection (onthaal/ops/loopdb.py: no database thread, a prepared
    statement) and is broadcast from the loop. Everything else (SQLite, a
    resend, a refusal) is :func:`message_post` in a database thread.
    """
    if loopdb.enabled():
        row = _message_row(
            conversation=conversation,
            sender=sender,
            body=body,
            client_id=client_id,
            author=author,
            now=timezone.now(),
        )
        found = await loopdb.fetchone(*_message_insert_sql(**row), order=conversation.pk)
        if found is not None:
            frame = events.message_frame_of(
                id=found[0],
                conversation_id=conversation.pk,
                sender=sender,
                body=row["text"],
                client_id=row["client_id"],
                created_at=row["now"],
            )
            if send_from_loop(
                events.conversation_group(conversation.pk),
                {"type": "message.new", "message": frame},
            ):
                # Its readers in this process have it: they write it out
                # first, and the sender's acknowledgement follows, one turn
                # of the event loop later.
                await asyncio.sleep(0)
            return frame
    message, _created = await database_sync_to_async(message_post)(
        conversation=conversation, sender=sender, body=body, client_id=client_id, author=author
    )
    return events.message_frame(message)


def _message_allowed(sender: Sender) -> list[Status]:
    # A visitor may also write while queued, so that the operator reads it
    # on accepting.
    return [Status.QUEUED, Status.ACTIVE] if sender == Sender.VISITOR else [Status.ACTIVE]


def _message_refusal(conversation_id: int, sender: Sender) -> Exception:
    """Why a message was not stored, when no stored copy explains it."""
    status = Conversation.objects.filter(pk=conversation_id).values_list("status", flat=True)
    if sender == Sender.OPERATOR and status.first() in _message_allowed(sender):
        return PermissionDenied(_("Dit is niet jouw chat."))
    return Conflict(_("Deze chat is afgelopen."), code="conversation_ended")


def _message_insert_one_statement(
    *,
    conversation_id: int,
    sender: Sender,
    author: User | None,
    text: str,
    client_id: str,
    now: datetime,
) -> Message | None:
    """PostgreSQL: the conversation's check, the visitor's presence and the
    insert in one statement (:func:`_message_insert_sql`); None when nothing
    was stored."""
    sql, params = _message_insert_sql(
        conversation_id=conversation_id,
        sender=sender,
        author=author,
        text=text,
        client_id=client_id,
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    message = Message(
        id=row[0],
        conversation_id=conversation_id,
        sender=sender,
        author=author if sender == Sender.OPERATOR else None,
        body=text,
        client_id=client_id,
        created_at=now,
    )
    message._state.adding = False
    message._state.db = connection.alias
    return message


def _message_insert_sql(
    *,
    conversation_id: int,
    sender: Sender,
    author: User | None,
    text: str,
    client_id: str,
    now: datetime,
) -> tuple[str, list[Any]]:
    """PostgreSQL's one statement for a message: returns the new id, or no
    row when nothing was stored (the chat does not take it, or the client_id
    is stored already).

    The operator's check locks the conversation's row (``FOR UPDATE``): a
    transfer or takeover (a conditional UPDATE of operator_id) then waits
    for this message or this message waits for it, so the old operator
    cannot post after losing the chat.
    """
    allowed = [str(status) for status in _message_allowed(sender)]
    if sender == Sender.VISITOR:
        check_params: list[Any] = [now, conversation_id, allowed]
        author_id = None
    else:
        assert author is not None
        check_params = [conversation_id, allowed, author.pk]
        author_id = author.pk
    return _message_insert_text(sender == Sender.VISITOR), [
        *check_params,
        str(sender),
        author_id,
        # Encrypted here (EncryptedTextField); no database access.
        Message._meta.get_field("body").get_prep_value(text),
        client_id,
        now,
    ]


@functools.cache
def _message_insert_text(by_visitor: bool) -> str:
    """The text of :func:`_message_insert_sql`'s statement (made once)."""
    conversation_table = Conversation._meta.db_table
    fields = {f.name: f for f in Message._meta.concrete_fields}
    columns = [fields[name].column for name in MESSAGE_INSERTED]
    if by_visitor:
        check = (
            f"UPDATE {conversation_table} SET visitor_seen_at = %s"  # noqa: S608
            " WHERE id = %s AND status = ANY(%s) RETURNING id"
        )
    else:
        check = (
            f"SELECT id FROM {conversation_table}"  # noqa: S608
            " WHERE id = %s AND status = ANY(%s) AND operator_id = %s FOR UPDATE"
        )
    # The unique constraint chat_msg_idempotent.
    idempotent = ", ".join(fields[name].column for name in ("conversation", "sender", "client_id"))
    placeholders = ", ".join(["%s"] * (len(columns) - 1))
    # Only names from the models go into the text; every value is a parameter.
    return (
        f"WITH allowed AS ({check})"  # noqa: S608
        f" INSERT INTO {Message._meta.db_table} ({', '.join(columns)})"
        f" SELECT id, {placeholders} FROM allowed"
        f" ON CONFLICT ({idempotent}) DO NOTHING RETURNING id"
    )


# The columns _message_insert_one_statement writes, the conversation first.
MESSAGE_INSERTED = ("conversation", "sender", "author", "body", "client_id", "created_at")


def _message_insert_checked(
    *,
    conversation_id: int,
    sender: Sender,
    author: User | None,
    text: str,
    client_id: str,
    now: datetime,
) -> tuple[Message | None, Exception | None]:
    """The same through the ORM (SQLite, which serialises writers anyway):
    the stored message, or None and why not."""
    try:
        with transaction.atomic():
            if sender == Sender.VISITOR:
                # The check and the visitor's presence in one UPDATE.
                allowed = Conversation.objects.filter(
                    pk=conversation_id, status__in=_message_allowed(sender)
                ).update(visitor_seen_at=now)
                if not allowed:
                    return None, Conflict(_("Deze chat is afgelopen."), code="conversation_ended")
            else:
                assert author is not None
                row = (
                    Conversation.objects.select_for_update()
                    .filter(pk=conversation_id)
                    .values_list("status", "operator_id")
                    .first()
                )
                if row is None or row[0] != Status.ACTIVE:
                    return None, Conflict(_("Deze chat is afgelopen."), code="conversation_ended")
                if row[1] != author.pk:
                    return None, PermissionDenied(_("Dit is niet jouw chat."))
            message = Message.objects.create(
                conversation_id=conversation_id,
                sender=sender,
                author=author if sender == Sender.OPERATOR else None,
                body=text,
                client_id=client_id,
                created_at=now,
            )
    except IntegrityError:
        return None, None  # stored already: the constraint kept one
    return message, None


def conversation_receipt(
    *,
    conversation: Conversation,
    side: Sender,
    delivered_id: int | None = None,
    read_id: int | None = None,
    operator: User | None = None,
) -> dict[str, int] | None:
    """Record how far ``side`` has received and read; values only grow.
    Returns the receipt frame broadcast, or None when nothing moved.

    With ``operator``, only that operator's own chat takes the operator's
    receipt (a coordinator reading along marks nothing read). One statement
    when the receipt moves something (docs/performance.md).
    """
    values = _receipt_values(side, delivered_id, read_id)
    if not values:
        return None
    receipt = _receipt_advance(conversation.pk, values, operator)
    if receipt is None:
        # Nothing moved. A receipt cannot point past the last message:
        # marking future messages read would show them as read before anyone
        # saw them.
        last_id = (
            Message.objects.filter(conversation_id=conversation.pk).aggregate(last=Max("pk"))[
                "last"
            ]
            or 0
        )
        if max(values.values()) > last_id:
            raise InvalidInput(_("Ongeldig bericht-id."), code="invalid_message_id")
        return None
    frame = {"conversation_id": conversation.pk, **receipt}
    broadcast_on_commit(
        events.conversation_group(conversation.pk), {"type": "receipt", "receipt": frame}
    )
    return frame


async def conversation_receipt_async(
    *,
    conversation: Conversation,
    side: Sender,
    delivered_id: int | None = None,
    read_id: int | None = None,
    operator: User | None = None,
) -> dict[str, int] | None:
    """:func:`conversation_receipt` from the websocket consumers, on their
    event loop: on PostgreSQL a receipt that moves something is one
    statement on the loop's own connection (onthaal/ops/loopdb.py); the
    rest, and SQLite, is :func:`conversation_receipt` in a database thread.
    """
    if loopdb.enabled():
        values = _receipt_values(side, delivered_id, read_id)
        if not values:
            return None
        row = await loopdb.fetchone(
            *_receipt_sql(conversation.pk, values, operator), order=conversation.pk
        )
        if row is not None:
            frame = {
                "conversation_id": conversation.pk,
                **dict(zip(RECEIPT_FIELDS, row, strict=True)),
            }
            send_from_loop(
                events.conversation_group(conversation.pk), {"type": "receipt", "receipt": frame}
            )
            return frame
    receipt: dict[str, int] | None = await database_sync_to_async(conversation_receipt)(
        conversation=conversation,
        side=side,
        delivered_id=delivered_id,
        read_id=read_id,
        operator=operator,
    )
    return receipt


def _receipt_values(side: Sender, delivered_id: int | None, read_id: int | None) -> dict[str, int]:
    """The checked receipt fields to move, by column."""
    fields = {
        Sender.VISITOR: ("visitor_delivered_id", "visitor_read_id"),
        Sender.OPERATOR: ("operator_delivered_id", "operator_read_id"),
    }[side]
    values: dict[str, int] = {}
    for field, value in zip(fields, (delivered_id, read_id), strict=True):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**62:
            raise InvalidInput(_("Ongeldig bericht-id."), code="invalid_message_id")
        values[field] = value
    return values


RECEIPT_FIELDS = (
    "visitor_delivered_id",
    "visitor_read_id",
    "operator_delivered_id",
    "operator_read_id",
)


def _receipt_advance(
    conversation_id: int, values: dict[str, int], operator: User | None
) -> dict[str, int] | None:
    """Move the receipt fields in ``values`` forward, only if the messages
    exist; return all four receipt fields, or None when nothing moved.

    Raw SQL because the ORM's UPDATE returns no row: ``UPDATE … RETURNING``
    (PostgreSQL; SQLite 3.35+) does the check, the write and the read back
    in one statement.
    """
    with connection.cursor() as cursor:
        cursor.execute(*_receipt_sql(conversation_id, values, operator))
        row = cursor.fetchone()
    return None if row is None else dict(zip(RECEIPT_FIELDS, row, strict=True))


def _receipt_sql(
    conversation_id: int, values: dict[str, int], operator: User | None
) -> tuple[str, list[Any]]:
    """The statement of :func:`_receipt_advance`: it returns the four
    receipt fields, or no row when nothing moved."""
    conversation_table = Conversation._meta.db_table
    message_table = Message._meta.db_table
    sets = ", ".join(
        f"{field} = CASE WHEN {field} < %s THEN %s ELSE {field} END" for field in values
    )
    moves = " OR ".join(f"{field} < %s" for field in values)
    params: list[Any] = []
    for value in values.values():
        params += [value, value]
    params.append(conversation_id)
    params += list(values.values())
    owner = ""
    if operator is not None:
        owner = " AND operator_id = %s"
        params.append(operator.pk)
    params += [conversation_id, max(values.values())]
    # Only names from this module and the models go into the text; every
    # value is a parameter.
    sql = (
        f"UPDATE {conversation_table} SET {sets} WHERE id = %s AND ({moves}){owner}"  # noqa: S608
        f" AND EXISTS (SELECT 1 FROM {message_table} WHERE conversation_id = %s AND id >= %s)"
        f" RETURNING {', '.join(RECEIPT_FIELDS)}"
    )
    return sql, params


def conversation_visitor_seen(*, conversation_id: int, now: datetime | None = None) -> None:
    """Note that the visitor is still there (a heartbeat, a reconnect)."""
    Conversation.objects.filter(
        pk=conversation_id, status__in=[Status.QUEUED, Status.ACTIVE]
    ).update(visitor_seen_at=now or timezone.now())


def conversations_visitor_seen(*, conversation_ids: list[int], now: datetime | None = None) -> None:
    """:func:`conversation_visitor_seen` for many at once (the pings of a few
    seconds, in one UPDATE)."""
    if conversation_ids:
        Conversation.objects.filter(
            pk__in=conversation_ids, status__in=[Status.QUEUED, Status.ACTIVE]
        ).update(visitor_seen_at=now or timezone.now())


@transaction.atomic
def conversation_rate(
    *,
    conversation: Conversation,
    rating: int,
    comment: str = "",
    now: datetime | None = None,
) -> Conversation:
    """Store the visitor's 1–5 star rating of an accepted, ended chat, once."""
    now = now or timezone.now()
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_("Geef 1 tot 5 sterren."), code="invalid_rating", fields={"rating": ""})
    comment = text_check((comment or "").strip(), field="comment")
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(
            _("Je reactie mag hoogstens %(n)s tekens lang zijn.") % {"n": MAX_COMMENT_CHARS},
            code="comment_too_long",
        )
    current = Conversation.objects.get(pk=conversation.pk)
    if current.status != Status.ENDED or current.accepted_at is None:
        raise Conflict(_("Je kan een chat beoordelen zodra hij afgelopen is."), code="not_ratable")
    updated = Conversation.objects.filter(pk=current.pk, rating__isnull=True).update(
        rating=rating, rating_comment=comment
    )
    if not updated:
        raise Conflict(_("Je gaf deze chat al een beoordeling."), code="already_rated")
    current.refresh_from_db()
    _event(current, EventKind.RATED, at=now, rating=rating)
    return current


async def conversation_typing(*, conversation_id: int, side: Sender, active: bool) -> None:
    """Tell the other side that someone is typing. Ephemeral: nothing is stored."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            events.conversation_group(conversation_id),
            {
                "type": "typing",
                "typing": {"conversation_id": conversation_id, "side": side, "active": active},
            },
        )


def conversations_sweep(*, now: datetime | None = None) -> int:
    """End what nobody will continue; safe to run in every process at once.

    - a visitor unseen for longer than the reconnect grace: an active chat
      broke off, a queued one was missed;
    - at closing time, whoever is still queued: closed.
    Returns how many conversations it ended.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ONTHAAL_RECONNECT_GRACE_SECONDS)
    stale = Q(visitor_seen_at__lt=cutoff)
    if not opening_status(at=now).is_open:
        stale |= Q(status=Status.QUEUED)
    candidates = list(
        Conversation.objects.filter(status__in=[Status.QUEUED, Status.ACTIVE]).filter(stale)
    )
    ended = 0
    for conversation in candidates:
        gone = conversation.visitor_seen_at < cutoff
        if conversation.status == Status.ACTIVE:
            reason = EndReason.BROKE_OFF
        else:
            reason = EndReason.MISSED if gone else EndReason.CLOSED
        result = conversation_end(conversation=conversation, reason=reason, now=now)
        ended += int(result.end_reason == reason and result.ended_at == now)
    return ended
