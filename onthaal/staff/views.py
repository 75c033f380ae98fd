"""Sign-in with two factors, and the operator console page.

Sign-in is two steps: username and password first; only after a valid TOTP
code, or a passkey of the account, is the Django session logged in. An
account without a confirmed second factor enrols one (QR code) in the second
step. Single sign-on (OpenID Connect) is the other way in: the provider
checks both factors, and Onthaal checks that it says so. So every
authenticated session, the admin's included, has passed two factors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.backends.base import SessionBase
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
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
from onthaal.errors import NotFound, PermissionDenied, RateLimited, ServiceError
from onthaal.ratelimit import rate_limit_hit
from onthaal.staff import oidc, passkeys, services
from onthaal.staff.models import Availability, User

logger = logging.getLogger("onthaal.staff")

PENDING_KEY = "onthaal_pending_user"
NEXT_KEY = "onthaal_next"
# When this session last gave a second factor (TOTP code, passkey, or single
# sign-on): adding or removing a passkey asks for one within
# ONTHAAL_REAUTH_MINUTES, so that a hijacked session cannot add a factor.
SECOND_FACTOR_AT_KEY = "onthaal_second_factor_at"
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = 300


def second_factor_mark(session: SessionBase) -> None:
    """Record that this session gave a second factor just now."""
    session[SECOND_FACTOR_AT_KEY] = time.time()


def second_factor_is_recent(session: SessionBase) -> bool:
    """Whether this session gave a second factor within ONTHAAL_REAUTH_MINUTES."""
    at = session.get(SECOND_FACTOR_AT_KEY)
    if not isinstance(at, int | float):
        return False
    return 0 <= time.time() - at <= settings.ONTHAAL_REAUTH_MINUTES * 60


def _reauth_message() -> str:
    return _(
        "Bevestig eerst dat jij het bent, met de code uit je authenticator-app of met een "
        "passkey: een passkey toevoegen of verwijderen kan alleen binnen %(n)s minuten "
        "daarna."
    ) % {"n": settings.ONTHAAL_REAUTH_MINUTES}


def _reauth_refused() -> PermissionDenied:
    return PermissionDenied(_reauth_message(), code="reauth_required")


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
    context = {
        "form": form,
        "error": error,
        "oidc_name": settings.ONTHAAL_OIDC_NAME if oidc.enabled() else "",
        "next": request.GET.get("next", ""),
    }
    return render(request, "staff/login.html", context)


def _pending_user(request: HttpRequest) -> User | None:
    """The account whose password was given in this session, if still active."""
    pending = request.session.get(PENDING_KEY)
    return User.objects.filter(pk=pending, is_active=True).first() if pending else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_second_factor(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("staff:login")
    has_passkey = user.passkeys.exists()
    # An account that has a passkey but never confirmed a TOTP app is not
    # offered the TOTP enrolment: the password alone must not add a factor.
    totp_available = user.totp_confirmed_at is not None or not has_passkey
    enrolling = user.totp_confirmed_at is None and totp_available
    form = CodeForm(request.POST or None)
    if has_passkey:  # the passkey button comes first and takes the focus
        form.fields["code"].widget.attrs.pop("autofocus", None)
    error = ""
    if request.method == "POST" and not totp_available:
        error = _("Meld je aan met je passkey.")
    elif request.method == "POST" and form.is_valid():
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
                second_factor_mark(request.session)
                audit_record(action=Action.LOGIN, actor=user, method="totp")
                return redirect(next_url)
            error = _("Deze code klopt niet. Probeer de volgende code uit je app.")
            audit_record(action=Action.LOGIN_FAILED, actor=user, factor="totp")
    context: dict[str, Any] = {
        "form": form,
        "error": error,
        "enrolling": enrolling,
        "totp_available": totp_available,
        "has_passkey": has_passkey,
        "passkey_strings": _passkey_strings(),
    }
    if enrolling:
        uri = services.totp_provisioning_uri(user=user)
        context["qr_svg_data_uri"] = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
        context["secret"] = services.totp_secret_ensure(user=user)
    return render(request, "staff/login_second_factor.html", context)


def _passkey_strings() -> dict[str, str]:
    """What passkey.js may show, translated for the request's language."""
    return {
        "unsupported": _("Deze browser kan geen passkeys gebruiken."),
        "cancelled": _("Geannuleerd of niet gelukt. Probeer opnieuw."),
        "error": _("Er liep iets mis. Probeer het opnieuw."),
        "working": _("Volg de aanwijzingen van je browser…"),
    }


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _credential(body: dict[str, Any]) -> dict[str, Any]:
    """The ``credential`` object passkey.js sends; {} (refused later) when malformed."""
    credential = body.get("credential")
    return credential if isinstance(credential, dict) else {}


