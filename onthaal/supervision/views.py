"""The live overview page of coordinators and administrators (/toezicht/).

Its live parts come over ``/ws/v1/overview/``; the page runs no inline
script (CSP), so overview.js gets its settings and texts from one JSON block.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from onthaal.errors import PermissionDenied
from onthaal.staff.models import Availability, Discipline, User
from onthaal.supervision import selectors


@login_required
@never_cache
def overview_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        selectors.supervisor_check(user=user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    strings = {
        "connecting": _("Verbinden…"),
        "connected": _("Verbonden"),
        "reconnecting": _("Verbinding verbroken, opnieuw verbinden…"),
        "signed_out": _("Je bent afgemeld. Meld je opnieuw aan om verder te werken."),
        "error": _("Er liep iets mis. Probeer het opnieuw."),
        "nobody_online": _("Niemand heeft de console open."),
        "chats_of": _("%(n)s van %(max)s chats"),
        "scheduled": _("ingeroosterd"),
        "not_scheduled": _("niet ingeroosterd"),
        "online": _("online"),
        "not_online": _("niet online"),
        "nobody_scheduled": _("Niemand is nu ingeroosterd."),
        "no_active": _("Geen lopende chats."),
        "chat": _("Gesprek %(id)s"),
        "held_by": _("bij %(name)s, %(time)s"),
        "support_badge": _("vraagt ondersteuning"),
        "readers": _("%(names)s leest mee"),
        "read_along": _("Lees mee"),
        "support_alert": _("%(name)s vraagt ondersteuning bij gesprek %(id)s."),
        "support_item": _("%(name)s vraagt ondersteuning bij gesprek %(id)s, sinds %(time)s"),
        "no_support": _("Niemand vraagt ondersteuning."),
        "reading_title": _("Meelezen: gesprek %(id)s"),
        "visitor": _("Bezoeker"),
        "whisper_from": _("Fluisterbericht van %(name)s"),
        "transfer_note_from": _("Overdrachtsnotitie van %(name)s"),
        "chat_ended": _("Dit gesprek is afgelopen."),
        "taken_over": _("Je voert dit gesprek nu zelf, in je console."),
        "transferred": _("Het gesprek is overgedragen."),
        "typing": _("De bezoeker typt…"),
        "no_targets": _("Geen collega is nu beschikbaar met een vrije plaats."),
        "pick_target": _("Kies een collega"),
    }
    labels = {
        "discipline": dict(Discipline.choices),
        "availability": dict(Availability.choices),
    }
    return render(
        request,
        "supervision/overview.html",
        {
            "overview_config": {
                "api_root": "/api/v1",
                "ws_path": "/ws/v1/overview/",
                "console_url": reverse("staff:console"),
                "login_url": reverse("staff:login"),
                "max_chars": 2000,
                "max_chats": settings.ONTHAAL_MAX_CHATS_PER_OPERATOR,
                "strings": strings,
                "labels": labels,
            },
        },
    )
