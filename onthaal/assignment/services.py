"""Automatic assignment: offering queued chats to operators, and their answers.

With ``ONTHAAL_ASSIGNMENT=auto`` every queued visitor, oldest first, is
offered to the least-loaded available operator (``selectors.operators_by_load``).
The offer is theirs alone for ``ONTHAAL_OFFER_TIMEOUT_SECONDS``: they accept
(through ``chat.services.conversation_accept``, the same race-free path as
taking a chat by hand) or decline; unanswered, it expires. Either way the
visitor never left the queue, so they keep their place, and the next round
offers them to someone else: an operator who declined or let the offer
expire gets that same chat again only after one more time-out has passed
(so that a lone operator on duty is asked again, but not at once).

Safe with several processes assigning at once:

- at most one open offer per conversation (a partial unique constraint);
- each offer is made in its own short transaction that locks the operator's
  row (as ``conversation_accept`` does) and then the conversation's row with
  SKIP LOCKED on PostgreSQL, so that the load check and the insert see no
  concurrent change; the lock order (operator, then conversation) is the
  same as in ``conversation_accept``, so the two cannot deadlock. On SQLite
  transactions are IMMEDIATE: writers are serialised.
- answers and expiry are conditional UPDATEs (``WHERE outcome = 'open'``).

The queue stays in order: a round stops at the first visitor nobody can
take, so a younger visitor is never offered before an older one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.assignment import selectors
from onthaal.assignment.models import Offer, Outcome
from onthaal.broadcast import broadcast_on_commit
from onthaal.chat import events
from onthaal.chat.models import Conversation, Status
from onthaal.errors import Conflict
from onthaal.staff.models import Availability, Role, User

logger = logging.getLogger("onthaal.assignment")

# How many queued visitors one round looks at. A round runs every few
# seconds and after each queue change, so a longer queue is reached soon.
MAX_OFFERS_PER_ROUND = 50
# How many operators one offer tries when the first choices are taken by a
# concurrent round in another process.
CANDIDATES_PER_OFFER = 5


def _timeout() -> timedelta:
    return timedelta(seconds=settings.ONTHAAL_OFFER_TIMEOUT_SECONDS)


def _offer_closed(offer: Offer) -> None:
    broadcast_on_commit(
        events.operator_group(offer.operator_id),
        {
            "type": "offer.closed",
            "offer": {
                "id": offer.pk,
                "conversation_id": offer.conversation_id,
                "outcome": offer.outcome,
            },
        },
    )


def _close(offer: Offer, outcome: Outcome, *, now: datetime) -> bool:
    """Close one open offer; False when it was no longer open."""
    closed = Offer.objects.filter(pk=offer.pk, outcome=Outcome.OPEN).update(
        outcome=outcome, answered_at=now
    )
    if closed:
        offer.outcome = outcome
        offer.answered_at = now
        _offer_closed(offer)
    return bool(closed)


def assignment_kick() -> None:
    """After the current transaction commits, run an assignment round (auto
    mode only): called when the queue or an operator's load changed, so that
    a visitor need not wait for the next sweep."""
    if not selectors.assignment_is_auto():
        return

    def run() -> None:
        try:
            offers_assign()
        except Exception:
            # The sweeper's next round repairs a failed one; the change that
            # kicked this off has committed and must not look failed.
            logger.exception("assignment round failed")

    transaction.on_commit(run)


def offers_settle(*, conversation_id: int, operator: User | None, now: datetime) -> None:
    """The conversation left the queue: ``operator`` took it (their open offer,
    if any, is accepted) or it ended (``operator`` None). Every other open
    offer of it is withdrawn. Called by ``chat.services`` inside its
    transaction."""
    for offer in Offer.objects.filter(conversation_id=conversation_id, outcome=Outcome.OPEN):
        taken_by_them = operator is not None and offer.operator_id == operator.pk
        _close(offer, Outcome.ACCEPTED if taken_by_them else Outcome.WITHDRAWN, now=now)


def offer_accept(*, offer_id: int, operator: User, now: datetime | None = None) -> Conversation:
    """Accept an offer: the chat becomes the operator's.

    Preconditions: the offer is the operator's own, open and not past its
    time; the operator may accept a chat now (``conversation_accept``).
    """
    from onthaal.chat import services as chat_services

    now = now or timezone.now()
    offer = selectors.offer_get_for_operator(operator=operator, offer_id=offer_id)
    if offer.outcome != Outcome.OPEN or offer.expires_at <= now:
        raise Conflict(_("Dit aanbod is niet meer geldig."), code="offer_closed")
    try:
        # Settles the offer as accepted (offers_settle) in the same transaction.
        return chat_services.conversation_accept(
            conversation_id=offer.conversation_id, operator=operator, now=now
        )
    except Conflict as exc:
        if exc.code == "not_in_queue":
            with transaction.atomic():
                _close(offer, Outcome.WITHDRAWN, now=now)
        raise


@transaction.atomic
def offer_decline(*, offer_id: int, operator: User, now: datetime | None = None) -> Offer:
    """Decline an offer: the chat stays in the queue in its place and is
    offered to someone else."""
    now = now or timezone.now()
    offer = selectors.offer_get_for_operator(operator=operator, offer_id=offer_id)
    if not _close(offer, Outcome.DECLINED, now=now):
        raise Conflict(_("Dit aanbod is niet meer geldig."), code="offer_closed")
    logger.info(
        "offer %s declined",
        offer.pk,
        extra={"event": "offer.declined", "conversation_id": offer.conversation_id},
    )
    assignment_kick()
    return offer


def offers_expire(*, now: datetime | None = None) -> int:
    """Close the open offers nobody can answer any more; returns how many.

    - past their time: expired (the visitor keeps their place in the queue);
    - the chat is no longer queued, or the operator is no longer available
      (paused, offline, deactivated): withdrawn.

    Runs in every mode, so that switching back to manual leaves no offer
    blocking a chat.
    """
    now = now or timezone.now()
    unavailable = ~Q(operator__availability=Availability.AVAILABLE) | Q(operator__is_active=False)
    stale = list(
        Offer.objects.filter(outcome=Outcome.OPEN)
        .filter(Q(expires_at__lte=now) | ~Q(conversation__status=Status.QUEUED) | unavailable)
        .select_related("conversation", "operator")
    )
    closed = 0
    # Few rows (at most one per operator slot); each is its own conditional
    # UPDATE, so that a concurrent answer wins or loses cleanly.
    for offer in stale:
        outcome = Outcome.EXPIRED if offer.expires_at <= now else Outcome.WITHDRAWN
        with transaction.atomic():
            if _close(offer, outcome, now=now):
                closed += 1
                logger.info(
                    "offer %s %s",
                    offer.pk,
                    outcome,
                    extra={"event": f"offer.{outcome}", "conversation_id": offer.conversation_id},
                )
    return closed


def _make_offer(*, conversation_id: int, now: datetime) -> Offer | bool | None:
    """Offer one queued conversation. Returns the offer; None when the
    conversation needs none now (taken, gone, offered already, locked by a
    concurrent round); False when no operator can take it."""
    cooldown = now - _timeout()
    recently_refused = Offer.objects.filter(
        conversation_id=conversation_id,
        operator=OuterRef("pk"),
        outcome__in=[Outcome.DECLINED, Outcome.EXPIRED],
        answered_at__gt=cooldown,
    )
    candidates = list(
        selectors.operators_by_load(now=now)
        .filter(~Exists(recently_refused))
        .values_list("pk", flat=True)[:CANDIDATES_PER_OFFER]
    )
    if not candidates:
        return False
    row_locks = transaction.get_connection().features.has_select_for_update_skip_locked
    for operator_id in candidates:
        with transaction.atomic():
            # Lock order as in conversation_accept: the operator, then the chat.
            operator = (
                User.objects.select_for_update()
                .filter(
                    pk=operator_id,
                    is_active=True,
                    availability=Availability.AVAILABLE,
                )
                .exclude(role=Role.ANALYST)
                .exclude(pseudonym="")
                .first()
            )
            if operator is None:
                continue
            if selectors.operator_load(operator_id=operator.pk, now=now) >= operator.chat_limit:
                continue  # a concurrent round or a manual take filled the last slot
            conversation = Conversation.objects.filter(pk=conversation_id, status=Status.QUEUED)
            if row_locks:
                conversation = conversation.select_for_update(skip_locked=True)
            # Evaluated as a list, so that the row lock is taken (as in
            # conversation_accept); a row a colleague is taking is skipped.
            if not list(conversation.values_list("pk", flat=True)[:1]):
                return None
            if Offer.objects.filter(conversation_id=conversation_id, outcome=Outcome.OPEN).exists():
                return None
            try:
                with transaction.atomic():
                    offer = Offer.objects.create(
                        conversation_id=conversation_id,
                        operator=operator,
                        offered_at=now,
                        expires_at=now + _timeout(),
                    )
            except IntegrityError:
                return None  # another process offered it a moment ago
            offer = Offer.objects.select_related("conversation__operator").get(pk=offer.pk)
            broadcast_on_commit(
                events.operator_group(operator.pk),
                {"type": "offer.new", "offer": selectors.offer_frame(offer)},
            )
            logger.info(
                "conversation %s offered to %s",
                conversation_id,
                operator.pk,
                extra={"event": "offer.made", "conversation_id": conversation_id},
            )
            return offer
    return False


def offers_assign(*, now: datetime | None = None) -> int:
    """One assignment round (auto mode only; 0 otherwise): close stale
    offers, then offer each queued visitor without an open offer, oldest
    first, to the least-loaded available operator. Returns the offers made.

    Safe to run in every process at once (see the module docstring).
    """
    if not selectors.assignment_is_auto():
        return 0
    now = now or timezone.now()
    offers_expire(now=now)
    waiting = list(
        Conversation.objects.filter(status=Status.QUEUED)
        .filter(~Exists(Offer.objects.filter(conversation=OuterRef("pk"), outcome=Outcome.OPEN)))
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:MAX_OFFERS_PER_ROUND]
    )
    made = 0
    # One short transaction per offer (not one for the round), so that
    # locks are held briefly and rounds in several processes interleave.
    for conversation_id in waiting:
        result = _make_offer(conversation_id=conversation_id, now=now)
        if result is False:
            # Nobody can take this visitor now. Stop rather than offer a
            # younger visitor first: whoever waits longest goes first, also
            # when the only free operator just let this one's offer lapse.
            break
        made += int(result is not None)
    return made
