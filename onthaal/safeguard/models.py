"""Returning visitors, prank reviews and blocks.

Nothing here identifies a visitor. A visitor's browser keeps a random
*returning-visitor key* (``localStorage``); the server stores only a keyed
hash of it (:func:`onthaal.safeguard.keys.visitor_key_hash`), linked to the
chats it started (:class:`ConversationVisitor`). A coordinator's decision on a
chat the operator registered as a suspected prank is a :class:`PrankReview`;
a confirmed one marks the visitor's hash for ``ONTHAAL_PRANK_MARK_DAYS``, so
that an operator is alerted when that visitor returns. A
:class:`VisitorBlock` refuses that hash's intake for a period.

Every hash here is removed by retention when it is no longer needed
(``services.safeguard_purge``; docs/security.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConversationVisitor(models.Model):
    """Which returning-visitor key (as a keyed hash) started this chat.

    Deleted with the transcript (``ONTHAAL_TRANSCRIPT_RETENTION_DAYS`` after
    the chat), unless an open prank review holds it.
    """

    conversation = models.OneToOneField(
        "chat.Conversation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="safeguard_visitor",
    )
    visitor_hash = models.CharField(max_length=64, db_index=True)
    linked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("terugkerende bezoeker")
        verbose_name_plural = _("terugkerende bezoekers")

    def __str__(self) -> str:
        return f"visitor of {self.conversation_id}"


class PrankDecision(models.TextChoices):
    CONFIRMED = "confirmed", _("bevestigd: nepoproep")
    DISMISSED = "dismissed", _("afgewezen: geen nepoproep")


class PrankReview(models.Model):
    """A coordinator's decision on a chat registered as a suspected prank.

    A chat registered with ``prank_suspected`` and without a review is in the
    review queue (open); this row closes it. A confirmed review keeps the
    visitor's hash until ``marked_until``: that is the marking.
    """

    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.CASCADE, related_name="prank_review"
    )
    decision = models.CharField(_("beslissing"), max_length=10, choices=PrankDecision.choices)
    # Only for a confirmed review, and emptied when the marking ends.
    visitor_hash = models.CharField(max_length=64, blank=True, db_index=True)
    marked_until = models.DateTimeField(_("gemarkeerd tot"), null=True, blank=True)
    note = models.TextField(_("notitie"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("beslist door"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("beslist op"))

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("beoordeling nepoproep")
        verbose_name_plural = _("beoordelingen nepoproep")
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="confirmed") | Q(visitor_hash=""),
                name="safeguard_review_only_confirmed_marks",
            ),
        ]

    def __str__(self) -> str:
        return f"prank review of {self.conversation_id} ({self.decision})"


class BlockDuration(models.TextChoices):
    HOURS_24 = "24h", _("24 uur")
    DAYS_7 = "7d", _("7 dagen")
    DAYS_30 = "30d", _("30 dagen")


BLOCK_HOURS = {
    BlockDuration.HOURS_24: 24,
    BlockDuration.DAYS_7: 7 * 24,
    BlockDuration.DAYS_30: 30 * 24,
}


class VisitorBlock(models.Model):
    """A coordinator refuses new chats from one returning-visitor key for a
    period. It ends by itself at ``ends_at``, or earlier when lifted."""

    # Emptied by retention once the block is over.
    visitor_hash = models.CharField(max_length=64, blank=True, db_index=True)
    conversation = models.ForeignKey(
        "chat.Conversation",
        verbose_name=_("vanuit gesprek"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duration = models.CharField(_("duur"), max_length=5, choices=BlockDuration.choices)
    reason = models.TextField(_("reden"), blank=True)
    starts_at = models.DateTimeField(_("vanaf"))
    ends_at = models.DateTimeField(_("tot"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("door"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("opgeheven op"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opgeheven door"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("blokkering")
        verbose_name_plural = _("blokkeringen")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="safeguard_block_ordered"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_by__isnull=False),
                name="safeguard_block_lifted_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"block {self.pk} until {self.ends_at:%Y-%m-%d %H:%M}"
