"""Reads of chat scans and their reviews, with the access checks in front.

Access, in one place:

- drawing, listing and reading scans, and reviewing: coordinators (and
  administrators) only; anyone else gets ``forbidden``;
- one review (its transcript, intake, registration and feedback):
  :func:`scan_review_get_for_viewer`: a coordinator any review of a chat
  that is not their own; an operator only the *closed* reviews of their own
  chats; everything else is "not found", the same as an unknown id;
- analysts: nothing here.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat.models import Conversation, Message, Origin, Sender, Status
from onthaal.errors import NotFound, PermissionDenied
from onthaal.quality.models import ChatScan, Criterion, ReviewStatus, ScanReview
from onthaal.registration.models import Registration, Topic
from onthaal.staff.models import Role, User

DEFAULT_HOLD_MAX_DAYS = 90


def scan_hold_max_days() -> int:
    """How long after a chat ended an open review may keep its transcript
    (``ONTHAAL_SCAN_HOLD_MAX_DAYS``, default 90): the upper bound of a hold."""
    return int(getattr(settings, "ONTHAAL_SCAN_HOLD_MAX_DAYS", DEFAULT_HOLD_MAX_DAYS))


def scan_held_conversation_ids(*, now: datetime) -> QuerySet[ScanReview, dict[str, Any]]:
    """The conversations whose transcript retention must keep for now: those
    with an open review that ended less than the hold maximum ago. For use as
    a subquery (``pk__in=...``)."""
    bound = now - timedelta(days=scan_hold_max_days())
    return ScanReview.objects.filter(
        status=ReviewStatus.OPEN, conversation__ended_at__gte=bound
    ).values("conversation_id")


def scan_hold_until(conversation: Conversation) -> datetime | None:
    """The latest moment an open review keeps this chat's transcript."""
    if conversation.ended_at is None:
        return None
    return conversation.ended_at + timedelta(days=scan_hold_max_days())


# --- access --------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound(_("Deze beoordeling bestaat niet."))


def require_coordinator(user: User) -> None:
    """Chat scans are a coordinator's task: anyone else is refused."""
    if not user.is_active or not user.is_coordinator:
        raise PermissionDenied(_("Alleen coördinatoren doen chatscans."))


def require_staff_who_chat(user: User) -> None:
    """An operator's own feedback: everyone who takes chats (not analysts)."""
    if not user.is_active or not user.can_chat:
        raise PermissionDenied(_("Deze pagina is er voor chatmedewerkers."))


def chat_scan_get_for_viewer(*, viewer: User, scan_id: int) -> ChatScan:
    require_coordinator(viewer)
    scan = ChatScan.objects.select_related("drawn_by").filter(pk=scan_id).first()
    if scan is None:
        raise NotFound(_("Deze chatscan bestaat niet."))
    return scan


