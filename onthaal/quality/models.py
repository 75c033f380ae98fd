"""Chat scans (*chatscan*): feedback on transcripts drawn at random.

A coordinator draws a :class:`ChatScan`: for a period, a number of finished
chats per operator, picked by a seeded random generator (the seed is stored,
so that the draw can be repeated and checked). Each drawn chat becomes one
:class:`ScanReview`. While a review is open, retention keeps the chat's
transcript (at most ``ONTHAAL_SCAN_HOLD_MAX_DAYS`` after the chat ended); the
coordinator reads it, fills in the feedback, and the review closes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("te beoordelen")
    REVIEWED = "reviewed", _("beoordeeld")


class Criterion(models.TextChoices):
    """What the feedback scores, 1–5 each (or not applicable). Each value is
    also the suffix of a ``score_<value>`` field of :class:`ScanReview`."""

    WELCOME = "welcome", _("Onthaal en contact")
    CLARIFYING = "clarifying", _("Vraagverheldering")
    INFORMATION = "information", _("Informatie en advies")
    SUPPORT = "support", _("Emotionele ondersteuning")
    REFERRAL = "referral", _("Doorverwijzing")
    CLOSING = "closing", _("Afsluiting")


class Score(models.IntegerChoices):
    WEAK = 1, _("zwak")
    FAIR = 2, _("kan beter")
    ADEQUATE = 3, _("voldoende")
    GOOD = 4, _("goed")
    STRONG = 5, _("sterk")


class ChatScan(models.Model):
    """One draw: its parameters and seed, so the same draw can be repeated."""

    period_start = models.DateField(_("begin van de periode"))
    period_end = models.DateField(_("einde van de periode"))
    per_operator = models.PositiveSmallIntegerField(_("chats per chatmedewerker"))
    # The operators the coordinator limited the draw to; empty: everyone.
    operator_ids = models.JSONField(_("beperkt tot"), default=list, blank=True)
    seed = models.BigIntegerField(_("seed"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("getrokken door"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("getrokken op"))

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = _("chatscan")
        verbose_name_plural = _("chatscans")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="quality_scan_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"chatscan {self.pk} ({self.period_start} – {self.period_end})"


def _score_field(label: str) -> models.PositiveSmallIntegerField:
    # Empty: not applicable in this chat (not every chat needs a referral).
    return models.PositiveSmallIntegerField(label, choices=Score.choices, null=True, blank=True)


class ScanReview(models.Model):
    """One drawn chat and the coordinator's feedback on it.

    A chat is drawn at most once (one-to-one), so that no operator gets
    feedback twice on the same chat and a hold has one owner.
    """

    scan = models.ForeignKey(ChatScan, on_delete=models.CASCADE, related_name="reviews")
    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.CASCADE, related_name="scan_review"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    score_welcome = _score_field(Criterion.WELCOME.label)
    score_clarifying = _score_field(Criterion.CLARIFYING.label)
    score_information = _score_field(Criterion.INFORMATION.label)
    score_support = _score_field(Criterion.SUPPORT.label)
    score_referral = _score_field(Criterion.REFERRAL.label)
    score_closing = _score_field(Criterion.CLOSING.label)
    strengths = models.TextField(_("sterke punten"), blank=True)
    improvements = models.TextField(_("werkpunten"), blank=True)
    comment = models.TextField(_("verdere feedback"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("beoordeeld door"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("beoordeeld op"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("chatscanbeoordeling")
        verbose_name_plural = _("chatscanbeoordelingen")
        indexes = [models.Index(fields=["status"], name="quality_review_status")]
        constraints = [
            *(
                models.CheckConstraint(
                    condition=Q(**{f"score_{c}__isnull": True})
                    | Q(**{f"score_{c}__gte": 1, f"score_{c}__lte": 5}),
                    name=f"quality_review_{c}_1_5",
                )
                for c in Criterion.values
            ),
            models.CheckConstraint(
                condition=Q(status=ReviewStatus.OPEN)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="quality_review_reviewed_has_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"review of {self.conversation_id} ({self.status})"

    def score(self, criterion: str) -> int | None:
        value: int | None = getattr(self, f"score_{criterion}")
        return value
