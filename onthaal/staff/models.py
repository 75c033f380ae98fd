"""Operators (chatmedewerkers), coordinators and administrators."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Discipline(models.TextChoices):
    DOCTOR = "doctor", _("arts")
    NURSE = "nurse", _("verpleegkundige")
    SOCIAL_WORKER = "social_worker", _("maatschappelijk werker")
    PSYCHO_PEDAGOGUE = "psycho_pedagogue", _("psychopedagoog")


class Role(models.TextChoices):
    OPERATOR = "operator", _("chatmedewerker")
    COORDINATOR = "coordinator", _("coördinator")
    ADMINISTRATOR = "administrator", _("beheerder")
    # Reads aggregate figures only: never a transcript, never the queue.
    ANALYST = "analyst", _("analist")


class Availability(models.TextChoices):
    OFFLINE = "offline", _("offline")
    AVAILABLE = "available", _("beschikbaar")
    PAUSED = "paused", _("pauze")


class User(AbstractUser):
    """A staff member. Visitors never have an account.

    ``pseudonym`` is the only name a visitor ever sees. The TOTP secret is
    confirmed (``totp_confirmed_at`` set) once the operator has entered a
    valid code during enrolment; before that, login cannot complete.
    """

    pseudonym = models.CharField(_("pseudoniem"), max_length=40, blank=True)
    discipline = models.CharField(
        _("discipline"), max_length=20, choices=Discipline.choices, blank=True
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    availability = models.CharField(
        _("beschikbaarheid"),
        max_length=10,
        choices=Availability.choices,
        default=Availability.OFFLINE,
    )
    # At most this many chats at once; empty: the service's default
    # (ONTHAAL_MAX_CHATS_PER_OPERATOR). A newcomer may start with one.
    max_chats = models.PositiveSmallIntegerField(
        _("maximum aantal chats tegelijk"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Leeg: de standaard van de dienst."),
    )
    totp_secret = models.CharField(max_length=64, blank=True, editable=False)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    totp_last_counter = models.BigIntegerField(default=0, editable=False)
    # The WebAuthn user handle: random, so that an authenticator learns
    # nothing about the account (not even its database id).
    webauthn_user_handle = models.BinaryField(max_length=32, blank=True, editable=False)
    # The ``sub`` claim of this person's account at the single sign-on
    # provider (ONTHAAL_OIDC_ISSUER). Set by an administrator, or bound at the
    # first single sign-on through ONTHAAL_OIDC_USERNAME_CLAIM. NULL, not "",
    # when unset: it is unique.
    oidc_subject = models.CharField(
        _("OIDC-subject"),
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "De ‘sub’ van deze medewerker bij de single sign-on-provider. "
            "Leeg: aanmelden met single sign-on kan niet."
        ),
    )

    class Meta:
        verbose_name = _("medewerker")
        verbose_name_plural = _("medewerkers")

    def __str__(self) -> str:
        return self.pseudonym or self.username

    @property
    def is_coordinator(self) -> bool:
        return self.role in {Role.COORDINATOR, Role.ADMINISTRATOR}

    @property
    def can_chat(self) -> bool:
        """Takes chats and sees the queue: everyone but an analyst."""
        return self.role != Role.ANALYST

    @property
    def chat_limit(self) -> int:
        """How many chats this person may hold at once."""
        return self.max_chats or settings.ONTHAAL_MAX_CHATS_PER_OPERATOR

    @property
    def display_name(self) -> str:
        """What a visitor sees: the pseudonym, never the real name."""
        return self.pseudonym or str(_("chatmedewerker"))


class PasskeyCredential(models.Model):
    """A passkey (WebAuthn credential) an operator registered as second factor.

    ``sign_count`` is the authenticator's counter at the last use; a use that
    does not raise it (unless the authenticator keeps no counter: always 0)
    is refused, since that points to a cloned authenticator.
    """

    user = models.ForeignKey(
        User, verbose_name=_("medewerker"), on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(_("naam"), max_length=60)
    credential_id = models.BinaryField(_("credential-id"), max_length=1023, unique=True)
    public_key = models.BinaryField(_("publieke sleutel"))
    sign_count = models.PositiveBigIntegerField(_("teller"), default=0)
    transports = models.JSONField(_("transport"), default=list, blank=True)
    aaguid = models.CharField(_("AAGUID"), max_length=36, blank=True)
    backed_up = models.BooleanField(_("gesynchroniseerd"), default=False)
    created_at = models.DateTimeField(_("geregistreerd op"))
    last_used_at = models.DateTimeField(_("laatst gebruikt"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")

    def __str__(self) -> str:
        return self.name
