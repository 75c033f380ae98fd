"""Supervision of the live line: who has a console open, requests for
support, coordinators reading along, and text between staff about a live
chat (whispers and transfer notes) that a visitor never sees.

Presence is kept in the database, not in process memory, so that every
server process sees the same consoles. A row per open console socket: it is
deleted when the socket closes, and a row whose process died stops counting
once it has not been seen for ``PRESENCE_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onthaal.chat.fields import EncryptedTextField
from onthaal.chat.models import Conversation

# The console pings every 20 s: three missed pings and it is gone.
PRESENCE_TIMEOUT_SECONDS = 60


class ConsoleConnection(models.Model):
    """One open operator-console websocket."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_connections"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    opened_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("open console")
        verbose_name_plural = _("open consoles")

    def __str__(self) -> str:
        return f"console of {self.user_id}"


class SupportRequest(models.Model):
    """An operator asked a coordinator to back them up in a live chat."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="support_requests"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("vraag om ondersteuning")
        verbose_name_plural = _("vragen om ondersteuning")

    def __str__(self) -> str:
        return f"support for {self.conversation_id}"


class ReadAlong(models.Model):
    """A coordinator reading a live chat; open while ``ended_at`` is null."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_alongs"
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "coordinator"],
                condition=Q(ended_at__isnull=True),
                name="supervision_one_open_read_along",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coordinator_id} reads {self.conversation_id}"


class NoteKind(models.TextChoices):
    WHISPER = "whisper", _("fluisterbericht")
    TRANSFER_NOTE = "transfer_note", _("overdrachtsnotitie")


class StaffNote(models.Model):
    """Text between staff about a live chat. Never sent to the visitor;
    encrypted like messages and deleted with the transcript (chat.retention)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="staff_notes"
    )
    kind = models.CharField(max_length=20, choices=NoteKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} in {self.conversation_id}"
