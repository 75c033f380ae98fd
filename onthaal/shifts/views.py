"""Pages of shifts (``/diensten/``), server-rendered without scripts.

- ``/diensten/``: coverage and the staffing forecast for a date range. A
  coordinator also plans blocks here; an analyst reads it without names.
  Operators are sent to their own page.
- ``/diensten/mijn/``: your shifts, open blocks to sign up for, and your
  calendar feed.
- ``/diensten/agenda/<token>.ics``: the calendar feed, opened by the secret
  token alone (calendar apps cannot sign in).

Every form posts to a small view that calls one service and redirects back
with a message (post/redirect/get), except a new calendar address, which is
shown in the answer to the POST itself: it is stored nowhere but in its hash.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from onthaal.errors import ServiceError
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.shifts import selectors, services
from onthaal.shifts.ical import shift_calendar
from onthaal.shifts.models import DEFAULT_MIN_OPERATORS
from onthaal.shifts.selectors import DEFAULT_TARGET_WAIT_SECONDS, MAX_RANGE_DAYS
from onthaal.shifts.services import MAX_MIN_OPERATORS
from onthaal.staff.models import User

#: How many days the pages show when no range is asked for.
DEFAULT_RANGE_DAYS = 28
#: How far ahead an operator's page lists open blocks.
OPEN_BLOCKS_DAYS = 56
#: How far back the calendar feed keeps past shifts.
FEED_PAST_DAYS = 90

FLAG_LABELS = {
    "understaffed": gettext_lazy("te weinig chatmedewerkers"),
    "missing_medical": gettext_lazy("geen arts of verpleegkundige"),
    "outside_opening_hours": gettext_lazy("buiten de openingsuren"),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"


class RangeForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Van"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("Tot en met"), widget=DateInput())
    target_minutes = forms.FloatField(
        label=gettext_lazy("Doel gemiddelde wachttijd (minuten)"),
        min_value=0.1,
        max_value=60,
        required=False,
        initial=DEFAULT_TARGET_WAIT_SECONDS / 60,
        widget=forms.NumberInput(attrs={"step": "0.5"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and (start > end or (end - start).days + 1 > MAX_RANGE_DAYS):
            raise forms.ValidationError(
                _("Kies een begindatum vóór de einddatum, hoogstens %(days)s dagen uit elkaar.")
                % {"days": MAX_RANGE_DAYS}
            )
        return data


class BlockForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Datum"), widget=DateInput())
    starts = forms.TimeField(label=gettext_lazy("Begint om"), widget=TimeInput())
    ends = forms.TimeField(label=gettext_lazy("Eindigt om"), widget=TimeInput())
    min_operators = forms.IntegerField(
        label=gettext_lazy("Minimum aantal chatmedewerkers"),
        min_value=1,
        max_value=MAX_MIN_OPERATORS,
        initial=DEFAULT_MIN_OPERATORS,
    )
    medical_required = forms.BooleanField(
        label=gettext_lazy("Een arts of verpleegkundige is vereist"),
        required=False,
        initial=True,
    )


class GenerateForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Van"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("Tot en met"), widget=DateInput())
    min_operators = forms.IntegerField(
        label=gettext_lazy("Minimum aantal chatmedewerkers"),
        min_value=1,
        max_value=MAX_MIN_OPERATORS,
        initial=DEFAULT_MIN_OPERATORS,
    )
    medical_required = forms.BooleanField(
        label=gettext_lazy("Een arts of verpleegkundige is vereist"),
        required=False,
        initial=True,
    )


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _today() -> date:
    return timezone.localdate(timezone=HELPLINE_TIMEZONE)


def _report(request: HttpRequest, error: ServiceError) -> None:
    messages.error(request, error.message)


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@login_required
@never_cache
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Coverage and forecast (coordinators and analysts); operators go to their page."""
    user = _user(request)
    if not user.is_coordinator and user.can_chat:
        return redirect("shifts:mine")
    today = _today()
    form = RangeForm(
        request.GET or None,
        auto_id="range-%s",
        initial={
            "start": today,
            "end": today + timedelta(days=DEFAULT_RANGE_DAYS - 1),
            "target_minutes": DEFAULT_TARGET_WAIT_SECONDS / 60,
        },
    )
    start, end = today, today + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    target_seconds = DEFAULT_TARGET_WAIT_SECONDS
    if form.is_bound:
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            if form.cleaned_data["target_minutes"]:
                target_seconds = max(1, round(form.cleaned_data["target_minutes"] * 60))
        else:
            messages.error(request, _("Dat bereik is ongeldig; hieronder de standaardperiode."))
        # Show what the page shows, filled in.
        form = RangeForm(
            auto_id="range-%s",
            initial={"start": start, "end": end, "target_minutes": target_seconds / 60},
        )
    forecast = selectors.staffing_forecast(start=start, end=end, target_wait_seconds=target_seconds)
    # Blocks that have ended are not forecast but still shown, for the record.
    forecasts = {item.coverage.block.pk: item for item in forecast.blocks}
    rows = [
        {
            "coverage": coverage,
            "forecast": forecasts.get(coverage.block.pk),
            "flags": [FLAG_LABELS[flag] for flag in coverage.flags],
        }
        for coverage in selectors.coverage_in_range(start=start, end=end)
    ]
    return render(
        request,
        "shifts/overview.html",
        {
            "range_form": form,
            "start": start,
            "end": end,
            "rows": rows,
            "problems": sum(1 for row in rows if row["flags"]),
            "forecast": forecast,
            "target_minutes": target_seconds / 60,
            "can_manage": user.is_coordinator,
            "show_names": user.is_coordinator,
            # Distinct id prefixes: three forms on one page share field names.
            "block_form": BlockForm(auto_id="block-%s", initial={"day": today + timedelta(days=1)}),
            "generate_form": GenerateForm(
                auto_id="generate-%s",
                initial={"start": start, "end": end, "medical_required": True},
            ),
            "tz": HELPLINE_TIMEZONE,
        },
    )


