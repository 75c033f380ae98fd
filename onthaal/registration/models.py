"""The topic taxonomy and the operator's post-chat registration.

Topics and results are data that coordinators edit. They are never deleted
once used (``PROTECT``): a retired one is marked inactive, so that reports of
earlier years still count it under its own name.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Domain(models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("naam"), max_length=100)
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("domein")
        verbose_name_plural = _("domeinen")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Topic(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="topics")
    name = models.CharField(_("naam"), max_length=100)
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["domain__position", "position", "name"]
        verbose_name = _("thema")
        verbose_name_plural = _("thema's")
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="registration_topic_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Result(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("naam"), max_length=100)
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("resultaat")
        verbose_name_plural = _("resultaten")

    def __str__(self) -> str:
        return self.name


class Registration(models.Model):
    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.CASCADE, related_name="registration"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registrations"
    )
    topics = models.ManyToManyField(Topic, related_name="registrations", blank=True)
    results = models.ManyToManyField(Result, related_name="registrations", blank=True)
    prank_suspected = models.BooleanField(_("vermoedelijke nepoproep"), default=False)
    note = models.TextField(_("notitie"), blank=True, max_length=2000)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("registratie")
        verbose_name_plural = _("registraties")

    def __str__(self) -> str:
        return f"registration of {self.conversation_id}"
