"""Shift blocks (*diensten*), who signed up for them, and calendar feeds.

A block is a stretch of 2.5–3 hours inside one opening period, with the
minimum number of operators it needs and whether one of them must be of a
medical discipline (doctor or nurse). Operators sign up for blocks; the
coverage of a block is derived from its sign-ups (``selectors``), never
stored. Every write goes through ``services``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE

#: The minimum number of operators a block asks for unless told otherwise
#: (DOMAIN.md: 4–6 online at once).
DEFAULT_MIN_OPERATORS = 4


def feed_token_hash(token: str) -> str:
    """The stored form of a calendar-feed token."""
    return hashlib.sha256(token.encode()).hexdigest()


class ShiftBlock(models.Model):
    starts_at = models.DateTimeField(_("begint om"))
    ends_at = models.DateTimeField(_("eindigt om"))
    min_operators = models.PositiveSmallIntegerField(
        _("minimum aantal chatmedewerkers"), default=DEFAULT_MIN_OPERATORS
    )
    medical_required = models.BooleanField(_("medische discipline vereist"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("aangemaakt op"))

    class Meta:
        verbose_name = _("dienstblok")
        verbose_name_plural = _("dienstblokken")
        ordering = ["starts_at", "ends_at", "pk"]
        indexes = [models.Index(fields=["starts_at"], name="shifts_block_starts_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shifts_block_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(min_operators__gte=1), name="shifts_block_min_operators_1"
            ),
            models.UniqueConstraint(fields=["starts_at", "ends_at"], name="shifts_block_unique"),
        ]

    def __str__(self) -> str:
        starts = self.starts_at.astimezone(HELPLINE_TIMEZONE)
        ends = self.ends_at.astimezone(HELPLINE_TIMEZONE)
        return f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"


class ShiftSignup(models.Model):
    """An operator signed up for a block. Withdrawing deletes the row."""

    block = models.ForeignKey(ShiftBlock, on_delete=models.CASCADE, related_name="signups")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift_signups"
    )
    created_at = models.DateTimeField(_("ingeschreven op"))

    class Meta:
        verbose_name = _("inschrijving")
        verbose_name_plural = _("inschrijvingen")
        ordering = ["block", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["block", "operator"], name="shifts_signup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} in {self.block_id}"


class CalendarFeed(models.Model):
    """An operator's secret calendar address (one at most).

    Calendar apps cannot sign in, so the address itself is the key. Only the
    SHA-256 hash of its token is stored: the address is shown once, when it is
    made; making a new one or revoking it deletes the old one.
    """

    operator = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift_calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("aangemaakt op"))

    class Meta:
        verbose_name = _("agenda-abonnement")
        verbose_name_plural = _("agenda-abonnementen")

    def __str__(self) -> str:
        return f"calendar feed of {self.operator_id}"
