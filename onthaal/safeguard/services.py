"""Every write of the safeguard: the intake check (blocks and flood hold),
the link between a chat and the visitor's key, prank decisions, blocks, and
their purge.

Decisions and blocks are coordinators' work and each is audited; so is every
read of a transcript for a prank review.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.chat import selectors as chat_selectors
from onthaal.chat.models import Conversation, Message
from onthaal.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from onthaal.safeguard import keys, selectors
from onthaal.safeguard.models import (
    BLOCK_HOURS,
    BlockDuration,
    ConversationVisitor,
    PrankDecision,
    PrankReview,
    VisitorBlock,
)
from onthaal.staff.models import User
from onthaal.text import text_check

logger = logging.getLogger("onthaal.safeguard")

MAX_NOTE_CHARS = 1000
FLOOD_WINDOW_SECONDS = 3600


def _helplines() -> list[dict[str, str | None]]:
    # Imported here: chat.api calls this module when a visitor opens a chat.
    from onthaal.chat.api import HELPLINES

    return HELPLINES


def _note(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("Tekst verwacht."), code="invalid", fields={field: "text"})
    text = text_check(value.strip(), field=field)
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(
            _("Hoogstens %(n)s tekens.") % {"n": MAX_NOTE_CHARS},
            code="note_too_long",
            fields={field: MAX_NOTE_CHARS},
        )
    return text


# --- intake --------------------------------------------------------------------


def _flood_count(*, address: str, now: datetime) -> None:
    """Count one new chat from the client's network in this hour; refuse
    past ``ONTHAAL_FLOOD_CHATS_PER_HOUR`` (0: no limit)."""
    limit = int(getattr(settings, "ONTHAAL_FLOOD_CHATS_PER_HOUR", 10))
    network = keys.network_hash(address=address, now=now)
    if limit <= 0 or not network:
        return
    stamp = int(now.timestamp())
    bucket = stamp // FLOOD_WINDOW_SECONDS
    key = f"safeguard:flood:{network}:{bucket}"
    cache.add(key, 0, timeout=FLOOD_WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=FLOOD_WINDOW_SECONDS + 60)
        count = 1
    if count > limit:
        logger.info("flood hold", extra={"event": "safeguard.flood_hold"})
        raise RateLimited(
            _(
                "Er werden net veel chats gestart vanaf dit netwerk. Probeer het later "
                "opnieuw. Heb je nu dringend hulp nodig? Bel de Zelfmoordlijn op 1813, "
                "of 112 in nood."
            ),
            code="flood_hold",
            retry_after=FLOOD_WINDOW_SECONDS - stamp % FLOOD_WINDOW_SECONDS,
            helplines=_helplines(),
        )


def intake_guard(*, visitor_key: object, client_address: str, now: datetime | None = None) -> str:
    """Check a new chat before it joins the queue; returns the hash of the
    visitor's returning-visitor key ("" when none was sent).

    Refuses, in this order: a malformed key (``invalid_visitor_key``); a key
    under a block in force (``intake_refused``, a calm message that does not
    say "blocked", with the helplines); a network past the flood limit this
    hour (``flood_hold``). ``client_address`` is only hashed, never stored.
    """
    now = now or timezone.now()
    key = keys.visitor_key_check(visitor_key)
    visitor_hash = keys.visitor_key_hash(key) if key else ""
    if selectors.visitor_block_active(visitor_hash=visitor_hash, now=now) is not None:
        logger.info("intake refused", extra={"event": "safeguard.intake_refused"})
        raise PermissionDenied(
            _(
                "Je kan op dit moment geen nieuwe chat starten. Heb je nu dringend hulp "
                "nodig? Bel de Zelfmoordlijn op 1813, of 112 in nood. Je kan ook terecht "
                "bij Awel op 102."
            ),
            code="intake_refused",
            helplines=_helplines(),
        )
    _flood_count(address=client_address, now=now)
    return visitor_hash


def conversation_visitor_link(
    *, conversation: Conversation, visitor_hash: str, now: datetime | None = None
) -> None:
    """Remember which returning-visitor key (hashed) started this chat."""
    if visitor_hash:
        ConversationVisitor.objects.create(
            conversation=conversation, visitor_hash=visitor_hash, linked_at=now or timezone.now()
        )


# --- prank reviews -------------------------------------------------------------


def prank_review_decide(
    *,
    coordinator: User,
    conversation_id: int,
    decision: str,
    note: str = "",
    now: datetime | None = None,
) -> PrankReview:
    """Close the prank review of a chat: ``confirmed`` marks the visitor's
    key (when the chat has one) for ``ONTHAAL_PRANK_MARK_DAYS``, so that
    their next chats show an alert to the operator; ``dismissed`` marks
    nothing. Either way the hold on the transcript ends and retention
    deletes it as usual.

    Preconditions: ``coordinator`` is a coordinator who did not hold the
    chat; the review is still open (``review_closed`` otherwise).
    """
    now = now or timezone.now()
    item = selectors.prank_review_get_for_viewer(
        viewer=coordinator, conversation_id=conversation_id
    )
    if decision not in PrankDecision.values:
        raise InvalidInput(
            _("Kies bevestigen of afwijzen."),
            code="invalid_decision",
            fields={"decision": decision},
        )
    text = _note(note, field="note")
    if item.review is not None:
        raise Conflict(_("Over deze chat werd al beslist."), code="review_closed")
    confirmed = decision == PrankDecision.CONFIRMED
    visitor_hash = selectors.visitor_hash_of(conversation_id=conversation_id) if confirmed else ""
    try:
        with transaction.atomic():
            review = PrankReview.objects.create(
                conversation_id=conversation_id,
                decision=decision,
                visitor_hash=visitor_hash,
                marked_until=now + timedelta(days=selectors.prank_mark_days())
                if visitor_hash
                else None,
                note=text,
                decided_by=coordinator,
                decided_at=now,
            )
            audit_record(
                action=Action.PRANK_REVIEWED,
                actor=coordinator,
                target=f"conversation:{conversation_id}",
                decision=decision,
                marked=bool(visitor_hash),
            )
    except IntegrityError:
        # A colleague decided on the same chat at the same moment.
        raise Conflict(_("Over deze chat werd al beslist."), code="review_closed") from None
    logger.info("prank review of %s: %s", conversation_id, decision)
    return review


def prank_review_transcript_read(*, viewer: User, item: selectors.ReviewItem) -> list[Message]:
    """The messages of a reviewed chat, in order (empty once retention
    deleted them); every read is audited.

    Precondition: ``item`` came from
    :func:`selectors.prank_review_get_for_viewer` for ``viewer``.
    """
    messages = list(Message.objects.filter(conversation_id=item.conversation.pk).order_by("pk"))
    if messages:
        audit_record(
            action=Action.TRANSCRIPT_OPENED,
            actor=viewer,
            target=f"conversation:{item.conversation.pk}",
            purpose="prank_review",
        )
    return messages


# --- blocks --------------------------------------------------------------------


def visitor_block_create(
    *,
    coordinator: User,
    conversation_id: int,
    duration: str,
    reason: str = "",
    now: datetime | None = None,
) -> VisitorBlock:
    """Refuse new chats from the returning-visitor key that started this
    chat, for 24 hours, 7 days or 30 days; the block ends by itself.

    Preconditions: ``coordinator`` is a coordinator; the chat has a visitor
    key (``no_visitor_key``: none was sent, or retention removed it); no
    block on that key is in force (``already_blocked``: lift it first).
    """
    now = now or timezone.now()
    selectors.require_coordinator(coordinator)
    conversation = chat_selectors.conversation_get_for_staff(
        user=coordinator, conversation_id=conversation_id
    )
    if duration not in BlockDuration.values:
        raise InvalidInput(
            _("Kies 24 uur, 7 dagen of 30 dagen."),
            code="invalid_duration",
            fields={"duration": duration},
        )
    text = _note(reason, field="reason")
    with transaction.atomic():
        visitor_hash = selectors.visitor_hash_of(conversation_id=conversation.pk)
        if not visitor_hash:
            raise Conflict(
                _("Van dit gesprek is geen bezoekerssleutel bewaard: blokkeren kan niet."),
                code="no_visitor_key",
            )
        if selectors.visitor_block_active(visitor_hash=visitor_hash, now=now) is not None:
            raise Conflict(
                _("Deze bezoeker is al geblokkeerd. Hef die blokkering eerst op."),
                code="already_blocked",
            )
        block = VisitorBlock.objects.create(
            visitor_hash=visitor_hash,
            conversation=conversation,
            duration=duration,
            reason=text,
            starts_at=now,
            ends_at=now + timedelta(hours=BLOCK_HOURS[BlockDuration(duration)]),
            created_by=coordinator,
        )
        audit_record(
            action=Action.VISITOR_BLOCKED,
            actor=coordinator,
            target=f"block:{block.pk}",
            conversation=conversation.pk,
            duration=duration,
        )
    logger.info("visitor block %s for %s", block.pk, duration)
    return block


def visitor_block_lift(
    *, coordinator: User, block_id: int, now: datetime | None = None
) -> VisitorBlock:
    """End a block before its time (``block_ended`` when it already ended)."""
    now = now or timezone.now()
    block = selectors.visitor_block_get_for_viewer(viewer=coordinator, block_id=block_id)
    with transaction.atomic():
        lifted = VisitorBlock.objects.filter(
            pk=block.pk, lifted_at__isnull=True, ends_at__gt=now
        ).update(lifted_at=now, lifted_by=coordinator)
        if not lifted:
            raise Conflict(_("Deze blokkering is al afgelopen."), code="block_ended")
        audit_record(
            action=Action.VISITOR_UNBLOCKED,
            actor=coordinator,
            target=f"block:{block.pk}",
        )
    block.refresh_from_db()
    return block


# --- retention -----------------------------------------------------------------


def safeguard_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Forget visitor hashes no longer needed; called by retention.

    - a chat's link to its visitor key goes with its transcript
      (``ONTHAAL_TRANSCRIPT_RETENTION_DAYS`` after the chat), unless an open
      prank review holds it (at most ``ONTHAAL_PRANK_HOLD_MAX_DAYS``);
    - a marking's hash goes when the marking ends; a block's when the block
      ended or was lifted. The decisions and blocks themselves stay (audit).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS)
    links, _unused = (
        ConversationVisitor.objects.filter(conversation__ended_at__lt=cutoff)
        .exclude(conversation_id__in=selectors.prank_held_conversation_ids(now=now))
        .delete()
    )
    markings = (
        PrankReview.objects.exclude(visitor_hash="")
        .filter(marked_until__lte=now)
        .update(visitor_hash="")
    )
    blocks = (
        VisitorBlock.objects.exclude(visitor_hash="")
        .filter(Q(ends_at__lte=now) | Q(lifted_at__isnull=False))
        .update(visitor_hash="")
    )
    return {"links": links, "markings": markings, "blocks": blocks}
