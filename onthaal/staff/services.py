"""Writes to staff accounts: creation, profile, availability, the second factor."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

import pyotp
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException

from onthaal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onthaal.staff.models import Availability, Discipline, PasskeyCredential, Role, User
from onthaal.text import text_check

logger = logging.getLogger("onthaal.staff")

COORDINATOR_GROUP = "coordinators"
# What coordinators may edit in the admin (besides operator accounts).
_COORDINATOR_APPS = ("hours", "registration")
MAX_PSEUDONYM_CHARS = 40


def coordinator_group_ensure() -> Group:
    """The group whose permissions coordinators get in the admin."""
    group, _created = Group.objects.get_or_create(name=COORDINATOR_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=_COORDINATOR_APPS) | (
        Permission.objects.filter(
            content_type__app_label="staff",
            codename__in=["view_user", "add_user", "change_user"],
        )
    )
    group.permissions.set(permissions)
    return group


@transaction.atomic
def operator_create(
    *,
    username: str,
    password: str,
    discipline: str,
    role: str = Role.OPERATOR,
    pseudonym: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a staff account. The TOTP second factor is enrolled at first login.

    See :func:`operator_role_apply` for what each role may do in the admin.
    """
    errors: dict[str, str] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = _("Geef een gebruikersnaam.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("Deze gebruikersnaam bestaat al.")
    if discipline not in Discipline.values:
        errors["discipline"] = _("Kies een discipline: %(choices)s.") % {
            "choices": ", ".join(Discipline.values)
        }
    if role not in Role.values:
        errors["role"] = _("Kies een rol: %(choices)s.") % {"choices": ", ".join(Role.values)}
    if len(pseudonym) > MAX_PSEUDONYM_CHARS:
        errors["pseudonym"] = _("Een pseudoniem heeft hoogstens 40 tekens.")
    candidate = User(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise InvalidInput(_("Het account kon niet aangemaakt worden."), fields=errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
        discipline=discipline,
        role=role,
        pseudonym=pseudonym.strip(),
    )
    operator_role_apply(user=user)
    logger.info("staff account %s created (role %s)", user.pk, role)
    return user


@transaction.atomic
def operator_role_apply(*, user: User) -> User:
    """Give the account the admin rights of its role: coordinators and
    administrators may use the admin; administrators are superusers;
    coordinators get the coordinators' permissions."""
    user.is_staff = user.role in {Role.COORDINATOR, Role.ADMINISTRATOR}
    user.is_superuser = user.role == Role.ADMINISTRATOR
    user.save(update_fields=["is_staff", "is_superuser"])
    group = coordinator_group_ensure()
    if user.role == Role.COORDINATOR:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    return user


def operator_update(
    *, operator: User, pseudonym: str | None = None, availability: str | None = None
) -> User:
    """Change the operator's pseudonym and/or availability.

    Going available requires a pseudonym, since it is the only name a visitor sees.
    """
    fields: list[str] = []
    if pseudonym is not None:
        if not isinstance(pseudonym, str) or not pseudonym.strip():
            raise InvalidInput(
                _("Een pseudoniem mag niet leeg zijn."), fields={"pseudonym": "required"}
            )
        text_check(pseudonym, field="pseudonym")
        if len(pseudonym.strip()) > MAX_PSEUDONYM_CHARS:
            raise InvalidInput(
                _("Een pseudoniem heeft hoogstens 40 tekens."), fields={"pseudonym": "too long"}
            )
        operator.pseudonym = pseudonym.strip()
        fields.append("pseudonym")
    if availability is not None:
        if availability not in Availability.values:
            raise InvalidInput(
                _("Kies beschikbaar, pauze of offline."), fields={"availability": "invalid"}
            )
        if availability != Availability.OFFLINE and not operator.can_chat:
            raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
        if availability == Availability.AVAILABLE and not operator.pseudonym:
            raise Conflict(
                _("Kies eerst een pseudoniem: dat is de enige naam die de bezoeker ziet."),
                code="pseudonym_required",
            )
        operator.availability = availability
        fields.append("availability")
    if fields:
        operator.save(update_fields=fields)
        # The wait estimate shown to queued visitors depends on availability.
        if "availability" in fields:
            from onthaal.chat.services import queue_announce  # chat imports staff

            queue_announce()
    return operator


def totp_secret_ensure(*, user: User) -> str:
    """The secret to enrol, created on first use; refused once enrolled."""
    if user.totp_confirmed_at is not None:
        raise Conflict(_("De tweede stap is al ingesteld."), code="totp_already_enrolled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.save(update_fields=["totp_secret"])
    return user.totp_secret


def totp_provisioning_uri(*, user: User, issuer: str = "Onthaal") -> str:
    return pyotp.TOTP(totp_secret_ensure(user=user)).provisioning_uri(
        name=user.username, issuer_name=issuer
    )


@transaction.atomic
def totp_verify(*, user: User, code: str, now: datetime | None = None) -> bool:
    """Check a six-digit code; the first valid code confirms the enrolment.

    A code is accepted once: a code seen before (same or earlier time step)
    is refused, so an overheard code cannot be replayed.
    """
    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    for offset in (-1, 0, 1):  # one step of clock drift either way
        at = now.timestamp() + offset * totp.interval
        counter = totp.timecode(datetime.fromtimestamp(at, tz=now.tzinfo))
        if counter <= user.totp_last_counter:
            continue
        if pyotp.utils.strings_equal(totp.at(at), code):
            user.totp_last_counter = counter
            fields = ["totp_last_counter"]
            if user.totp_confirmed_at is None:
                user.totp_confirmed_at = now
                fields.append("totp_confirmed_at")
            user.save(update_fields=fields)
            return True
    return False


# --- passkeys (WebAuthn) ------------------------------------------------------

MAX_PASSKEY_NAME_CHARS = 60


class PasskeyRefused(InvalidInput):
    """A passkey answer that does not pass. ``code`` says why, for the audit
    log: ``challenge`` (none, expired, used or for something else),
    ``unknown_credential``, ``invalid`` (signature, origin, relying party,
    challenge) or ``sign_count`` (the counter went back: a cloned key?)."""


def webauthn_user_handle_ensure(*, user: User) -> bytes:
    """The random WebAuthn user handle of the account, made on first use."""
    if not user.webauthn_user_handle:
        user.webauthn_user_handle = secrets.token_bytes(32)
        user.save(update_fields=["webauthn_user_handle"])
    return bytes(user.webauthn_user_handle)


@transaction.atomic
def passkey_register(
    *,
    user: User,
    credential: dict[str, Any] | str,
    name: str,
    challenge: bytes | None,
    rp_id: str,
    origins: list[str],
    now: datetime | None = None,
) -> PasskeyCredential:
    """Check the answer of ``navigator.credentials.create()`` and store the passkey.

    ``challenge`` is the one handed out with the options (``None`` when the
    session had none left): the signed client data must hold it, come from
    one of ``origins`` and be for ``rp_id``. Attestation is not asked for,
    so any authenticator model is accepted.
    """
    name = (name or "").strip() or _("Passkey")
    if len(name) > MAX_PASSKEY_NAME_CHARS:
        raise InvalidInput(_("Een naam heeft hoogstens 60 tekens."), fields={"name": "too long"})
    text_check(name, field="name")
    if challenge is None:
        raise PasskeyRefused(_("Deze aanvraag is verlopen. Probeer opnieuw."), code="challenge")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        logger.info("passkey registration refused for user %s: %s", user.pk, exc)
        raise PasskeyRefused(
            _("Deze passkey kon niet geregistreerd worden."), code="invalid"
        ) from exc
    if PasskeyCredential.objects.filter(credential_id=verified.credential_id).exists():
        raise Conflict(_("Deze passkey is al geregistreerd."), code="passkey_exists")
    transports: list[str] = []
    if isinstance(credential, dict):
        raw = credential.get("response", {}).get("transports") or []
        transports = [str(t) for t in raw if isinstance(t, str)][:10]
    passkey = PasskeyCredential.objects.create(
        user=user,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        aaguid=str(verified.aaguid),
        backed_up=verified.credential_backed_up,
        created_at=now or timezone.now(),
    )
    logger.info("passkey %s registered for user %s", passkey.pk, user.pk)
    return passkey


@transaction.atomic
def passkey_authenticate(
    *,
    user: User,
    credential: dict[str, Any] | str,
    challenge: bytes | None,
    rp_id: str,
    origins: list[str],
    now: datetime | None = None,
) -> PasskeyCredential:
    """Check the answer of ``navigator.credentials.get()`` as ``user``'s second factor.

    The credential must be one of ``user``'s passkeys; the signature must
    verify over the challenge handed out (``None``: there was none left),
    for ``rp_id`` and from one of ``origins``; and the authenticator's
    counter must have gone up since the last use, unless it keeps none
    (always 0). On success the counter and the time of use are stored.
    Raises :class:`PasskeyRefused`.
    """
    if challenge is None:
        raise PasskeyRefused(_("Deze aanvraag is verlopen. Probeer opnieuw."), code="challenge")
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(_("Deze passkey werd niet aanvaard."), code="invalid") from exc
    passkey = (
        PasskeyCredential.objects.select_for_update()
        .filter(user=user, credential_id=parsed.raw_id)
        .first()
    )
    if passkey is None:
        raise PasskeyRefused(
            _("Deze passkey hoort niet bij dit account."), code="unknown_credential"
        )
    try:
        # The counter is compared below rather than by the library, so that
        # a regression is only reported for an otherwise valid signature.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        logger.info("passkey %s refused: %s", passkey.pk, exc)
        raise PasskeyRefused(_("Deze passkey werd niet aanvaard."), code="invalid") from exc
    if (verified.new_sign_count or passkey.sign_count) and (
        verified.new_sign_count <= passkey.sign_count
    ):
        logger.warning(
            "passkey %s refused: counter %s not above %s (cloned authenticator?)",
            passkey.pk,
            verified.new_sign_count,
            passkey.sign_count,
        )
        raise PasskeyRefused(_("Deze passkey werd niet aanvaard."), code="sign_count")
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now or timezone.now()
    passkey.backed_up = verified.credential_backed_up
    passkey.save(update_fields=["sign_count", "last_used_at", "backed_up"])
    return passkey


@transaction.atomic
def passkey_delete(*, user: User, passkey_id: int) -> None:
    """Remove one of ``user``'s own passkeys (NotFound for anyone else's)."""
    deleted, _counts = PasskeyCredential.objects.filter(user=user, pk=passkey_id).delete()
    if not deleted:
        raise NotFound(_("Deze passkey bestaat niet."))
    logger.info("passkey %s of user %s removed", passkey_id, user.pk)


# --- single sign-on (OpenID Connect) -------------------------------------------


@transaction.atomic
def operator_oidc_match(*, subject: str, username: str = "") -> User | None:
    """The active staff account that a verified ID token's ``sub`` belongs to.

    First by ``oidc_subject``, which an administrator sets. Then, only when
    a ``username`` is given (the claim named by ONTHAAL_OIDC_USERNAME_CLAIM),
    an account with that username and no subject yet: the subject is then
    bound to it, so that from then on only this ``sub`` signs in to it (a
    later account at the provider with the same name gets nowhere). No
    account is ever created. ``None`` when nothing matches.
    """
    if not subject:
        return None
    user = User.objects.filter(oidc_subject=subject, is_active=True).first()
    if user is not None or not username:
        return user
    user = (
        User.objects.select_for_update()
        .filter(username__iexact=username, oidc_subject__isnull=True, is_active=True)
        .first()
    )
    if user is None:
        return None
    user.oidc_subject = subject
    user.save(update_fields=["oidc_subject"])
    logger.info("single sign-on subject bound to user %s by username", user.pk)
    return user
