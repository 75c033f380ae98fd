"""HTTP API of the figures, ``/api/v1/stats`` (docs/api.md, docs/statistics.md).

Staff only (session). Coordinators and administrators see every figure and
may narrow them to one operator; analysts see every figure but none of one
operator; an operator always gets only the chats they held themselves
(``selectors``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session
from onthaal.stats import export, figures, selectors

router = Router(tags=["statistics"], auth=staff_session)


def _viewer(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _figures(request: HttpRequest, filters: figures.Filters) -> dict[str, Any]:
    return selectors.figures_for_viewer(
        viewer=_viewer(request), figures=figures.figures_for(filters)
    )


def _filters(
    request: HttpRequest,
    start: date | None,
    end: date | None,
    channel: str | None,
    audience: str | None,
    operator: int | None,
) -> figures.Filters:
    return selectors.filters_for_viewer(
        viewer=_viewer(request),
        start=start,
        end=end,
        channel=channel,
        audience=audience,
        operator_id=operator,
    )


@router.get("/figures")
def figures_period(
    request: HttpRequest,
    start: date | None = None,
    end: date | None = None,
    channel: str | None = None,
    audience: str | None = None,
    operator: int | None = None,
) -> dict[str, Any]:
    """Every figure for a period (``start``/``end`` inclusive, ISO dates; default:
    the current school year), optionally for one channel, audience or operator."""
    return _figures(request, _filters(request, start, end, channel, audience, operator))


@router.get("/figures/school-year/{year}")
def figures_school_year(
    request: HttpRequest,
    year: str,
    channel: str | None = None,
    audience: str | None = None,
    operator: int | None = None,
) -> dict[str, Any]:
    """Every figure for one school year: ``2024`` or ``2024-2025`` (1 Sep – 31 Aug)."""
    school_year = figures.school_year_parse(year)
    first, last = figures.school_year_dates(school_year)
    filters = _filters(request, first, last, channel, audience, operator)
    return selectors.figures_for_viewer(
        viewer=_viewer(request),
        figures=figures.school_year_figures(
            school_year,
            channel=filters.channel,
            audience=filters.audience,
            operator_id=filters.operator_id,
        ),
    )


@router.get("/trends")
def trends(
    request: HttpRequest,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    topics: list[str] | None = Query(None),  # noqa: B008
    channel: str | None = None,
    audience: str | None = None,
    operator: int | None = None,
) -> dict[str, Any]:
    """Counts per school year, and the chosen topics (repeat ``topics=``, or
    separate by commas; an id or a current name) as counts and shares.

    ``from``/``to``: school years (``2016`` or ``2016-2017``); default the ten
    school years up to the current one. No topics: the default ones
    (``zelfmoordgedachten``, ``pesten / cyberpesten``) that exist.
    """
    last = figures.school_year_parse(to) if to else selectors.current_school_year()
    first = figures.school_year_parse(from_) if from_ else last - 9
    operator_id = selectors.viewer_operator_id(viewer=_viewer(request), operator_id=operator)
    asked = [part for value in topics or [] for part in value.split(",") if part.strip()]
    chosen: list[int | str] = list(asked)
    if not asked:
        chosen = [t.pk for t in figures.topics_resolve(figures.DEFAULT_TREND_TOPICS, strict=False)]
    return figures.trends(
        first,
        last,
        topics=chosen,
        channel=channel or None,
        audience=audience or None,
        operator_id=operator_id,
    )


def _export_response(
    filters: figures.Filters, body: bytes | str, extension: str, content_type: str
) -> HttpResponse:
    """An export as a download named after its period."""
    name = f"onthaal-cijfers-{filters.start.isoformat()}-{filters.end.isoformat()}.{extension}"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/export.csv")
def export_csv(
    request: HttpRequest,
    start: date | None = None,
    end: date | None = None,
    channel: str | None = None,
    audience: str | None = None,
    operator: int | None = None,
) -> HttpResponse:
    """The main tables in one long CSV: ``table,key,subkey,measure,value``."""
    filters = _filters(request, start, end, channel, audience, operator)
    body = export.tables_csv(export.figures_tables(_figures(request, filters)))
    return _export_response(filters, body, "csv", "text/csv; charset=utf-8")


@router.get("/export.xlsx")
def export_xlsx(
    request: HttpRequest,
    start: date | None = None,
    end: date | None = None,
    channel: str | None = None,
    audience: str | None = None,
    operator: int | None = None,
) -> HttpResponse:
    """The main tables as an Excel workbook, one sheet per table."""
    filters = _filters(request, start, end, channel, audience, operator)
    body = export.tables_xlsx(export.figures_tables(_figures(request, filters)))
    return _export_response(
        filters, body, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
