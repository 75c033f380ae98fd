"""Offers of a queued chat to one operator (automatic assignment).

An offer gives one operator, for ``ONTHAAL_OFFER_TIMEOUT_SECONDS``, the sole
right to accept a queued chat. Accepting still goes through
``chat.services.conversation_accept``: an offer never changes the
conversation itself, so the conversation's state machine stays in one place
and "never two operators on one chat" rests on its conditional UPDATE.
At most one offer per conversation is open (a partial unique constraint), so
two processes assigning at once cannot offer one visitor to two people.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("aangenomen")
    DECLINED = "declined", _("geweigerd")
    EXPIRED = "expired", _("verlopen")
    # The chat left the queue otherwise (a colleague took it, the visitor
    # left, closing time) or the operator went on pause or offline.
    WITHDRAWN = "withdrawn", _("ingetrokken")


class Offer(models.Model):
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.CASCADE, related_name="offers"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("aanbod")
        verbose_name_plural = _("aanbiedingen")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["outcome", "expires_at"], name="assign_offer_outcome_exp"),
            models.Index(fields=["operator", "outcome"], name="assign_offer_operator"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(outcome="open"),
                name="assign_offer_one_open_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(outcome="open") | Q(answered_at__isnull=False),
                name="assign_offer_answered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} of {self.conversation_id} to {self.operator_id} ({self.outcome})"