def _mine_context(request: HttpRequest, user: User) -> dict[str, Any]:
    now = timezone.now()
    today = _today()
    return {
        "shifts": selectors.operator_shifts(operator=user, since=now),
        "open_blocks": [
            {"coverage": coverage, "flags": [FLAG_LABELS[f] for f in coverage.flags]}
            for coverage in selectors.open_blocks(
                operator=user, now=now, end=today + timedelta(days=OPEN_BLOCKS_DAYS)
            )
        ],
        "has_feed": selectors.calendar_feed_exists(operator=user),
        "tz": HELPLINE_TIMEZONE,
        "is_coordinator": user.is_coordinator,
    }


@login_required
@never_cache
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """Your shifts, the open blocks and your calendar feed."""
    user = _user(request)
    if not user.can_chat:
        return redirect("shifts:overview")
    return render(request, "shifts/mine.html", _mine_context(request, user))


@login_required
@require_POST
def block_create(request: HttpRequest) -> HttpResponse:
    form = BlockForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("shifts:overview")
    day = form.cleaned_data["day"]

    def at(moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=HELPLINE_TIMEZONE)

    try:
        block = services.shift_block_create(
            starts_at=at(form.cleaned_data["starts"]),
            ends_at=at(form.cleaned_data["ends"]),
            min_operators=form.cleaned_data["min_operators"],
            medical_required=form.cleaned_data["medical_required"],
            created_by=_user(request),
        )
    except ServiceError as error:
        _report(request, error)
    else:
        local = block.starts_at.astimezone(HELPLINE_TIMEZONE)
        messages.success(
            request,
            _("Dienstblok op %(day)s om %(time)s gepland.")
            % {"day": local.date().isoformat(), "time": local.strftime("%H:%M")},
        )
    return redirect("shifts:overview")


@login_required
@require_POST
def blocks_generate(request: HttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("shifts:overview")
    try:
        result = services.shift_blocks_generate(
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            min_operators=form.cleaned_data["min_operators"],
            medical_required=form.cleaned_data["medical_required"],
            created_by=_user(request),
        )
    except ServiceError as error:
        _report(request, error)
    else:
        messages.success(
            request,
            _("%(created)s dienstblokken aangemaakt; %(skipped)s openingsperiodes overgeslagen.")
            % {"created": len(result.created), "skipped": len(result.skipped)},
        )
    return redirect("shifts:overview")


@login_required
@require_POST
def block_delete(request: HttpRequest, block_id: int) -> HttpResponse:
    try:
        services.shift_block_delete(block_id=block_id, actor=_user(request))
    except ServiceError as error:
        _report(request, error)
    else:
        messages.success(request, _("Dienstblok verwijderd."))
    return redirect("shifts:overview")


@login_required
@require_POST
def signup_create(request: HttpRequest, block_id: int) -> HttpResponse:
    try:
        services.shift_signup_create(block_id=block_id, operator=_user(request))
    except ServiceError as error:
        _report(request, error)
    else:
        messages.success(request, _("Je bent ingeschreven."))
    return redirect("shifts:mine")


@login_required
@require_POST
def signup_withdraw(request: HttpRequest, block_id: int) -> HttpResponse:
    try:
        services.shift_signup_withdraw(block_id=block_id, operator=_user(request))
    except ServiceError as error:
        _report(request, error)
    else:
        messages.success(request, _("Je bent uitgeschreven."))
    return redirect("shifts:mine")


@login_required
@never_cache
@require_POST
def feed_regenerate(request: HttpRequest) -> HttpResponse:
    """Make a new calendar address and show it once, in this very answer."""
    user = _user(request)
    try:
        token = services.calendar_feed_regenerate(operator=user)
    except ServiceError as error:
        _report(request, error)
        return redirect("shifts:overview")
    url = request.build_absolute_uri(reverse("shifts:feed", args=[token]))
    context = _mine_context(request, user)
    context["new_feed_url"] = url
    context["new_feed_webcal"] = "webcal://" + url.split("://", 1)[1]
    return render(request, "shifts/mine.html", context)


@login_required
@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    if services.calendar_feed_revoke(operator=_user(request)):
        messages.success(request, _("Je agenda-adres werkt niet meer."))
    return redirect("shifts:mine")


@never_cache
@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed of the operator whose secret ``token`` this is.

    A wrong or revoked token is a plain 404, like an address that never existed.
    """
    operator = selectors.calendar_feed_operator(token=token)
    if operator is None:
        raise Http404
    now = timezone.now()
    body = shift_calendar(
        blocks=selectors.operator_shifts(
            operator=operator, since=now - timedelta(days=FEED_PAST_DAYS)
        ),
        operator_id=operator.pk,
        domain=request.get_host().split(":", 1)[0],
        stamp=now,
        link=request.build_absolute_uri(reverse("shifts:mine")),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="diensten.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
