"""Server-rendered pages of the visitor, and the health check."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from onthaal.chat.api import HELPLINES
from onthaal.chat.models import Audience, Gender, ReferralSource
from onthaal.hours.selectors import opening_status


@require_GET
@never_cache
def visitor_page(request: HttpRequest) -> HttpResponse:
    """The visitor's one page: closed notice, intake, queue, chat, rating.

    Which part shows is decided by visitor.js from the API; the closed notice
    is rendered here too, so a visitor without JavaScript still learns when
    the chat opens and where to go meanwhile.
    """
    status = opening_status(at=timezone.now())
    return render(
        request,
        "chat/visitor.html",
        {
            "status": status,
            "helplines": HELPLINES,
            "audiences": Audience.choices,
            "genders": Gender.choices,
            "referral_sources": ReferralSource.choices,
            "quick_exit_url": settings.ONTHAAL_QUICK_EXIT_URL,
            "max_message_chars": settings.ONTHAAL_MAX_MESSAGE_CHARS,
        },
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the app and its database answer; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