def scan_review_get_for_viewer(*, viewer: User, review_id: int) -> ScanReview:
    """One review, for whoever may read it; "not found" for everyone else."""
    review = (
        ScanReview.objects.select_related("scan", "conversation__operator", "reviewed_by")
        .annotate(has_transcript=_has_transcript())
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise _not_found()
    if not viewer.is_active or not viewer.can_chat:
        raise _not_found()
    if review.conversation.operator_id == viewer.pk:
        # Their own chat: only the finished feedback, never the open review
        # (a coordinator whose chat was drawn does not review it either).
        if review.status != ReviewStatus.REVIEWED:
            raise _not_found()
        return review
    if not viewer.is_coordinator:
        raise _not_found()
    return review


# --- drawing -------------------------------------------------------------------


def period_bounds(*, period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """[start, end) of a period of whole days in the helpline's time zone."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(period_start, time.min, tzinfo=zone),
        datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _has_transcript() -> Exists:
    return Exists(Message.objects.filter(conversation_id=OuterRef("conversation_id")))


def scan_candidates(
    *,
    period_start: date,
    period_end: date,
    reviewer: User,
    operator_ids: Iterable[int] = (),
) -> dict[int, list[int]]:
    """The chats a draw may pick, per operator id, each list in id order.

    A candidate is a live chat that ended in the period after an operator
    had accepted it, still has its transcript, was never drawn before, and
    was not taken by ``reviewer``. ``operator_ids`` (if any) limits the
    operators.
    """
    start, end = period_bounds(period_start=period_start, period_end=period_end)
    rows = (
        Conversation.objects.filter(
            origin=Origin.LIVE,
            status=Status.ENDED,
            accepted_at__isnull=False,
            operator__isnull=False,
            ended_at__gte=start,
            ended_at__lt=end,
            scan_review__isnull=True,
        )
        .filter(Exists(Message.objects.filter(conversation_id=OuterRef("pk"))))
        .exclude(operator_id=reviewer.pk)
    )
    wanted = sorted(set(operator_ids))
    if wanted:
        rows = rows.filter(operator_id__in=wanted)
    candidates: dict[int, list[int]] = defaultdict(list)
    for operator_id, pk in rows.order_by("operator_id", "pk").values_list("operator_id", "pk"):
        candidates[operator_id].append(pk)
    return dict(candidates)


def scan_sample(
    *, candidates: Mapping[int, list[int]], seed: int, per_operator: int
) -> dict[int, list[int]]:
    """Pick ``per_operator`` chats (or all, if fewer) of each operator.

    Reproducible: each operator's pick comes from ``random.Random`` seeded
    with the draw's seed and that operator's id, over their chats in id
    order. So the same seed and the same chats give the same sample, and an
    operator's pick does not change when the draw is limited to fewer
    operators. (Not for secrets: this only has to be fair and repeatable.)
    """
    sample: dict[int, list[int]] = {}
    for operator_id in sorted(candidates):
        chats = sorted(candidates[operator_id])
        rng = random.Random(f"{seed}:{operator_id}")  # noqa: S311 (see docstring)
        sample[operator_id] = sorted(rng.sample(chats, min(per_operator, len(chats))))
    return sample


def scan_operator_choices(*, reviewer: User) -> list[User]:
    """The staff a draw may be limited to: everyone who takes chats, not the reviewer."""
    return list(
        User.objects.filter(is_active=True)
        .exclude(role=Role.ANALYST)
        .exclude(pk=reviewer.pk)
        .order_by("pseudonym", "username")
    )


# --- lists ---------------------------------------------------------------------


def chat_scans_list() -> list[ChatScan]:
    """Every scan, newest first, with its number of reviews and open ones."""
    return list(
        ChatScan.objects.select_related("drawn_by").annotate(
            review_count=Count("reviews"),
            open_count=Count("reviews", filter=Q(reviews__status=ReviewStatus.OPEN)),
        )
    )


def scan_reviews_of_scan(*, scan: ChatScan) -> list[ScanReview]:
    return list(
        ScanReview.objects.select_related("conversation__operator", "reviewed_by")
        .annotate(has_transcript=_has_transcript())
        .filter(scan=scan)
        .order_by("conversation__operator__pseudonym", "conversation__operator_id", "pk")
    )


def scan_reviews_for_operator(*, operator: User) -> list[ScanReview]:
    """The closed reviews of the operator's own chats, newest feedback first."""
    return list(
        ScanReview.objects.select_related("conversation__operator", "reviewed_by")
        .annotate(has_transcript=_has_transcript())
        .filter(conversation__operator=operator, status=ReviewStatus.REVIEWED)
        .order_by("-reviewed_at", "-pk")
    )


def scan_review_registration(*, review: ScanReview) -> Registration | None:
    """The operator's registration of the reviewed chat (topics with their domain)."""
    return (
        Registration.objects.prefetch_related(
            Prefetch("topics", queryset=Topic.objects.select_related("domain")), "results"
        )
        .filter(conversation_id=review.conversation_id)
        .first()
    )


# --- JSON frames ---------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _operator(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "pseudonym": user.display_name}


def scan_frame(scan: ChatScan, *, reviews: list[ScanReview] | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "id": scan.pk,
        "period_start": _iso(scan.period_start),
        "period_end": _iso(scan.period_end),
        "per_operator": scan.per_operator,
        "operator_ids": scan.operator_ids,
        "seed": scan.seed,
        "drawn_by": _operator(scan.drawn_by),
        "drawn_at": _iso(scan.drawn_at),
    }
    if reviews is None:
        frame["review_count"] = getattr(scan, "review_count", None)
        frame["open_count"] = getattr(scan, "open_count", None)
    else:
        frame["reviews"] = [review_summary_frame(r) for r in reviews]
    return frame


def feedback_frame(review: ScanReview) -> dict[str, Any] | None:
    if review.status != ReviewStatus.REVIEWED:
        return None
    return {
        "scores": {c: review.score(c) for c in Criterion.values},
        "strengths": review.strengths,
        "improvements": review.improvements,
        "comment": review.comment,
        "reviewed_by": _operator(review.reviewed_by),
        "reviewed_at": _iso(review.reviewed_at),
    }


def review_summary_frame(review: ScanReview) -> dict[str, Any]:
    conversation = review.conversation
    return {
        "id": review.pk,
        "scan_id": review.scan_id,
        "conversation_id": conversation.pk,
        "operator": _operator(conversation.operator),
        "ended_at": _iso(conversation.ended_at),
        "status": review.status,
        "has_transcript": bool(getattr(review, "has_transcript", False)),
        "hold_until": (
            _iso(scan_hold_until(conversation)) if review.status == ReviewStatus.OPEN else None
        ),
        "feedback": feedback_frame(review),
    }


def conversation_summary_frame(conversation: Conversation) -> dict[str, Any]:
    """The chat as a reviewer sees it: intake answers and times, no visitor identity."""
    return {
        "id": conversation.pk,
        "audience": conversation.audience,
        "age": conversation.age,
        "gender": conversation.gender,
        "referral_source": conversation.referral_source,
        "device_class": conversation.device_class,
        "language": conversation.language,
        "queued_at": _iso(conversation.queued_at),
        "accepted_at": _iso(conversation.accepted_at),
        "ended_at": _iso(conversation.ended_at),
        "end_reason": conversation.end_reason,
        "rating": conversation.rating,
        "operator": _operator(conversation.operator),
    }


def registration_summary_frame(registration: Registration | None) -> dict[str, Any] | None:
    if registration is None:
        return None
    return {
        "topics": [
            {"id": t.pk, "name": t.name, "domain": t.domain.code} for t in registration.topics.all()
        ],
        "results": [{"id": r.pk, "name": r.name} for r in registration.results.all()],
        "prank_suspected": registration.prank_suspected,
        "note": registration.note,
    }


def transcript_frame(
    messages: list[Message], *, conversation: Conversation
) -> list[dict[str, Any]]:
    operator_name = conversation.operator.display_name if conversation.operator else ""
    return [
        {
            "id": m.pk,
            "sender": m.sender,
            "name": operator_name if m.sender == Sender.OPERATOR else _("Bezoeker"),
            "body": m.body,
            "created_at": _iso(m.created_at),
        }
        for m in messages
    ]
