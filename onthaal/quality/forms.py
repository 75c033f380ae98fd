"""Forms of the chat scan pages: they parse and label input, nothing more.
The rules (ranges, who may do what) are the services' job."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onthaal.quality.models import Criterion, Score
from onthaal.quality.services import MAX_FEEDBACK_CHARS, MAX_PER_OPERATOR, SEED_LIMIT
from onthaal.staff.models import User


def last_month() -> tuple[date, date]:
    """The previous calendar month: the usual period of a scan."""
    first_of_this_month = timezone.localdate().replace(day=1)
    end = first_of_this_month - timedelta(days=1)
    return end.replace(day=1), end


class DrawForm(forms.Form):
    period_start = forms.DateField(
        label=_("Van"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    period_end = forms.DateField(
        label=_("Tot en met"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    per_operator = forms.IntegerField(
        label=_("Aantal chats per chatmedewerker"),
        min_value=1,
        max_value=MAX_PER_OPERATOR,
        initial=2,
    )
    operator_ids = forms.TypedMultipleChoiceField(
        label=_("Alleen deze chatmedewerkers (niet verplicht)"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8, "aria-describedby": "operator-ids-help"}),
    )
    seed = forms.IntegerField(
        label=_("Seed (niet verplicht)"),
        min_value=0,
        max_value=SEED_LIMIT - 1,
        required=False,
        widget=forms.NumberInput(attrs={"aria-describedby": "seed-help"}),
    )

    def __init__(self, *args: Any, operators: list[User], **kwargs: Any) -> None:
        start, end = last_month()
        kwargs.setdefault("initial", {"period_start": start, "period_end": end})
        super().__init__(*args, **kwargs)
        choices = [(u.pk, f"{u.display_name} ({u.username})") for u in operators]
        self.fields["operator_ids"].choices = choices  # type: ignore[attr-defined]


class FeedbackForm(forms.Form):
    strengths = forms.CharField(
        label=_("Sterke punten"),
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    improvements = forms.CharField(
        label=_("Werkpunten"),
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    comment = forms.CharField(
        label=_("Verdere feedback"),
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            ("", _("niet van toepassing")),
            *((str(s.value), f"{s.value} – {s.label}") for s in Score),
        ]
        for criterion in Criterion:
            self.fields[f"score_{criterion.value}"] = forms.TypedChoiceField(
                label=criterion.label,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                initial="",
                widget=forms.RadioSelect,
            )

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{c}"] for c in Criterion.values]

    def text_fields(self) -> list[forms.BoundField]:
        return [self["strengths"], self["improvements"], self["comment"]]

    def scores(self) -> dict[str, int | None]:
        return {c: self.cleaned_data.get(f"score_{c}") for c in Criterion.values}
