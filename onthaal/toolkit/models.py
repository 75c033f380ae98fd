"""The operator's working tools: canned responses and the social map.

A :class:`CannedResponse` (*snelantwoord*) is a text an operator inserts in
the console by typing its short code (``/welkom``) and pressing Tab. Shared
ones (``owner`` empty) are managed by coordinators; personal ones belong to
one operator, and nobody else sees them.

The :class:`SocialMapEntry` list (*sociale kaart*) holds the online tools and
helplines the sector recommends, each with its CLB domains, theme, audience
and age range. Operators search it from the console; the visitor page offers
the fitting ones as alternatives while the wait is long.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Bounds checked by the services (and mirrored by the model fields).
CODE_MIN_LENGTH = 2
CODE_MAX_LENGTH = 30
TITLE_MAX_LENGTH = 80
BODY_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 100
URL_MAX_LENGTH = 300
THEME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 500
PHONE_MAX_LENGTH = 20


class CannedResponse(models.Model):
    """``code`` is stored without its leading slash, in lower case."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("eigenaar"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text=_("Leeg: gedeeld met iedereen."),
    )
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH)
    title = models.CharField(_("titel"), max_length=TITLE_MAX_LENGTH)
    body = models.TextField(_("tekst"), max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(_("gemaakt op"))
    updated_at = models.DateTimeField(_("gewijzigd op"))

    class Meta:
        ordering = ["code", "id"]
        verbose_name = _("snelantwoord")
        verbose_name_plural = _("snelantwoorden")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(owner__isnull=True),
                name="toolkit_canned_shared_code_unique",
            ),
            models.UniqueConstraint(
                fields=["owner", "code"],
                condition=Q(owner__isnull=False),
                name="toolkit_canned_personal_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.code}"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class ResourceKind(models.TextChoices):
    TOOL = "tool", _("online hulpmiddel")
    HELPLINE = "helpline", _("hulplijn")


class ResourceAudience(models.TextChoices):
    ALL = "all", _("leerlingen en ouders")
    PUPIL = "pupil", _("leerlingen")
    PARENT = "parent", _("ouders")


class SocialMapEntry(models.Model):
    """One recommended online tool or helpline. ``age_min``/``age_max`` empty:
    no bound. ``position`` orders the list (lowest first), then the name."""

    name = models.CharField(_("naam"), max_length=NAME_MAX_LENGTH, unique=True)
    url = models.URLField(_("webadres"), max_length=URL_MAX_LENGTH)
    kind = models.CharField(
        _("soort"), max_length=10, choices=ResourceKind.choices, default=ResourceKind.TOOL
    )
    phone = models.CharField(_("telefoonnummer"), max_length=PHONE_MAX_LENGTH, blank=True)
    domains = models.ManyToManyField(
        "registration.Domain", verbose_name=_("domeinen"), blank=True, related_name="+"
    )
    theme = models.CharField(_("thema"), max_length=THEME_MAX_LENGTH, blank=True)
    audience = models.CharField(
        _("doelgroep"),
        max_length=10,
        choices=ResourceAudience.choices,
        default=ResourceAudience.ALL,
    )
    age_min = models.PositiveSmallIntegerField(_("vanaf leeftijd"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("tot en met leeftijd"), null=True, blank=True)
    description = models.TextField(_("korte beschrijving"), max_length=DESCRIPTION_MAX_LENGTH)
    is_active = models.BooleanField(_("actief"), default=True)
    offer_while_waiting = models.BooleanField(
        _("aanbieden aan wachtende bezoekers"),
        default=True,
        help_text=_("Tonen als alternatief wanneer een bezoeker lang wacht."),
    )
    position = models.PositiveSmallIntegerField(_("volgorde"), default=100)
    created_at = models.DateTimeField(_("gemaakt op"))
    updated_at = models.DateTimeField(_("gewijzigd op"))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("item van de sociale kaart")
        verbose_name_plural = _("sociale kaart")
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=models.F("age_max")),
                name="toolkit_socialmap_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
