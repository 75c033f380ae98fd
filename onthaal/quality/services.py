"""Every write of the chat scan: the draw, the feedback, the audited read.

A draw and a feedback are each one transaction. Only coordinators (and
administrators) draw and review; nobody reviews a chat they took themselves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.chat.models import Message
from onthaal.errors import Conflict, InvalidInput, NotFound
from onthaal.quality import selectors
from onthaal.quality.models import ChatScan, Criterion, ReviewStatus, ScanReview
from onthaal.staff.models import Role, User
from onthaal.text import text_check

logger = logging.getLogger("onthaal.quality")

MAX_PER_OPERATOR = 10
MAX_PERIOD_DAYS = 366
MAX_FEEDBACK_CHARS = 4000
# Seeds stay below 2**53 so that a JSON client (JavaScript numbers) reads
# them back exactly.
SEED_LIMIT = 2**53
MIN_SCORE, MAX_SCORE = 1, 5


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _operator_ids_check(operator_ids: Iterable[int]) -> list[int]:
    ids = list(operator_ids)
    if not all(_is_int(i) for i in ids):
        raise InvalidInput(
            _("Een lijst van id's verwacht."), code="invalid", fields={"operator_ids": "ids"}
        )
    wanted = sorted(set(ids))
    known = set(
        User.objects.filter(pk__in=wanted, is_active=True)
        .exclude(role=Role.ANALYST)
        .values_list("pk", flat=True)
    )
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise InvalidInput(
            _("Onbekende chatmedewerker."),
            code="unknown_operator",
            fields={"operator_ids": unknown},
        )
    return wanted


def chat_scan_draw(
    *,
    coordinator: User,
    period_start: date,
    period_end: date,
    per_operator: int,
    operator_ids: Iterable[int] = (),
    seed: int | None = None,
    now: datetime | None = None,
) -> ChatScan:
    """Draw ``per_operator`` finished chats of each operator in the period
    (both days included, in the helpline's time zone) and open a review for
    each; returns the scan with its seed.

    Preconditions: ``coordinator`` is a coordinator or administrator. The
    candidates are described by :func:`selectors.scan_candidates` (never
    the coordinator's own chats, never a chat drawn before); the pick by
    :func:`selectors.scan_sample`. With ``seed`` given, the same data gives
    the same sample; without, a fresh random seed is stored. A draw that
    finds no chat stores nothing (``no_chats``).
    """
    selectors.require_coordinator(coordinator)
    now = now or timezone.now()
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise InvalidInput(_("Kies een begin- en einddatum."), code="invalid_period")
    if period_end < period_start:
        raise InvalidInput(
            _("Het einde van de periode ligt vóór het begin."), code="invalid_period"
        )
    if (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(
            _("Kies een periode van hoogstens %(n)s dagen.") % {"n": MAX_PERIOD_DAYS},
            code="invalid_period",
        )
    if not _is_int(per_operator) or not 1 <= per_operator <= MAX_PER_OPERATOR:
        raise InvalidInput(
            _("Kies 1 tot %(n)s chats per chatmedewerker.") % {"n": MAX_PER_OPERATOR},
            code="invalid_count",
        )
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not _is_int(seed) or not 0 <= seed < SEED_LIMIT:
        raise InvalidInput(_("De seed is een geheel getal van 0 tot 2^53."), code="invalid_seed")
    wanted = _operator_ids_check(operator_ids)

    try:
        with transaction.atomic():
            candidates = selectors.scan_candidates(
                period_start=period_start,
                period_end=period_end,
                reviewer=coordinator,
                operator_ids=wanted,
            )
            sample = selectors.scan_sample(
                candidates=candidates, seed=seed, per_operator=per_operator
            )
            picked = [pk for chats in sample.values() for pk in chats]
            if not picked:
                raise Conflict(
                    _("Er zijn in deze periode geen afgeronde chats met transcript om te trekken."),
                    code="no_chats",
                )
            scan = ChatScan.objects.create(
                period_start=period_start,
                period_end=period_end,
                per_operator=per_operator,
                operator_ids=wanted,
                seed=seed,
                drawn_by=coordinator,
                drawn_at=now,
            )
            ScanReview.objects.bulk_create(
                ScanReview(scan=scan, conversation_id=pk) for pk in sorted(picked)
            )
    except IntegrityError:
        # Another draw took one of these chats at the same moment.
        raise Conflict(
            _("Een andere trekking nam net dezelfde chats. Probeer opnieuw."),
            code="draw_conflict",
        ) from None
    logger.info("chat scan %s drew %s chats of %s operators", scan.pk, len(picked), len(sample))
    return scan


def _text(value: str, *, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("Tekst verwacht."), code="invalid", fields={field: "text"})
    value = text_check(value.strip(), field=field)
    if len(value) > MAX_FEEDBACK_CHARS:
        raise InvalidInput(
            _("Hoogstens %(n)s tekens per veld.") % {"n": MAX_FEEDBACK_CHARS},
            code="feedback_too_long",
            fields={field: MAX_FEEDBACK_CHARS},
        )
    return value


def _scores_check(scores: Mapping[str, int | None]) -> dict[str, int | None]:
    if not isinstance(scores, Mapping):
        raise InvalidInput(_("Scores verwacht."), code="invalid", fields={"scores": "object"})
    unknown = sorted(set(scores) - set(Criterion.values))
    if unknown:
        raise InvalidInput(
            _("Onbekend criterium."), code="invalid", fields={"scores": ", ".join(unknown)}
        )
    checked: dict[str, int | None] = {}
    for criterion in Criterion.values:
        value = scores.get(criterion)
        if value is not None and (not _is_int(value) or not MIN_SCORE <= value <= MAX_SCORE):
            raise InvalidInput(
                _("Een score is een getal van 1 tot 5, of leeg (niet van toepassing)."),
                code="invalid_score",
                fields={f"scores.{criterion}": value},
            )
        checked[criterion] = value
    return checked


def scan_review_submit(
    *,
    review: ScanReview,
    reviewer: User,
    scores: Mapping[str, int | None],
    strengths: str = "",
    improvements: str = "",
    comment: str = "",
    now: datetime | None = None,
) -> ScanReview:
    """Store the feedback on a drawn chat and close its review: the hold on
    the transcript ends, and retention may then delete it.

    ``scores`` maps each :class:`Criterion` to 1–5, or to None / leaves it
    out when it does not apply. Preconditions: ``reviewer`` is a coordinator
    who did not take the chat; the review is still open (``review_closed``
    otherwise: feedback is given once). At least one score or text.
    """
    selectors.require_coordinator(reviewer)
    now = now or timezone.now()
    checked = _scores_check(scores)
    texts = {
        "strengths": _text(strengths, field="strengths"),
        "improvements": _text(improvements, field="improvements"),
        "comment": _text(comment, field="comment"),
    }
    if all(v is None for v in checked.values()) and not any(texts.values()):
        raise InvalidInput(
            _("Geef minstens één score of een woord feedback."), code="feedback_empty"
        )
    if review.conversation.operator_id == reviewer.pk:
        raise NotFound(_("Deze beoordeling bestaat niet."))
    with transaction.atomic():
        # Conditional on "still open", so two coordinators submitting at once
        # cannot both close it.
        updated = ScanReview.objects.filter(pk=review.pk, status=ReviewStatus.OPEN).update(
            status=ReviewStatus.REVIEWED,
            reviewed_by=reviewer,
            reviewed_at=now,
            **{f"score_{c}": v for c, v in checked.items()},
            **texts,
        )
        if not updated:
            raise Conflict(_("Deze chat is al beoordeeld."), code="review_closed")
    logger.info("chat scan review %s closed", review.pk)
    return selectors.scan_review_get_for_viewer(viewer=reviewer, review_id=review.pk)


def scan_review_transcript_read(*, viewer: User, review: ScanReview) -> list[Message]:
    """The messages of a reviewed chat, in order; empty once retention
    deleted them. The only way the chat scan reads a transcript, so that
    every read by someone other than the chat's own operator is audited
    (a write, hence here and not in the selectors).

    Precondition: ``review`` came from
    :func:`selectors.scan_review_get_for_viewer` for ``viewer``.
    """
    messages = list(Message.objects.filter(conversation_id=review.conversation_id).order_by("pk"))
    if messages and review.conversation.operator_id != viewer.pk:
        audit_record(
            action=Action.TRANSCRIPT_OPENED,
            actor=viewer,
            target=f"conversation:{review.conversation_id}",
            purpose="chatscan",
            review=review.pk,
        )
    return messages
