"""The audit log: who did what, when. Append-only.

Rows are only ever inserted (``audit.services.audit_record``); the admin
shows them read-only. It never holds message text or anything identifying a
visitor: targets are ids.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LOGIN = "login", _("aangemeld")
    LOGIN_FAILED = "login_failed", _("aanmelden mislukt")
    LOGOUT = "logout", _("afgemeld")
    TRANSCRIPT_OPENED = "transcript_opened", _("transcript geopend")
    EXPORT = "export", _("export")
    ACCOUNT_CREATED = "account_created", _("account aangemaakt")
    ACCOUNT_CHANGED = "account_changed", _("account gewijzigd")
    ROLE_CHANGED = "role_changed", _("rol gewijzigd")
    PRANK_REVIEWED = "prank_reviewed", _("nepoproep beoordeeld")
    VISITOR_BLOCKED = "visitor_blocked", _("bezoeker geblokkeerd")
    VISITOR_UNBLOCKED = "visitor_unblocked", _("blokkering opgeheven")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("tijdstip"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("door"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # For failed logins there is no actor: the name that was tried.
    actor_name = models.CharField(_("naam"), max_length=150, blank=True)
    action = models.CharField(_("actie"), max_length=30, choices=Action.choices, db_index=True)
    target = models.CharField(_("doel"), max_length=100, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("auditregel")
        verbose_name_plural = _("auditlog")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"
