"""Pages of the chat scan: the coordinator's scans and reviews, and each
operator's own feedback. Server-rendered, no script: plain forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from onthaal.errors import NotFound, PermissionDenied, ServiceError
from onthaal.quality import selectors, services
from onthaal.quality.forms import DrawForm, FeedbackForm
from onthaal.quality.models import Criterion, ReviewStatus, ScanReview, Score
from onthaal.staff.models import User


def _staff_page[View: Callable[..., HttpResponse]](view: View) -> View:
    """Signed in, never cached, and access errors as Django's 403 and 404."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapper  # type: ignore[return-value]


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


def _feedback_rows(review: ScanReview) -> list[dict[str, Any]]:
    rows = []
    for criterion in Criterion:
        value = review.score(criterion.value)
        rows.append(
            {
                "label": criterion.label,
                "value": value,
                "text": Score(value).label if value is not None else _("niet van toepassing"),
            }
        )
    return rows


@_staff_page
def overview(request: HttpRequest) -> HttpResponse:
    """Coordinators: the scans and the form for a new draw. Operators go to
    their own feedback; analysts are refused."""
    user = _user(request)
    selectors.require_staff_who_chat(user)
    if not user.is_coordinator:
        return redirect("quality:my_feedback")
    form = DrawForm(
        request.POST if request.method == "POST" else None,
        operators=selectors.scan_operator_choices(reviewer=user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            scan = services.chat_scan_draw(
                coordinator=user,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                per_operator=form.cleaned_data["per_operator"],
                operator_ids=form.cleaned_data["operator_ids"],
                seed=form.cleaned_data["seed"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Chatscan getrokken."))
            return redirect("quality:scan", scan_id=scan.pk)
    return render(
        request,
        "quality/overview.html",
        {"form": form, "scans": selectors.chat_scans_list(), "nav": "scans"},
    )


@_staff_page
def scan_detail(request: HttpRequest, scan_id: int) -> HttpResponse:
    scan = selectors.chat_scan_get_for_viewer(viewer=_user(request), scan_id=scan_id)
    reviews = selectors.scan_reviews_of_scan(scan=scan)
    for review in reviews:
        review.hold_until = selectors.scan_hold_until(review.conversation)  # type: ignore[attr-defined]
    return render(
        request,
        "quality/scan.html",
        {
            "scan": scan,
            "reviews": reviews,
            "open_count": sum(r.status == ReviewStatus.OPEN for r in reviews),
            "nav": "scans",
        },
    )


@_staff_page
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """One drawn chat: the transcript (audited), intake and registration; for
    the coordinator the feedback form while open, for everyone the feedback
    once given."""
    user = _user(request)
    review = selectors.scan_review_get_for_viewer(viewer=user, review_id=review_id)
    may_review = (
        user.is_coordinator
        and review.status == ReviewStatus.OPEN
        and review.conversation.operator_id != user.pk
    )
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not may_review:
            raise DjangoPermissionDenied
        if form.is_valid():
            try:
                services.scan_review_submit(
                    review=review,
                    reviewer=user,
                    scores=form.scores(),
                    strengths=form.cleaned_data["strengths"],
                    improvements=form.cleaned_data["improvements"],
                    comment=form.cleaned_data["comment"],
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Feedback bewaard. De beoordeling is afgesloten."))
                return redirect("quality:review", review_id=review.pk)
    transcript = services.scan_review_transcript_read(viewer=user, review=review)
    conversation = review.conversation
    return render(
        request,
        "quality/review.html",
        {
            "review": review,
            "conversation": conversation,
            "operator_name": conversation.operator.display_name if conversation.operator else "",
            "transcript": transcript,
            "registration": selectors.scan_review_registration(review=review),
            "wait_minutes": _minutes(conversation.queued_at, conversation.accepted_at),
            "chat_minutes": _minutes(conversation.accepted_at, conversation.ended_at),
            "hold_until": selectors.scan_hold_until(conversation),
            "form": form if may_review else None,
            "feedback_rows": _feedback_rows(review),
            "is_own": conversation.operator_id == user.pk,
            "nav": "feedback" if conversation.operator_id == user.pk else "scans",
        },
    )


@_staff_page
def my_feedback(request: HttpRequest) -> HttpResponse:
    """The feedback on the signed-in operator's own chats, and nobody else's."""
    user = _user(request)
    selectors.require_staff_who_chat(user)
    reviews = selectors.scan_reviews_for_operator(operator=user)
    return render(
        request,
        "quality/my_feedback.html",
        {
            "items": [{"review": r, "rows": _feedback_rows(r)} for r in reviews],
            "nav": "feedback",
        },
    )
