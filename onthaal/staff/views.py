"""Sign-in with two factors, and the operator console page.

Sign-in is two steps: username and password first; only after a valid TOTP
code is the Django session logged in. An account without a confirmed second
factor enrols one (QR code) in the second step. So every authenticated
session, the admin's included, has passed both factors.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.chat.models import Audience, DeviceClass, Gender, ReferralSource
from onthaal.errors import RateLimited
from onthaal.ratelimit import rate_limit_hit
from onthaal.staff import services
from onthaal.staff.models import Availability, User

PENDING_KEY = "onthaal_pending_user"
NEXT_KEY = "onthaal_next"
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = 300


class PasswordForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Gebruikersnaam"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=gettext_lazy("Wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code uit je authenticator-app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("staff:console")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_password(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next")))
    form = PasswordForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            rate_limit_hit(
                scope="login",
                key=username.lower(),
                limit=MAX_ATTEMPTS,
                window_seconds=ATTEMPT_WINDOW,
            )
        except RateLimited:
            error = _("Te veel pogingen. Wacht enkele minuten en probeer opnieuw.")
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                error = _("Gebruikersnaam of wachtwoord klopt niet.")
                audit_record(action=Action.LOGIN_FAILED, actor_name=username, factor="password")
            else:
                request.session.cycle_key()
                request.session[PENDING_KEY] = user.pk
                request.session[NEXT_KEY] = _safe_next(request, request.GET.get("next"))
                return redirect("staff:login_second_factor")
    return render(request, "staff/login.html", {"form": form, "error": error})


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_second_factor(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    user = User.objects.filter(pk=pending, is_active=True).first() if pending else None
    if user is None:
        return redirect("staff:login")
    enrolling = user.totp_confirmed_at is None
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_hit(
                scope="totp", key=str(user.pk), limit=MAX_ATTEMPTS, window_seconds=ATTEMPT_WINDOW
            )
        except RateLimited:
            error = _("Te veel pogingen. Wacht enkele minuten en probeer opnieuw.")
        else:
            if services.totp_verify(user=user, code=form.cleaned_data["code"]):
                next_url = request.session.get(NEXT_KEY) or reverse("staff:console")
                login(request, user)  # cycles the session key
                audit_record(action=Action.LOGIN, actor=user)
                return redirect(next_url)
            error = _("Deze code klopt niet. Probeer de volgende code uit je app.")
            audit_record(action=Action.LOGIN_FAILED, actor=user, factor="totp")
    context: dict[str, Any] = {"form": form, "error": error, "enrolling": enrolling}
    if enrolling:
        uri = services.totp_provisioning_uri(user=user)
        context["qr_svg_data_uri"] = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
        context["secret"] = services.totp_secret_ensure(user=user)
    return render(request, "staff/login_second_factor.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        user: User = request.user  # type: ignore[assignment]
        services.operator_update(operator=user, availability=Availability.OFFLINE)
        audit_record(action=Action.LOGOUT, actor=user)
    logout(request)
    return redirect("staff:login")


@login_required
@never_cache
def console(request: HttpRequest) -> HttpResponse:
    """The operator console. Its live parts come over the websocket.

    An analyst takes no chats: they go to the figures.

    The page runs no inline script (CSP), so console.js gets its settings and
    every text it shows from one JSON block built here, translated for the
    request's language.
    """
    user: User = request.user  # type: ignore[assignment]
    if not user.can_chat:
        return redirect("stats:dashboard")
    strings = {
        "connecting": _("Verbinden…"),
        "connected": _("Verbonden"),
        "reconnecting": _("Verbinding verbroken, opnieuw verbinden…"),
        "signed_out": _("Je bent afgemeld. Meld je opnieuw aan om verder te werken."),
        "error": _("Er liep iets mis. Probeer het opnieuw."),
        "network_error": _("Geen verbinding met de server. Probeer het opnieuw."),
        "pseudonym_saved": _("Pseudoniem bewaard."),
        "availability_now": _("Je staat nu op %(state)s."),
        "offline_hint": _("Je bent offline. Kies ‘beschikbaar’ om chats aan te nemen."),
        "queue_none": _("Niemand wacht."),
        "queue_one": _("1 bezoeker wacht."),
        "queue_many": _("%(n)s bezoekers wachten."),
        "waiting": _("wacht %(time)s"),
        "age": _("%(age)s jaar"),
        "unknown_audience": _("doelgroep onbekend"),
        "unknown_age": _("leeftijd onbekend"),
        "unknown_gender": _("gender onbekend"),
        "found_via": _("gevonden via: %(source)s"),
        "found_unknown": _("niet gezegd hoe de chat gevonden werd"),
        "chat_title": _("Gesprek %(id)s"),
        "chat_count": _("%(n)s van maximaal %(max)s chats"),
        "chat_assigned": _("Nieuw gesprek %(id)s geopend."),
        "active_since": _("Lopend sinds %(time)s."),
        "ended_visitor": _("De bezoeker heeft het gesprek beëindigd."),
        "ended_broke_off": _("De verbinding met de bezoeker is verbroken."),
        "ended_operator": _("Je hebt het gesprek beëindigd."),
        "ended_other": _("Het gesprek is afgelopen."),
        "ended_todo": _("Registreer het gesprek onder ‘Te registreren’."),
        "visitor": _("Bezoeker"),
        "you": _("Jij"),
        "typing": _("De bezoeker typt…"),
        "sending": _("wordt verzonden…"),
        "not_sent": _("niet verzonden"),
        "sent": _("verzonden"),
        "delivered": _("ontvangen"),
        "read": _("gelezen"),
        "todo_item": _("Gesprek %(id)s · %(summary)s · beëindigd om %(time)s"),
        "registration_title": _("Registratie van gesprek %(id)s"),
        "registration_saved": _("Registratie van gesprek %(id)s bewaard."),
    }
    labels = {
        "audience": dict(Audience.choices),
        "gender": dict(Gender.choices),
        "referral_source": dict(ReferralSource.choices),
        "device_class": dict(DeviceClass.choices),
        "availability": dict(Availability.choices),
    }
    return render(
        request,
        "staff/console.html",
        {
            "max_message_chars": settings.ONTHAAL_MAX_MESSAGE_CHARS,
            "availability_choices": Availability.choices,
            "console_config": {
                "api_root": "/api/v1",
                "ws_path": "/ws/v1/operator/",
                "login_url": reverse("staff:login"),
                "max_message_chars": settings.ONTHAAL_MAX_MESSAGE_CHARS,
                "max_chats": settings.ONTHAAL_MAX_CHATS_PER_OPERATOR,
                "strings": strings,
                "labels": labels,
            },
        },
    )


def admin_login_redirect(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's sign-in goes through the two-step operator sign-in."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('staff:login')}?{urlencode({'next': next_url})}")
