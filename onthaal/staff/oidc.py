"""Single sign-on with OpenID Connect: the relying party's side of the code flow.

Authlib (its Django client) rather than mozilla-django-oidc: Authlib does
discovery, PKCE (S256), state and nonce, and checks the ID token's
signature against the provider's JWKS (refetched once when the key id is
unknown, so key rotation works) and its iss/aud/exp/iat/nonce/at_hash
claims; mozilla-django-oidc is a whole authentication backend that creates
or updates users by default, has no acr/amr checks, and would need much of
it switched off or overridden to map accounts the way Onthaal must (never
create one). What Onthaal adds here is small and readable: the issuer of
the discovery document must be the configured one, only asymmetric
signatures are accepted, the state expires, and the level of the sign-in
(``acr``/``amr``) is checked against the settings.

Every HTTP call to the provider (discovery, token, keys) goes from this
server, with a timeout; the browser only ever visits the authorization
endpoint.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from joserfc.errors import JoseError

NAME = "onthaal-oidc"
# How long a started sign-in may take at the provider.
STATE_SECONDS = 600
HTTP_TIMEOUT_SECONDS = 10
# Symmetric algorithms (HS256) would make the client secret a signing key.
ACCEPTED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


class OidcRefused(Exception):
    """A single sign-on that does not sign anyone in.

    ``reason``: ``state`` (unknown, used or expired state), ``provider`` (the
    provider answered with an error, or was unreachable), ``id_token`` (no
    ID token, or one that did not verify: signature, issuer, audience,
    expiry, nonce), ``mfa`` / ``acr`` (a sign-in below the required level),
    ``no_account`` (no staff account for this subject).
    """

    def __init__(self, reason: str, *, detail: str = "", subject: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.subject = subject


class _Integration(DjangoIntegration):
    """Authlib's Django integration with a state that expires.

    Authlib keeps the state, the nonce, the PKCE verifier and the redirect
    URI in the session and removes them when the callback reads them (single
    use); it only drops expired ones on that removal. Here an expired state
    is also refused.
    """

    expires_in = STATE_SECONDS

    def get_state_data(self, session: SessionBase, state: str | None) -> Any:
        stored = session.get(f"_state_{self.name}_{state}")
        if not isinstance(stored, dict) or float(stored.get("exp", 0)) < time.time():
            return None
        return super().get_state_data(session, state)


def enabled() -> bool:
    return bool(settings.ONTHAAL_OIDC_ISSUER)


def _client() -> DjangoOAuth2App:
    issuer = settings.ONTHAAL_OIDC_ISSUER
    secret = settings.ONTHAAL_OIDC_CLIENT_SECRET
    return DjangoOAuth2App(
        _Integration(NAME),
        name=NAME,
        client_id=settings.ONTHAAL_OIDC_CLIENT_ID,
        client_secret=secret or None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(settings.ONTHAAL_OIDC_SCOPES),
            "code_challenge_method": "S256",
            # Without a secret the client is public: PKCE alone binds the code.
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def _discover(client: DjangoOAuth2App) -> None:
    """Fetch the discovery document and hold it to the configured issuer."""
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise OidcRefused("provider", detail=f"discovery failed: {exc}") from exc
    if metadata.get("issuer") != settings.ONTHAAL_OIDC_ISSUER:
        raise OidcRefused("provider", detail="discovery document names another issuer")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    accepted = [alg for alg in offered if alg in ACCEPTED_ALGORITHMS]
    if not accepted:
        raise OidcRefused("provider", detail=f"no accepted signing algorithm in {offered}")
    metadata["id_token_signing_alg_values_supported"] = accepted


def authorization_redirect(request: HttpRequest, *, redirect_uri: str) -> HttpResponse:
    """Send the browser to the provider, with a fresh state, nonce and PKCE
    challenge kept in the session. Asks for the required ``acr`` level when
    one is configured."""
    client = _client()
    _discover(client)
    extra: dict[str, str] = {}
    if settings.ONTHAAL_OIDC_REQUIRED_ACR:
        extra["acr_values"] = " ".join(settings.ONTHAAL_OIDC_REQUIRED_ACR)
    response: HttpResponse = client.authorize_redirect(request, redirect_uri, **extra)
    return response


def verified_claims(request: HttpRequest) -> dict[str, Any]:
    """The claims of the callback's ID token, once everything checks out.

    Checks, in order: the state (known to this session, not used, not
    expired); the code exchanged at the token endpoint with the PKCE
    verifier; the ID token's signature against the provider's keys, its
    issuer, audience, times and nonce; then the sign-in level
    (``ONTHAAL_OIDC_REQUIRE_MFA`` / ``ONTHAAL_OIDC_REQUIRED_ACR``).
    Raises :class:`OidcRefused`.
    """
    client = _client()
    _discover(client)
    try:
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "value": settings.ONTHAAL_OIDC_ISSUER},
                "aud": {"essential": True, "value": settings.ONTHAAL_OIDC_CLIENT_ID},
            },
            leeway=60,
        )
    except MismatchingStateError as exc:
        raise OidcRefused("state") from exc
    except JoseError as exc:
        raise OidcRefused("id_token", detail=str(exc)) from exc
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        raise OidcRefused("provider", detail=str(exc)) from exc
    claims = token.get("userinfo")
    if not claims:
        raise OidcRefused("id_token", detail="no ID token")
    claims = dict(claims)
    subject = str(claims.get("sub", ""))
    if settings.ONTHAAL_OIDC_REQUIRE_MFA:
        amr = claims.get("amr")
        methods = amr if isinstance(amr, list) else []
        if not any(method in methods for method in settings.ONTHAAL_OIDC_MFA_AMR):
            raise OidcRefused("mfa", detail=f"amr {methods}", subject=subject)
    if settings.ONTHAAL_OIDC_REQUIRED_ACR and claims.get("acr") not in (
        settings.ONTHAAL_OIDC_REQUIRED_ACR
    ):
        raise OidcRefused("acr", detail=f"acr {claims.get('acr')!r}", subject=subject)
    return claims
