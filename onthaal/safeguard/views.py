"""Pages of the prank review queue and the blocks (coordinators only).
Server-rendered, no script: plain forms that call the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from onthaal.errors import NotFound, PermissionDenied, ServiceError
from onthaal.safeguard import selectors, services
from onthaal.safeguard.models import BlockDuration, PrankDecision
from onthaal.staff.models import User


def _coordinator_page[View: Callable[..., HttpResponse]](view: View) -> View:
    """Signed in, never cached, coordinators only; access errors as Django's 403 and 404."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            selectors.require_coordinator(_user(request))
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapper  # type: ignore[return-value]


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@_coordinator_page
def overview(request: HttpRequest) -> HttpResponse:
    """The open prank reviews, the blocks in force, the latest decisions."""
    user = _user(request)
    return render(
        request,
        "safeguard/overview.html",
        {
            "queue": selectors.prank_queue(viewer=user),
            "blocks": selectors.visitor_blocks_active(viewer=user),
            "decided": selectors.prank_reviews_decided(viewer=user)[:20],
        },
    )


@_coordinator_page
def review_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One chat registered as a suspected prank: transcript (audited),
    registration, the decision form while open, and blocking."""
    user = _user(request)
    item = selectors.prank_review_get_for_viewer(viewer=user, conversation_id=conversation_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "decide":
                services.prank_review_decide(
                    coordinator=user,
                    conversation_id=conversation_id,
                    decision=request.POST.get("decision", ""),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Beslissing bewaard. De beoordeling is afgesloten."))
            elif action == "block":
                services.visitor_block_create(
                    coordinator=user,
                    conversation_id=conversation_id,
                    duration=request.POST.get("duration", ""),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("Bezoeker geblokkeerd."))
            else:
                raise DjangoPermissionDenied
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("safeguard:review", conversation_id=conversation_id)
    transcript = services.prank_review_transcript_read(viewer=user, item=item)
    conversation = item.conversation
    return render(
        request,
        "safeguard/review.html",
        {
            "item": item,
            "conversation": conversation,
            "operator_name": conversation.operator.display_name if conversation.operator else "",
            "transcript": transcript,
            "decisions": PrankDecision.choices,
            "durations": BlockDuration.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_POST
@_coordinator_page
def block_lift(request: HttpRequest, block_id: int) -> HttpResponse:
    try:
        services.visitor_block_lift(coordinator=_user(request), block_id=block_id)
    except ServiceError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Blokkering opgeheven."))
    return redirect("safeguard:overview")
