"""The browser's side of a passkey ceremony: options, challenges, the relying party.

A ceremony is two requests: the server hands out options holding a fresh
random challenge, the browser's authenticator signs it, and the server
checks the signed answer (``services.passkey_register`` /
``services.passkey_authenticate``). The challenge waits in the session in
between: one per session, for one purpose and one account, used at most
once (taken out before it is checked, whatever the outcome) and only for
``CHALLENGE_SECONDS``.

The relying party id is ``ONTHAAL_WEBAUTHN_RP_ID``, or else the host the
request came to (already checked against ALLOWED_HOSTS); the expected
origin is ``ONTHAAL_WEBAUTHN_ORIGIN``, or else the request's own origin.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Literal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from webauthn import generate_authentication_options, generate_registration_options
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from onthaal.staff.models import PasskeyCredential, User

RP_NAME = "Onthaal"
CHALLENGE_KEY = "onthaal_webauthn_challenge"
CHALLENGE_SECONDS = 180
# What the browser is told to wait for the person (a hint only).
TIMEOUT_MS = 120_000

Purpose = Literal["register", "authenticate"]


def rp_id_for(request: HttpRequest) -> str:
    if settings.ONTHAAL_WEBAUTHN_RP_ID:
        return str(settings.ONTHAAL_WEBAUTHN_RP_ID)
    host = request.get_host()
    if host.startswith("["):  # an IPv6 literal; WebAuthn wants a domain anyway
        return host[1:].split("]")[0]
    return host.rsplit(":", 1)[0]


def origins_for(request: HttpRequest) -> list[str]:
    if settings.ONTHAAL_WEBAUTHN_ORIGINS:
        return list(settings.ONTHAAL_WEBAUTHN_ORIGINS)
    return [f"{request.scheme}://{request.get_host()}"]


def _descriptors(passkeys: Iterable[PasskeyCredential]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for passkey in passkeys:
        transports = []
        for value in passkey.transports:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue  # a transport this library does not know yet
        descriptors.append(
            PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports)
        )
    return descriptors


def _challenge_store(
    session: SessionBase, *, purpose: Purpose, user: User, challenge: bytes
) -> None:
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "user": user.pk,
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def challenge_take(session: SessionBase, *, purpose: Purpose, user: User) -> bytes | None:
    """The challenge handed out for this purpose and account, removed from
    the session; ``None`` when there is none, it expired, or it was for
    something else."""
    stored = session.pop(CHALLENGE_KEY, None)
    if not isinstance(stored, dict):
        return None
    if stored.get("purpose") != purpose or stored.get("user") != user.pk:
        return None
    if float(stored.get("expires", 0)) < time.time():
        return None
    return base64url_to_bytes(str(stored["challenge"]))


def registration_options(request: HttpRequest, *, user: User, user_handle: bytes) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()``, as JSON-ready data.

    The account's own passkeys are excluded, so an authenticator is not
    registered twice. A passkey (resident key) and user verification are
    preferred, not required: a plain security key works as well.
    """
    options = generate_registration_options(
        rp_id=rp_id_for(request),
        rp_name=RP_NAME,
        user_id=user_handle,
        user_name=user.username,
        user_display_name=user.username,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user.passkeys.all()),
    )
    _challenge_store(request.session, purpose="register", user=user, challenge=options.challenge)
    return dict(options_to_json_dict(options))


def authentication_options(request: HttpRequest, *, user: User) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()`` limited to the account's passkeys."""
    options = generate_authentication_options(
        rp_id=rp_id_for(request),
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(user.passkeys.all()),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _challenge_store(
        request.session, purpose="authenticate", user=user, challenge=options.challenge
    )
    return dict(options_to_json_dict(options))
