"""Conversations, their messages and their history of events.

A conversation moves through one state machine (see ``services``):
queued → active → ended, or queued → ended (missed, closed). Nothing here
identifies a visitor: no IP address, no user agent, no name. The visitor holds
a random token; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onthaal.chat.fields import EncryptedTextField


def hash_token(token: str) -> str:
    """The stored form of a visitor's token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Channel(models.TextChoices):
    CHAT = "chat", _("chat")


class Status(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    ACTIVE = "active", _("lopend")
    ENDED = "ended", _("beëindigd")


class EndReason(models.TextChoices):
    VISITOR_ENDED = "visitor_ended", _("beëindigd door bezoeker")
    OPERATOR_ENDED = "operator_ended", _("beëindigd door chatmedewerker")
    BROKE_OFF = "broke_off", _("plots afgebroken")
    MISSED = "missed", _("gemist (onbeantwoord uit de wachtrij)")
    CLOSED = "closed", _("gesloten bij sluitingstijd")


class Audience(models.TextChoices):
    PUPIL = "pupil", _("leerling")
    PARENT = "parent", _("ouder")


class Gender(models.TextChoices):
    GIRL = "girl", _("meisje")
    BOY = "boy", _("jongen")
    X = "x", _("X")


class ReferralSource(models.TextChoices):
    SMARTSCHOOL = "smartschool", _("Smartschool")
    EARLIER_VISIT = "earlier_visit", _("Ik bezocht CLBch@t eerder al")
    INTERNET = "internet", _("Internet")
    CLB_WEBSITE = "clb_website", _("Website van het CLB")
    AWEL = "awel", _("Awel")
    SCHOOL_WEBSITE = "school_website", _("Website van de school")
    SOCIAL_MEDIA = "social_media", _("Sociale media")
    POSTER = "poster", _("Affiche")
    FLYER = "flyer", _("Flyer")
    OTHER = "other", _("Andere")


class DeviceClass(models.TextChoices):
    MOBILE = "mobile", _("gsm of tablet")
    DESKTOP = "desktop", _("computer")


class Origin(models.TextChoices):
    LIVE = "live", _("live")
    IMPORTED = "imported", _("geïmporteerd")
    DEMO = "demo", _("demo")


class Sender(models.TextChoices):
    VISITOR = "visitor", _("bezoeker")
    OPERATOR = "operator", _("chatmedewerker")


class EventKind(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    ACCEPTED = "accepted", _("aangenomen")
    ENDED = "ended", _("beëindigd")
    RATED = "rated", _("beoordeeld")
    REGISTERED = "registered", _("geregistreerd")
    PURGED = "purged", _("transcript gewist")
    SUPPORT_REQUESTED = "support_requested", _("ondersteuning gevraagd")
    TRANSFERRED = "transferred", _("overgedragen")
    TAKEN_OVER = "taken_over", _("overgenomen")


class Conversation(models.Model):
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.CHAT)
    # Where the row came from: a live chat here, an import of history from an
    # earlier tool (with that tool's id, so a re-import adds nothing), or
    # generated demo data (removable in one command).
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.LIVE)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    # Intake: every answer may be skipped (blank / null).
    audience = models.CharField(max_length=10, choices=Audience.choices, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices, blank=True)

    device_class = models.CharField(max_length=10, choices=DeviceClass.choices)
    language = models.CharField(max_length=10, default="nl-be")

    queued_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
    )

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    visitor_seen_at = models.DateTimeField()

    # Delivery and read state: the highest message id each side has received / read.
    visitor_delivered_id = models.BigIntegerField(default=0)
    visitor_read_id = models.BigIntegerField(default=0)
    operator_delivered_id = models.BigIntegerField(default=0)
    operator_read_id = models.BigIntegerField(default=0)

    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("gesprek")
        verbose_name_plural = _("gesprekken")
        indexes = [
            models.Index(fields=["status", "queued_at"], name="chat_conv_status_queued"),
            models.Index(fields=["operator", "status"], name="chat_conv_operator_status"),
            models.Index(fields=["queued_at"], name="chat_conv_queued_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="chat_conv_rating_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | ~Q(end_reason=""),
                name="chat_conv_ended_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.status})"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = EncryptedTextField()
    # The sending client's idempotency key: a resend with the same key is
    # answered with the stored message instead of storing it twice.
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"], name="chat_msg_idempotent"
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"


class ConversationEvent(models.Model):
    """Append-only history of a conversation, read by statistics and audits."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.conversation_id}"
