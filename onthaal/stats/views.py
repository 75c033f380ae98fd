"""The dashboard, ``/cijfers/``: the figures of a period, server-rendered.

Coordinators, administrators and analysts see every figure (analysts none
of one operator); an operator sees the figures of the chats they held
themselves (``selectors``).
No script: the filters are a GET form, the charts inline SVG.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onthaal.chat.models import Audience, Channel
from onthaal.errors import ServiceError
from onthaal.staff.models import User
from onthaal.stats import charts, figures, report, selectors, services
from onthaal.stats.models import FOREWORD_MAX_CHARS

TREND_YEARS = 10


class FiltersForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("Van"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("Tot en met"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Kanaal"),
        required=False,
        choices=[("", gettext_lazy("alle kanalen")), *Channel.choices],
    )
    audience = forms.ChoiceField(
        label=gettext_lazy("Doelgroep"),
        required=False,
        choices=[("", gettext_lazy("leerlingen en ouders")), *Audience.choices],
    )


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS_3[int(number)]} {year[2:]}"


def _busyness_table(cells: list[dict[str, int]]) -> dict[str, Any]:
    """Hours (rows) × weekdays (columns) of chats queued, with a level 0–4 per cell."""
    by_cell = {(c["weekday"], c["hour"]): c for c in cells}
    hours = sorted({c["hour"] for c in cells})
    weekdays = list(range(1, 8))
    largest = max((c["queued"] for c in cells), default=0) or 1
    rows = []
    for hour in hours:
        row = []
        for weekday in weekdays:
            cell = by_cell.get((weekday, hour), {"queued": 0, "missed": 0})
            level = 0 if not cell["queued"] else 1 + min(3, 4 * cell["queued"] // (largest + 1))
            row.append({"queued": cell["queued"], "missed": cell["missed"], "level": level})
        rows.append({"hour": hour, "cells": row})
    return {"weekdays": [WEEKDAYS[d - 1] for d in weekdays], "rows": rows}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    viewer: User = request.user  # type: ignore[assignment]
    form = FiltersForm(request.GET or None)
    values: dict[str, Any] = {}
    error = ""
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
    try:
        filters = selectors.filters_for_viewer(
            viewer=viewer,
            start=values.get("start"),
            end=values.get("end"),
            channel=values.get("channel"),
            audience=values.get("audience"),
        )
    except ServiceError as exc:
        error = exc.message
        filters = selectors.filters_for_viewer(viewer=viewer)
    data = selectors.figures_for_viewer(viewer=viewer, figures=figures.figures_for(filters))

    last_year = figures.school_year_of(filters.end)
    topic_ids = [t.pk for t in figures.topics_resolve(figures.DEFAULT_TREND_TOPICS, strict=False)]
    trend = figures.trends(
        last_year - TREND_YEARS + 1,
        last_year,
        topics=topic_ids,
        channel=filters.channel,
        audience=filters.audience,
        operator_id=filters.operator_id,
    )

    top_topic_charts = [
        {
            "audience": audience,
            "label": label,
            "items": data["top_topics"][audience],
            "chart": charts.bar_chart(
                [(item["name"], item["count"]) for item in data["top_topics"][audience]]
            ),
        }
        for audience, label in (
            (Audience.PUPIL.value, _("Leerlingen")),
            (Audience.PARENT.value, _("Ouders")),
        )
        if filters.audience in (None, audience)
    ]
    report_query = urlencode(
        {"year": figures.school_year_label(figures.school_year_of(filters.start)), "format": "pdf"}
    )
    query = urlencode(
        {
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            **({"channel": filters.channel} if filters.channel else {}),
            **({"audience": filters.audience} if filters.audience else {}),
        }
    )
    current = selectors.current_school_year()
    context = {
        "form": form,
        "error": error,
        "filters": filters,
        "sees_everyone": selectors.sees_everyone(viewer),
        "figures": data,
        "trend": trend,
        "export_query": query,
        "report_query": report_query,
        "writes_foreword": selectors.writes_foreword(viewer),
        "foreword_query": urlencode(
            {"year": figures.school_year_label(figures.school_year_of(filters.start))}
        ),
        "school_years": [
            {
                "label": figures.school_year_label(year),
                "query": urlencode(
                    {
                        "start": figures.school_year_dates(year)[0].isoformat(),
                        "end": figures.school_year_dates(year)[1].isoformat(),
                    }
                ),
            }
            for year in range(current, current - 6, -1)
        ],
        "months_chart": charts.column_chart(
            [(_month_label(m["month"]), m["held"]) for m in data["chats_per_month"]]
        ),
        "trend_chart": charts.column_chart(
            [(row["label"][2:4] + "-" + row["label"][7:9], row["held"]) for row in trend["years"]],
            column=56,
        ),
        "topic_trend_chart": charts.line_chart(
            [row["label"][2:4] + "-" + row["label"][7:9] for row in trend["years"]],
            [(t["name"], [y["count"] for y in t["years"]]) for t in trend["topics"]],
        )
        if trend["topics"]
        else None,
        "top_topic_charts": top_topic_charts,
        "busyness": _busyness_table(data["busyness"]["cells"]),
        "stars": ["1", "2", "3", "4", "5"],
        "audience_sections": [
            (key, label)
            for key, label in (
                ("all", _("Alle chats")),
                (Audience.PUPIL.value, _("Leerlingen")),
                (Audience.PARENT.value, _("Ouders")),
            )
            if filters.audience is None or key in ("all", filters.audience)
        ],
    }
    return render(request, "stats/dashboard.html", context)


#: The annual report's download formats (JSON is ``onthaal report --format json``).
REPORT_FORMATS = ("pdf", "html")


@login_required
def annual_report(request: HttpRequest) -> HttpResponse:
    """``GET /cijfers/jaarverslag/?year=2024-2025&format=pdf``: the annual
    report of a school year as a download (``format`` pdf or html; optional
    ``language`` nl/en and ``audience`` pupil/parent; the year defaults to the
    last whole school year).

    For coordinators, administrators and analysts: the report covers every
    operator's chats (and names none of them), so an operator gets 403.
    Rendering takes a few seconds (docs/statistics.md, "The annual report").
    """
    viewer: User = request.user  # type: ignore[assignment]
    if not selectors.sees_everyone(viewer):
        raise PermissionDenied
    year = request.GET.get("year") or figures.school_year_label(selectors.current_school_year() - 1)
    format_ = request.GET.get("format") or "pdf"
    audience = request.GET.get("audience") or None
    if format_ not in REPORT_FORMATS:
        return HttpResponseBadRequest(
            _("Kies pdf of html."), content_type="text/plain; charset=utf-8"
        )
    try:
        content = report.report_render(
            year,
            format=format_,
            language=request.GET.get("language") or "nl",
            audience=audience,
        )
        filename = report.report_filename(year, format=format_, audience=audience)
    except ServiceError as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type=report.CONTENT_TYPES[format_])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class ForewordForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Voorwoord"),
        required=False,
        strip=False,  # services.foreword_clean tidies it, line by line
        widget=forms.Textarea(attrs={"rows": 18, "cols": 80, "aria-describedby": "id_text-help"}),
        help_text=gettext_lazy(
            "Gewone tekst; een witregel begint een nieuwe alinea. Leeg laten: het "
            "jaarverslag schrijft zelf een voorwoord met de kerncijfers."
        ),
    )


@login_required
def foreword(request: HttpRequest) -> HttpResponse:
    """``/cijfers/voorwoord/?year=2024-2025``: the coordinators' own foreword of
    a school year's annual report (GET the form, POST ``year`` and ``text``).

    Coordinators and administrators only (``services.foreword_set`` checks it
    too); analysts read the foreword in the report, operators get 403. The
    year defaults to the last whole school year, as the report's download does.
    """
    viewer: User = request.user  # type: ignore[assignment]
    if not selectors.writes_foreword(viewer):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    try:
        year = figures.school_year_parse(source.get("year") or selectors.current_school_year() - 1)
    except ServiceError as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    label = figures.school_year_label(year)
    stored = selectors.foreword_get(year)
    if request.method == "POST":
        form = ForewordForm(request.POST)
        if form.is_valid():
            try:
                saved = services.foreword_set(
                    actor=viewer, school_year=year, text=form.cleaned_data["text"]
                )
            except ServiceError as exc:
                form.add_error("text", exc.message)
            else:
                if saved is None:
                    messages.success(
                        request,
                        _("Het eigen voorwoord van %(year)s is gewist.") % {"year": label},
                    )
                else:
                    messages.success(
                        request, _("Voorwoord van %(year)s bewaard.") % {"year": label}
                    )
                return redirect(f"{reverse('stats:foreword')}?{urlencode({'year': label})}")
        status = 400
    else:
        form = ForewordForm(initial={"text": stored.text if stored is not None else ""})
        status = 200
    current = selectors.current_school_year()
    context = {
        "year": label,
        "form": form,
        "stored": stored,
        "max_chars": FOREWORD_MAX_CHARS,
        "report_query": urlencode({"year": label, "format": "pdf"}),
        "html_query": urlencode({"year": label, "format": "html"}),
        "school_years": [
            {
                "label": figures.school_year_label(y),
                "query": urlencode({"year": figures.school_year_label(y)}),
            }
            for y in range(current, current - 6, -1)
        ],
    }
    return render(request, "stats/foreword.html", context, status=status)
