"""Operators (chatmedewerkers), coordinators and administrators."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
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
    totp_secret = models.CharField(max_length=64, blank=True, editable=False)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    totp_last_counter = models.BigIntegerField(default=0, editable=False)

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
    def display_name(self) -> str:
        """What a visitor sees: the pseudonym, never the real name."""
        return self.pseudonym or str(_("chatmedewerker"))
