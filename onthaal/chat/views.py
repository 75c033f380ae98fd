"""Server-rendered pages of the visitor, and the health check."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from onthaal.chat.api import HELPLINES
from onthaal.chat.closing import intake_status
from onthaal.chat.models import Audience, Gender, ReferralSource
from onthaal.hours.selectors import opening_status
from onthaal.safeguard.selectors import prank_hold_max_days, prank_mark_days


def _visitor_strings() -> dict[str, str]:
    """The texts visitor.js shows, translated here (the page has no inline script)."""
    return {
        "position": _("Je bent nummer %(n)s in de wachtrij."),
        "estimate": _("Geschatte wachttijd: ongeveer %(n)s minuten."),
        "estimate_soon": _("Je bent zo aan de beurt."),
        "estimate_unknown": _("Er is nu nog geen medewerker vrij; blijf gerust wachten."),
        "chat_with": _("Je chat met %(name)s"),
        "operator_changed": _("Je chat nu verder met %(name)s."),
        "you": _("Jij"),
        "sending": _("wordt verstuurd…"),
        "sent": _("verzonden"),
        "delivered": _("ontvangen"),
        "read": _("gelezen"),
        "offline": _(
            "Geen verbinding. Je berichten worden verstuurd zodra de verbinding terug is."
        ),
        "reconnected": _("Weer verbonden."),
        "confirm_end": _("Wil je het gesprek echt beëindigen?"),
        "ended_by_operator": _("De medewerker heeft het gesprek beëindigd."),
        "ended_by_visitor": _("Je hebt het gesprek beëindigd."),
        "ended_broke_off": _("Het gesprek werd afgebroken omdat de verbinding te lang weg was."),
        "ended_closed": _("De chat is gesloten voor je aan de beurt was. Sorry!"),
        "ended_missed": _("Je bent gestopt met wachten."),
        "closed_now": _("De chat is nu gesloten."),
        "closing_title": _("De chat start geen nieuwe gesprekken meer"),
        "error": _("Er liep iets mis. Probeer het opnieuw."),
        "rating_required": _("Kies eerst 1 tot 5 sterren, of sla over."),
    }


@require_GET
@never_cache
def visitor_page(request: HttpRequest) -> HttpResponse:
    """The visitor's one page: closed notice, intake, queue, chat, rating.

    Which part shows is decided by visitor.js from the API; the closed notice
    is rendered here too, so a visitor without JavaScript still learns when
    the chat opens and where to go meanwhile.
    """
    now = timezone.now()
    status = opening_status(at=now)
    return render(
        request,
        "chat/visitor.html",
        {
            "status": status,
            # In the last minutes before closing no new chat starts (chat/closing.py).
            "intake": intake_status(at=now, status=status),
            "helplines": HELPLINES,
            "audiences": Audience.choices,
            "genders": Gender.choices,
            "referral_sources": ReferralSource.choices,
            "quick_exit_url": settings.ONTHAAL_QUICK_EXIT_URL,
            "max_message_chars": settings.ONTHAAL_MAX_MESSAGE_CHARS,
            "strings": _visitor_strings(),
        },
    )


@require_GET
def privacy_page(request: HttpRequest) -> HttpResponse:
    """What is kept about a visitor, in plain Dutch words."""
    return render(
        request,
        "chat/privacy.html",
        {
            "retention_days": settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS,
            "quick_exit_url": settings.ONTHAAL_QUICK_EXIT_URL,
            # The returning-visitor key and prank reviews (onthaal.safeguard).
            "prank_hold_days": prank_hold_max_days(),
            "prank_mark_days": prank_mark_days(),
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
