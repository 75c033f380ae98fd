"""What the statistics store of their own: the coordinators' foreword of an annual report.

Every figure is computed from the conversations and registrations
(``figures``); only the words a coordinator writes for a report live here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The longest foreword, in characters: about one A4 page of the report.
FOREWORD_MAX_CHARS = 5000
#: The most paragraphs a foreword may have (blank lines separate them).
FOREWORD_MAX_PARAGRAPHS = 30


class Foreword(models.Model):
    """The foreword (*voorwoord*) of one school year's annual report, written
    by a coordinator; the report shows it instead of the generated one.

    Plain text: paragraphs separated by a blank line, shown escaped. Written
    only through ``services.foreword_set``.
    """

    school_year = models.PositiveSmallIntegerField(
        _("schooljaar"), unique=True, help_text=_("het beginjaar: 2024 is 2024-2025")
    )
    text = models.TextField(_("tekst"), max_length=FOREWORD_MAX_CHARS)
    updated_at = models.DateTimeField(_("gewijzigd op"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gewijzigd door"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-school_year"]
        verbose_name = _("voorwoord")
        verbose_name_plural = _("voorwoorden")

    def __str__(self) -> str:
        return f"{self.school_year}-{self.school_year + 1}"
