"""Forms of the toolkit pages: they parse and label input, nothing more.
The rules (lengths, formats, unique codes, who may do what) are the
services' job; a service's error goes back onto the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from onthaal.errors import ServiceError
from onthaal.registration.models import Domain
from onthaal.toolkit.models import (
    BODY_MAX_LENGTH,
    CODE_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    THEME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    URL_MAX_LENGTH,
    ResourceAudience,
    ResourceKind,
)


def add_service_error(form: forms.Form, exc: ServiceError) -> None:
    """Show a service's refusal on the field it names, else above the form."""
    fields = exc.details.get("fields") if isinstance(exc.details.get("fields"), dict) else {}
    named = [f for f in (fields or {}) if f in form.fields]
    form.add_error(named[0] if named else None, exc.message)


class CannedResponseForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Voor wie"),
        choices=[("personal", _("Alleen voor mij")), ("shared", _("Gedeeld met iedereen"))],
        initial="personal",
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX_LENGTH + 1,
        widget=forms.TextInput(
            attrs={"aria-describedby": "code-help", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    title = forms.CharField(label=_("Titel"), max_length=TITLE_MAX_LENGTH)
    body = forms.CharField(
        label=_("Tekst"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, may_share: bool, with_scope: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not (may_share and with_scope):
            del self.fields["scope"]


class SocialMapEntryForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=NAME_MAX_LENGTH)
    url = forms.CharField(
        label=_("Webadres"),
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"aria-describedby": "url-help"}),
    )
    kind = forms.ChoiceField(label=_("Soort"), choices=ResourceKind.choices)
    phone = forms.CharField(
        label=_("Telefoonnummer (niet verplicht)"), max_length=PHONE_MAX_LENGTH, required=False
    )
    domains = forms.MultipleChoiceField(
        label=_("CLB-domeinen"), required=False, widget=forms.CheckboxSelectMultiple
    )
    theme = forms.CharField(
        label=_("Thema (bijvoorbeeld ‘mentaal welzijn’, ‘pesten’)"),
        max_length=THEME_MAX_LENGTH,
        required=False,
    )
    audience = forms.ChoiceField(label=_("Doelgroep"), choices=ResourceAudience.choices)
    age_min = forms.IntegerField(label=_("Vanaf leeftijd"), required=False)
    age_max = forms.IntegerField(label=_("Tot en met leeftijd"), required=False)
    description = forms.CharField(
        label=_("Korte beschrijving"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label=_("Actief"), required=False, initial=True)
    offer_while_waiting = forms.BooleanField(
        label=_("Aanbieden aan bezoekers die lang wachten"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["domains"].choices = [  # type: ignore[attr-defined]
            (d.code, f"{d.code} – {d.name}") for d in Domain.objects.filter(is_active=True)
        ]


class SocialMapSearchForm(forms.Form):
    q = forms.CharField(label=_("Zoek"), required=False, max_length=100)
