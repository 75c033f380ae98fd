"""HTTP API of the chat scan, mounted at ``/api/v1/quality`` (session auth)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from onthaal.api_schemas import Error
from onthaal.quality import selectors, services
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["quality"], auth=staff_session)

Frame = dict[str, Any]


class DrawIn(Schema):
    period_start: date
    period_end: date
    per_operator: int = 2
    operator_ids: list[int] = []
    seed: int | None = None


class FeedbackIn(Schema):
    scores: dict[str, int | None] = {}
    strengths: str = ""
    improvements: str = ""
    comment: str = ""


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _review_detail(viewer: User, review_id: int) -> dict[str, Any]:
    review = selectors.scan_review_get_for_viewer(viewer=viewer, review_id=review_id)
    messages = services.scan_review_transcript_read(viewer=viewer, review=review)
    frame = selectors.review_summary_frame(review)
    frame["conversation"] = selectors.conversation_summary_frame(review.conversation)
    frame["registration"] = selectors.registration_summary_frame(
        selectors.scan_review_registration(review=review)
    )
    frame["transcript"] = (
        selectors.transcript_frame(messages, conversation=review.conversation) if messages else None
    )
    return frame


@router.post("/scans", response={201: Frame, 400: Error, 401: Error, 403: Error, 409: Error})
def scan_draw(request: HttpRequest, payload: DrawIn) -> Status[dict[str, Any]]:
    """Draw a chat scan (coordinators): per operator ``per_operator`` finished chats."""
    user = _user(request)
    scan = services.chat_scan_draw(
        coordinator=user,
        period_start=payload.period_start,
        period_end=payload.period_end,
        per_operator=payload.per_operator,
        operator_ids=payload.operator_ids,
        seed=payload.seed,
    )
    return Status(
        201, selectors.scan_frame(scan, reviews=selectors.scan_reviews_of_scan(scan=scan))
    )


@router.get("/scans", response={200: Frame, 401: Error, 403: Error})
def scan_list(request: HttpRequest) -> dict[str, Any]:
    """Every chat scan, newest first (coordinators)."""
    selectors.require_coordinator(_user(request))
    return {"scans": [selectors.scan_frame(s) for s in selectors.chat_scans_list()]}


@router.get("/scans/{scan_id}", response={200: Frame, 401: Error, 403: Error, 404: Error})
def scan_detail(request: HttpRequest, scan_id: int) -> dict[str, Any]:
    """One chat scan with its drawn chats and their state (coordinators)."""
    scan = selectors.chat_scan_get_for_viewer(viewer=_user(request), scan_id=scan_id)
    return selectors.scan_frame(scan, reviews=selectors.scan_reviews_of_scan(scan=scan))


@router.get("/reviews/{review_id}", response={200: Frame, 401: Error, 404: Error})
def review_detail(request: HttpRequest, review_id: int) -> dict[str, Any]:
    """One drawn chat: intake, registration, transcript (while it exists) and
    feedback. Reading the transcript is audited."""
    return _review_detail(_user(request), review_id)


@router.post(
    "/reviews/{review_id}/feedback",
    response={200: Frame, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
)
def review_feedback(request: HttpRequest, review_id: int, payload: FeedbackIn) -> dict[str, Any]:
    """Submit the feedback and close the review (coordinators, once)."""
    user = _user(request)
    selectors.require_coordinator(user)
    review = selectors.scan_review_get_for_viewer(viewer=user, review_id=review_id)
    review = services.scan_review_submit(
        review=review,
        reviewer=user,
        scores=payload.scores,
        strengths=payload.strengths,
        improvements=payload.improvements,
        comment=payload.comment,
    )
    return selectors.review_summary_frame(review)


@router.get("/feedback", response={200: Frame, 401: Error, 403: Error})
def my_feedback(request: HttpRequest) -> dict[str, Any]:
    """The feedback on the caller's own chats (closed reviews only)."""
    user = _user(request)
    selectors.require_staff_who_chat(user)
    reviews = selectors.scan_reviews_for_operator(operator=user)
    return {"reviews": [selectors.review_summary_frame(r) for r in reviews]}