def _json_error(exc: ServiceError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


@require_POST
@csrf_protect
@never_cache
def login_passkey_options(request: HttpRequest) -> HttpResponse:
    """Step 2 with a passkey, part 1: the options for ``navigator.credentials.get()``."""
    user = _pending_user(request)
    if user is None or not user.passkeys.exists():
        return _json_error(NotFound(_("Begin opnieuw bij stap 1."), code="no_pending_sign_in"))
    return JsonResponse(passkeys.authentication_options(request, user=user))


def _passkey_verify(request: HttpRequest, user: User, **audit: str) -> HttpResponse | None:
    """Check the signed passkey answer in ``request`` for ``user``: None when
    it holds, else the JSON error to answer. Tries count against the same
    limit as TOTP codes; a refusal is audited (with ``audit`` added)."""
    challenge = passkeys.challenge_take(request.session, purpose="authenticate", user=user)
    try:
        rate_limit_hit(
            scope="totp", key=str(user.pk), limit=MAX_ATTEMPTS, window_seconds=ATTEMPT_WINDOW
        )
        services.passkey_authenticate(
            user=user,
            credential=_credential(_json_body(request)),
            challenge=challenge,
            rp_id=passkeys.rp_id_for(request),
            origins=passkeys.origins_for(request),
        )
    except services.PasskeyRefused as exc:
        audit_record(
            action=Action.LOGIN_FAILED, actor=user, factor="passkey", reason=exc.code, **audit
        )
        return _json_error(exc)
    except RateLimited:
        return _json_error(
            RateLimited(_("Te veel pogingen. Wacht enkele minuten en probeer opnieuw."))
        )
    return None


@require_POST
@csrf_protect
@never_cache
def login_passkey(request: HttpRequest) -> HttpResponse:
    """Step 2 with a passkey, part 2: the signed answer; signs in when it checks out.

    Failed tries count against the same limit as wrong TOTP codes.
    """
    user = _pending_user(request)
    if user is None:
        return _json_error(NotFound(_("Begin opnieuw bij stap 1."), code="no_pending_sign_in"))
    refused = _passkey_verify(request, user)
    if refused is not None:
        return refused
    next_url = request.session.get(NEXT_KEY) or reverse("staff:console")
    login(request, user)  # cycles the session key
    second_factor_mark(request.session)
    audit_record(action=Action.LOGIN, actor=user, method="passkey")
    return JsonResponse({"redirect": next_url})


def _passkeys_page(
    request: HttpRequest, *, error: str = "", reauth_error: str = "", status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    recent = second_factor_is_recent(request.session)
    context: dict[str, Any] = {
        "passkeys": list(user.passkeys.all()),
        "passkey_strings": _passkey_strings(),
        "recent": recent,
        "error": error,
        "reauth_message": _reauth_message(),
        "reauth_error": reauth_error,
        "reauth_totp": user.totp_confirmed_at is not None,
        "reauth_form": CodeForm(),
    }
    return render(request, "staff/passkeys.html", context, status=status)


@login_required
@never_cache
def passkeys_page(request: HttpRequest) -> HttpResponse:
    """The signed-in person's passkeys: register one, see when each was used,
    remove one. Adding or removing asks for a recent second factor first."""
    return _passkeys_page(request)


@sensitive_post_parameters("code")
@login_required
@require_POST
@csrf_protect
@never_cache
def reauth_totp(request: HttpRequest) -> HttpResponse:
    """Confirm it is still you with a TOTP code (before adding or removing a passkey)."""
    user: User = request.user  # type: ignore[assignment]
    form = CodeForm(request.POST)
    error = _("Deze code klopt niet. Probeer de volgende code uit je app.")
    if user.totp_confirmed_at is not None and form.is_valid():
        try:
            rate_limit_hit(
                scope="totp", key=str(user.pk), limit=MAX_ATTEMPTS, window_seconds=ATTEMPT_WINDOW
            )
        except RateLimited:
            error = _("Te veel pogingen. Wacht enkele minuten en probeer opnieuw.")
        else:
            if services.totp_verify(user=user, code=form.cleaned_data["code"]):
                second_factor_mark(request.session)
                return redirect("staff:passkeys")
            audit_record(action=Action.LOGIN_FAILED, actor=user, factor="totp", step="reauth")
    return _passkeys_page(request, reauth_error=error, status=400)


@login_required
@require_POST
@csrf_protect
@never_cache
def reauth_passkey_options(request: HttpRequest) -> HttpResponse:
    """Confirm it is still you with one of your passkeys, part 1: the options."""
    user: User = request.user  # type: ignore[assignment]
    if not user.passkeys.exists():
        return _json_error(NotFound(_("Je hebt nog geen passkey."), code="no_passkey"))
    return JsonResponse(passkeys.authentication_options(request, user=user))


@login_required
@require_POST
@csrf_protect
@never_cache
def reauth_passkey(request: HttpRequest) -> HttpResponse:
    """Part 2: the signed answer. Counts against the same limit as TOTP codes."""
    user: User = request.user  # type: ignore[assignment]
    refused = _passkey_verify(request, user, step="reauth")
    if refused is not None:
        return refused
    second_factor_mark(request.session)
    return JsonResponse({"redirect": reverse("staff:passkeys")})


@login_required
@require_POST
@csrf_protect
@never_cache
def passkey_register_options(request: HttpRequest) -> HttpResponse:
    if not second_factor_is_recent(request.session):
        return _json_error(_reauth_refused())
    user: User = request.user  # type: ignore[assignment]
    handle = services.webauthn_user_handle_ensure(user=user)
    return JsonResponse(passkeys.registration_options(request, user=user, user_handle=handle))


@login_required
@require_POST
@csrf_protect
@never_cache
def passkey_register(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    body = _json_body(request)
    challenge = passkeys.challenge_take(request.session, purpose="register", user=user)
    # Checked again here, not only when the options were handed out: the
    # confirmation may have run out in between.
    if not second_factor_is_recent(request.session):
        return _json_error(_reauth_refused())
    try:
        passkey = services.passkey_register(
            user=user,
            credential=_credential(body),
            name=str(body.get("name") or ""),
            challenge=challenge,
            rp_id=passkeys.rp_id_for(request),
            origins=passkeys.origins_for(request),
        )
    except ServiceError as exc:
        return _json_error(exc)
    audit_record(
        action=Action.ACCOUNT_CHANGED,
        actor=user,
        target=f"user:{user.pk}",
        passkey="added",
        passkey_id=passkey.pk,
    )
    return JsonResponse({"id": passkey.pk, "name": passkey.name}, status=201)


@login_required
@require_POST
@csrf_protect
def passkey_delete(request: HttpRequest, passkey_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.passkeys.filter(pk=passkey_id).exists():
        raise Http404  # the same for someone else's and one that does not exist
    if not second_factor_is_recent(request.session):
        return _passkeys_page(request, error=_reauth_message(), status=403)
    try:
        services.passkey_delete(user=user, passkey_id=passkey_id)
    except NotFound as exc:
        raise Http404 from exc
    audit_record(
        action=Action.ACCOUNT_CHANGED,
        actor=user,
        target=f"user:{user.pk}",
        passkey="removed",
        passkey_id=passkey_id,
    )
    return redirect("staff:passkeys")


# --- single sign-on ---------------------------------------------------------------

_OIDC_STATUS = {"provider": 502, "state": 400, "id_token": 400}


def _oidc_message(reason: str) -> str:
    name = settings.ONTHAAL_OIDC_NAME
    messages = {
        "state": _(
            "Deze aanmelding is verlopen of werd al gebruikt. Begin opnieuw bij de aanmeldpagina."
        ),
        "provider": _(
            "%(name)s antwoordde niet zoals verwacht. Probeer het later opnieuw, "
            "of meld je aan met je gebruikersnaam en wachtwoord."
        ),
        "id_token": _(
            "Het antwoord van %(name)s kon niet gecontroleerd worden. Begin opnieuw bij de "
            "aanmeldpagina."
        ),
        "mfa": _(
            "Je bent bij %(name)s aangemeld zonder tweede factor. Onthaal vraagt een aanmelding "
            "met twee factoren: meld je bij %(name)s aan met een tweede factor (app, sleutel of "
            "kaart) en probeer opnieuw."
        ),
        "acr": _(
            "Je aanmelding bij %(name)s had niet het vereiste betrouwbaarheidsniveau. Meld je "
            "aan met een sterker aanmeldmiddel en probeer opnieuw."
        ),
        "no_account": _(
            "Er is geen Onthaal-account gekoppeld aan je account bij %(name)s. Vraag een "
            "beheerder om je account te koppelen."
        ),
    }
    return messages.get(reason, messages["provider"]) % {"name": name}


def _oidc_refused(request: HttpRequest, exc: oidc.OidcRefused) -> HttpResponse:
    logger.warning("single sign-on refused: %s (%s)", exc.reason, exc.detail)
    detail: dict[str, Any] = {"factor": "oidc", "method": "oidc", "reason": exc.reason}
    if exc.subject:
        # A hash, not the subject: at some providers it is a national number.
        detail["subject_hash"] = hashlib.sha256(exc.subject.encode()).hexdigest()[:16]
    audit_record(action=Action.LOGIN_FAILED, **detail)
    return render(
        request,
        "staff/login_oidc_refused.html",
        {"message": _oidc_message(exc.reason), "oidc_name": settings.ONTHAAL_OIDC_NAME},
        status=_OIDC_STATUS.get(exc.reason, 403),
    )


@require_POST
@csrf_protect
@never_cache
def oidc_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the single sign-on provider."""
    if not oidc.enabled():
        raise Http404
    request.session[NEXT_KEY] = _safe_next(request, request.POST.get("next"))
    redirect_uri = request.build_absolute_uri(reverse("staff:oidc_callback"))
    try:
        return oidc.authorization_redirect(request, redirect_uri=redirect_uri)
    except oidc.OidcRefused as exc:
        return _oidc_refused(request, exc)


@never_cache
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Back from the provider: sign in the staff account its verified ID token names.

    The provider checked both factors (Onthaal checks that the token says
    so when ONTHAAL_OIDC_REQUIRE_MFA / ONTHAAL_OIDC_REQUIRED_ACR are set), so
    this is a complete sign-in: no TOTP step follows.
    """
    if not oidc.enabled():
        raise Http404
    try:
        claims = oidc.verified_claims(request)
        subject = str(claims.get("sub") or "")
        claim = settings.ONTHAAL_OIDC_USERNAME_CLAIM
        username = str(claims.get(claim) or "") if claim else ""
        user = services.operator_oidc_match(subject=subject, username=username)
        if user is None:
            raise oidc.OidcRefused("no_account", subject=subject)
    except oidc.OidcRefused as exc:
        return _oidc_refused(request, exc)
    next_url = request.session.get(NEXT_KEY) or reverse("staff:console")
    request.session.pop(PENDING_KEY, None)
    login(request, user)  # cycles the session key
    # The provider checked both factors just now (and Onthaal that it says so).
    second_factor_mark(request.session)
    audit_record(action=Action.LOGIN, actor=user, method="oidc")
    return redirect(next_url)


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
        # Supervision (onthaal.supervision)
        "support_asked": _("Ondersteuning gevraagd"),
        "support_alert": _("%(name)s vraagt ondersteuning bij gesprek %(id)s."),
        "whisper_from": _("Fluisterbericht van %(name)s"),
        "transfer_note_from": _("Overdrachtsnotitie van %(name)s"),
        "readers": _("%(names)s leest mee"),
        "released_taken_over": _("%(name)s heeft dit gesprek overgenomen."),
        "released_transferred": _("Dit gesprek is overgedragen aan %(name)s."),
        "no_transfer_targets": _("Geen collega is nu beschikbaar met een vrije plaats."),
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
                "max_chats": request.user.chat_limit,
                "strings": strings,
                "labels": labels,
            },
        },
    )


def admin_login_redirect(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's sign-in goes through the two-step operator sign-in."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('staff:login')}?{urlencode({'next': next_url})}")
