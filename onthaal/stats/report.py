"""The annual report (*jaarverslag*) of one school year: HTML, PDF or JSON.

``report_render(2024, format="pdf")`` is what ``onthaal report`` and the
dashboard's download (``/cijfers/jaarverslag/``) call. Every number in it
comes from ``figures.school_year_figures`` (the year and the year before)
and ``figures.trends`` (every school year in the database, at most twenty);
this module only chooses, formats and draws them (docs/statistics.md, "The
annual report").

- **HTML** is one self-contained file: the style sheet inline, the charts
  SVG images in ``data:`` URIs, no link to anything outside the file, so it
  can be mailed or put on a website as it is.
- **PDF** is WeasyPrint's rendering of that same HTML: A4, a title page, a
  table of contents with page numbers, page numbers in the footer.
- **JSON** is the figures the report is made of (``report_data``), with
  stable keys.

The report is meant to be published, so it names no operator: the list of
chats per operator is left out of it, the JSON included.

matplotlib and WeasyPrint take a second or two to import; both are
imported inside the functions that draw and print, so that the web app and
every other command start without them.
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Min
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from onthaal.chat.models import Audience, Conversation
from onthaal.errors import InvalidInput
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.stats import figures, selectors
from onthaal.stats.services import foreword_clean, foreword_paragraphs

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "LANGUAGES",
    "change_number",
    "change_percent",
    "change_points",
    "chart_bars",
    "chart_columns",
    "chart_count_share",
    "chart_donut",
    "chart_heatmap",
    "chart_lines",
    "minutes",
    "number",
    "percent",
    "report_context",
    "report_data",
    "report_filename",
    "report_html",
    "report_pdf",
    "report_render",
]

#: The helpline's name as the visitor pages show it.
HELPLINE = "CLBch@t"
#: What ``report_render`` can make, and the media type of each.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
FORMATS = tuple(CONTENT_TYPES)
#: The report's languages: Dutch (the source language) and English.
LANGUAGES = {"nl": "nl-be", "en": "en"}
#: Changes of a count smaller than this (in percent) read as "about the same".
STABLE_PCT = 1.0

MINUS = "\N{MINUS SIGN}"
NBSP = "\N{NO-BREAK SPACE}"
DASH = "–"

# The palette of base.css: pupils in the brand blue, parents in the accent purple.
INK = "#1b1f24"
MUTED = "#4a5561"
LINE = "#c9d1da"
BRAND = "#0b5cad"
BRAND_LIGHT = "#9dbde3"
ACCENT = "#8a1c7c"
GREEN = "#1f6f3f"
RED = "#a4161a"
GREY = "#9aa5b1"
ORANGE = "#b26a00"
AUDIENCE_COLOURS = {Audience.PUPIL.value: BRAND, Audience.PARENT.value: ACCENT, "unknown": GREY}
SERIES_COLOURS = (BRAND, ACCENT, GREEN, ORANGE, GREY)

# matplotlib's state (rcParams) is global and not thread-safe: one chart at a time.
_MATPLOTLIB_LOCK = threading.Lock()
_RC: dict[str, Any] = {
    # DejaVu Sans comes with Debian's fonts-dejavu-core (WeasyPrint finds it
    # there) and with matplotlib; the SVG names it, then any sans-serif font.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    # Text stays text: a third of the size of glyphs drawn as paths, and
    # WeasyPrint renders it in half the time.
    "svg.fonttype": "none",
    # Fixed ids in the SVG, so the same figures give the same file.
    "svg.hashsalt": "onthaal-jaarverslag",
    "axes.edgecolor": LINE,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 8.5,
    "axes.titlelocation": "left",
    "axes.axisbelow": True,
    "axes.grid": False,
    "grid.color": "#e3e8ee",
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "text.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
}
#: Chart sizes in inches: the text width of an A4 page, and half of it.
WIDE = 6.6
HALF = 3.2


# --- checks --------------------------------------------------------------------------


def _check(*, format: str = "pdf", language: str = "nl", audience: str | None = None) -> None:
    """Raise InvalidInput for an unknown format, language or audience."""
    if format not in CONTENT_TYPES:
        raise InvalidInput(
            _("Onbekend formaat: kies pdf, html of json."),
            code="invalid_format",
            fields={"format": str(format)[:20]},
        )
    if language not in LANGUAGES:
        raise InvalidInput(
            _("Onbekende taal: kies nl of en."),
            code="invalid_language",
            fields={"language": str(language)[:20]},
        )
    if audience is not None and audience not in Audience.values:
        raise InvalidInput(
            _("Onbekende doelgroep."), code="invalid", fields={"audience": str(audience)[:20]}
        )


# --- the figures -----------------------------------------------------------------------


def _first_school_year() -> int | None:
    """The school year of the oldest conversation in the database (one aggregate)."""
    first = Conversation.objects.aggregate(first=Min("queued_at"))["first"]
    if first is None:
        return None
    return figures.school_year_of(timezone.localtime(first, HELPLINE_TIMEZONE).date())


def _without_operators(data: dict[str, Any]) -> dict[str, Any]:
    """The report is published: it keeps the counts by discipline, names no operator."""
    return {**data, "operators": {**data["operators"], "per_operator": []}}


def report_data(
    school_year: int, *, audience: str | None = None, foreword: str | None = None
) -> dict[str, Any]:
    """The figures of the annual report; what ``format="json"`` writes.

    Keys: ``school_year`` (``{year, label, start, end}``), ``audience``,
    ``figures`` (``school_year_figures`` of the year), ``previous_year``
    (the same of the year before; ``None`` for 2000-2001), ``trends``
    (``trends`` from the first school year in the database, at most twenty
    years back and at least the year before, with the topics of
    ``figures.DEFAULT_TREND_TOPICS`` that exist). Labels are in the active
    language. ``operators.per_operator`` is always empty. ``foreword`` is the
    coordinators' own foreword: the ``foreword`` argument (a cleaned text;
    ``""`` for none), else the one stored for the year
    (``selectors.foreword_get``), else ``None``: the report writes its own.
    """
    _check(audience=audience)
    if foreword is None:
        stored = selectors.foreword_get(school_year)
        foreword = stored.text if stored is not None else None
    current = figures.school_year_figures(school_year, audience=audience)
    first_possible = figures.MIN_DATE.year
    previous = (
        figures.school_year_figures(school_year - 1, audience=audience)
        if school_year - 1 >= first_possible
        else None
    )
    # Every school year in the database (at least the year before), at most twenty.
    first = _first_school_year()
    start = school_year - 1 if first is None else min(first, school_year - 1)
    start = max(start, school_year - figures.MAX_TREND_YEARS + 1, first_possible)
    topic_ids = [t.pk for t in figures.topics_resolve(figures.DEFAULT_TREND_TOPICS, strict=False)]
    trend = figures.trends(start, school_year, topics=topic_ids, audience=audience)
    return {
        "school_year": current["school_year"],
        "audience": audience,
        "figures": _without_operators(current),
        "previous_year": _without_operators(previous) if previous is not None else None,
        "trends": trend,
        "foreword": foreword or None,
    }


# --- numbers the Flemish way (or the English way) ------------------------------------------


def _dutch() -> bool:
    return (translation.get_language() or "nl").startswith("nl")


def number(value: float | None, digits: int = 0) -> str:
    """A number in the active language: ``7626`` → ``7.626``, ``4.2403`` (2) → ``4,24``.

    Rounded half up (Django's own formatting cuts decimals off); ``None`` → ``–``.
    """
    if value is None:
        return DASH
    rounded = Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP
    )
    if rounded == 0:
        rounded = abs(rounded)  # no "-0,0"
    text = formats.number_format(rounded, decimal_pos=digits, use_l10n=True, force_grouping=True)
    return str(text).replace("-", MINUS)


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0–1) in percent: ``0.809`` → ``80,9 %`` (Dutch), ``80.9%`` (English)."""
    if share is None:
        return DASH
    return number(share * 100, digits) + (f"{NBSP}%" if _dutch() else "%")


def _signed(text: str, value: float) -> str:
    """``text`` (a formatted ``value``) with a plus sign when positive; no sign
    when it rounds to zero."""
    if not any(c in "123456789" for c in text):
        return text.lstrip(MINUS)
    return "+" + text if value > 0 else text


def change_percent(value: float | None, digits: int = 1) -> str:
    """A change in percent with its sign (a real minus sign): ``+4,1 %``, ``-8,5 %``."""
    if value is None:
        return DASH
    return _signed(number(value, digits) + (f"{NBSP}%" if _dutch() else "%"), value)


def change_number(value: float | None, digits: int = 0, unit: str = "") -> str:
    """An absolute change with its sign (a real minus sign): ``+120``, ``-0,05``."""
    if value is None:
        return DASH
    return _signed(number(value, digits) + (f"{NBSP}{unit}" if unit else ""), value)


def change_points(current: float | None, previous: float | None, digits: int = 1) -> str:
    """The change of a share in percentage points: ``+0,3 pp``."""
    if current is None or previous is None:
        return DASH
    return change_number((current - previous) * 100, digits, _("pp"))


def minutes(seconds: float | None, digits: int = 1) -> str:
    """Seconds in minutes: ``1146`` → ``19,1 min``."""
    if seconds is None:
        return DASH
    return f"{number(seconds / 60, digits)}{NBSP}min"


def _pct_change(current: float | None, previous: float | None) -> float | None:
    if current is None or not previous:
        return None
    return (current - previous) / previous * 100


def _direction(change_pct: float | None) -> str:
    """``up``, ``down`` or ``same`` (within ``STABLE_PCT``); empty without a change."""
    if change_pct is None:
        return ""
    if abs(change_pct) < STABLE_PCT:
        return "same"
    return "up" if change_pct > 0 else "down"


# --- charts (matplotlib) -------------------------------------------------------------------

Series = tuple[str, Sequence[float | None], str]  # (name, values, colour)


def _svg_uri(
    draw: Callable[[Figure], None], size: tuple[float, float], *, layout: str | None = "constrained"
) -> str:
    """Draw a chart with ``draw`` on a new figure of ``size`` inches; an SVG ``data:`` URI.

    The figure is made without pyplot, which keeps every figure it opens in a
    global list until ``plt.close`` and is not safe in a web server's threads;
    this one is cleared and then freed with its last reference.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    out = io.BytesIO()
    with _MATPLOTLIB_LOCK, matplotlib.rc_context(_RC):
        figure = Figure(figsize=size, layout=layout)
        draw(figure)
        # No date and no creator in the file: the same figures give the same bytes.
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        figure.clear()
    encoded = base64.b64encode(out.getvalue()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def _value_axis(ax: Axes, axis: str, *, shares: bool = False) -> None:
    """Five or so round ticks on the value axis, in the report's number format."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=not shares))

    def label(value: float, _position: int | None) -> str:
        if not shares:
            return number(value)
        ticks = target.get_majorticklocs()
        step = abs(ticks[1] - ticks[0]) * 100 if len(ticks) > 1 else 1
        return percent(value, 0 if round(step, 6).is_integer() else 1)

    target.set_major_formatter(FuncFormatter(label))
    ax.grid(True, axis=axis)
    ax.tick_params(axis=axis, length=0)


def _top(values: Sequence[float | None], room: float = 1.22) -> float:
    """The value axis's upper end: room above the largest value for its label."""
    largest = max((v or 0 for v in values), default=0)
    return largest * room if largest else 1


def _label_lines(text: str, width: int = 34) -> str:
    """A long category name on at most two lines."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > 2:
        lines = [lines[0], _shorten(" ".join(lines[1:]), width)]
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chart_lines(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    shares: bool = False,
    height: float = 2.5,
) -> str:
    """One line per series over ``labels`` (school years), each point labelled."""
    fmt = percent if shares else number

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        xs = list(range(len(labels)))
        for name, values, colour in series:
            ys = [v if v is not None else float("nan") for v in values]
            ax.plot(xs, ys, marker="o", markersize=4, linewidth=2, color=colour, label=name)
            for x, value in zip(xs, values, strict=True):
                if value is not None:
                    ax.annotate(
                        fmt(value),
                        (x, value),
                        textcoords="offset points",
                        xytext=(0, 6),
                        ha="center",
                        fontsize=7,
                        color=colour,
                    )
        ax.set_xticks(xs, labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.set_ylim(0, _top([v for _, values, _ in series for v in values]))
        _value_axis(ax, "y", shares=shares)
        ax.tick_params(axis="x", length=0)
        if len(series) > 1:
            ax.legend(loc="lower left", ncols=len(series))

    return _svg_uri(draw, (WIDE, height))


def chart_columns(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    shares: bool = False,
    value_labels: bool = True,
    height: float = 2.4,
) -> str:
    """Vertical bars per label: side by side, or stacked, one colour per series."""
    fmt = (lambda v: percent(v, 0)) if shares else number
    count = len(series)

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        width = 0.8 if stacked else 0.8 / max(count, 1)
        bottoms = [0.0] * len(labels)
        for index, (name, values, colour) in enumerate(series):
            heights = [v or 0 for v in values]
            offset = 0.0 if stacked else (index - (count - 1) / 2) * width
            bars = ax.bar(
                [i + offset for i in range(len(labels))],
                heights,
                width * 0.92,
                bottom=bottoms if stacked else None,
                color=colour,
                label=name,
            )
            if value_labels and not stacked:
                ax.bar_label(
                    bars, labels=[fmt(v) for v in heights], padding=2, fontsize=6.5, color=MUTED
                )
            if stacked:
                bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        ax.set_xticks(range(len(labels)), labels)
        tops = bottoms if stacked else [v for _, values, _ in series for v in values]
        ax.set_ylim(0, _top(tops, 1.25 if count > 1 else 1.12))
        _value_axis(ax, "y", shares=shares)
        ax.tick_params(axis="x", length=0)
        if count > 1:
            ax.legend(loc="upper left", ncols=count)

    return _svg_uri(draw, (WIDE, height))


def chart_bars(labels: Sequence[str], series: Sequence[Series], *, shares: bool = False) -> str:
    """Horizontal bars, the first label on top; grouped when there are several series."""
    fmt = percent if shares else number
    rows, count = len(labels), len(series)

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        height = 0.8 / max(count, 1)
        for index, (name, values, colour) in enumerate(series):
            widths = [v or 0 for v in values]
            bars = ax.barh(
                [row + (index - (count - 1) / 2) * height for row in range(rows)],
                widths,
                height * 0.9,
                color=colour,
                label=name,
            )
            ax.bar_label(
                bars, labels=[fmt(v) for v in widths], padding=3, fontsize=6.5, color=MUTED
            )
        ax.set_yticks(range(rows), [_label_lines(label) for label in labels])
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_xlim(0, _top([v for _, values, _ in series for v in values], 1.15))
        _value_axis(ax, "x", shares=shares)
        ax.tick_params(axis="y", length=0)
        ax.spines["bottom"].set_visible(False)
        if count > 1:
            ax.legend(loc="lower right")

    return _svg_uri(draw, (WIDE, 0.5 + rows * (0.18 + 0.1 * count)))


def chart_donut(items: Sequence[tuple[str, float, str]]) -> str | None:
    """Parts of a whole as a ring, a legend with their percentages beside it;
    None when there is nothing to show."""
    parts = [(label, value, colour) for label, value, colour in items if value > 0]
    total = sum(value for _, value, _ in parts)
    if not total:
        return None

    def draw(fig: Figure) -> None:
        # Placed by hand: a legend beside the ring is outside constrained layout's reach.
        ax = fig.add_axes((0.0, 0.04, 0.36, 0.92))
        wedges, _texts = ax.pie(
            [value for _, value, _ in parts],
            colors=[colour for _, _, colour in parts],
            startangle=90,
            counterclock=False,
            wedgeprops={"width": 0.38, "edgecolor": "white", "linewidth": 1.2},
        )
        ax.set_aspect("equal")
        fig.legend(
            wedges,
            [f"{_label_lines(label, 22)}  {percent(value / total)}" for label, value, _ in parts],
            loc="center left",
            bbox_to_anchor=(0.38, 0.5),
            handlelength=1.2,
        )

    return _svg_uri(draw, (HALF, 1.6), layout=None)


def chart_heatmap(cells: Sequence[dict[str, int]]) -> str | None:
    """Chats queued per weekday (columns) and hour of the day (rows), darker
    for busier; None without chats."""
    if not cells:
        return None
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.patches import Rectangle

    weekdays = sorted({c["weekday"] for c in cells})
    hours = list(range(min(c["hour"] for c in cells), max(c["hour"] for c in cells) + 1))
    by_cell = {(c["weekday"], c["hour"]): c["queued"] for c in cells}
    largest = max(by_cell.values(), default=0) or 1
    colours = LinearSegmentedColormap.from_list("onthaal", ["#e3edf8", BRAND, "#072f5a"])

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        for column, weekday in enumerate(weekdays):
            for row, hour in enumerate(hours):
                value = by_cell.get((weekday, hour), 0)
                level = value / largest
                ax.add_patch(
                    Rectangle(
                        (column, row),
                        1,
                        1,
                        facecolor=colours(level) if value else "#f6f8fa",
                        edgecolor="white",
                        linewidth=1.5,
                    )
                )
                if value:
                    ax.text(
                        column + 0.5,
                        row + 0.5,
                        number(value),
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if level > 0.45 else INK,
                    )
        ax.set_xlim(0, len(weekdays))
        ax.set_ylim(len(hours), 0)
        ax.set_xticks(
            [i + 0.5 for i in range(len(weekdays))], [str(WEEKDAYS_ABBR[d - 1]) for d in weekdays]
        )
        ax.set_yticks(
            [i + 0.5 for i in range(len(hours))], [f"{h:02d}:00–{h + 1:02d}:00" for h in hours]
        )
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)

    return _svg_uri(draw, (WIDE, 0.45 + 0.24 * len(hours)))


def chart_count_share(
    labels: Sequence[str], counts: Sequence[int], shares: Sequence[float | None], colour: str
) -> str:
    """Counts as columns (left axis) and their share as a line (right axis), as
    the printed annual reports show a topic over the years."""

    def draw(fig: Figure) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        ax = fig.subplots()
        xs = list(range(len(labels)))
        bars = ax.bar(xs, counts, 0.6, color=BRAND_LIGHT)
        ax.bar_label(bars, labels=[number(c) for c in counts], padding=2, fontsize=6.5)
        ax.set_xticks(xs, labels)
        ax.set_ylim(0, _top(counts, 1.3))
        _value_axis(ax, "y")
        ax.tick_params(axis="x", length=0)
        right = ax.twinx()
        right.plot(
            xs,
            [s if s is not None else float("nan") for s in shares],
            marker="o",
            markersize=4,
            linewidth=2,
            color=colour,
        )
        right.set_ylim(0, _top(shares, 1.4) if any(shares) else 0.01)
        _value_axis(right, "y", shares=True)
        right.grid(False)
        right.spines["right"].set_visible(True)
        right.tick_params(axis="y", labelcolor=colour)
        ax.legend(
            [Patch(color=BRAND_LIGHT), Line2D([0], [0], color=colour, marker="o")],
            [_("aantal chats (links)"), _("aandeel van alle chats (rechts)")],
            loc="upper left",
            ncols=2,
        )

    return _svg_uri(draw, (WIDE, 2.3))


# --- the report's content ----------------------------------------------------------------------


def _year_axis_label(label: str) -> str:
    """``2024-2025`` → ``’24-’25``, for an axis with many years."""
    return f"’{label[2:4]}-’{label[7:9]}"


def _month_label(month: str) -> str:
    """``2025-03`` → ``Mrt 25``."""
    year, number_ = month.split("-")
    return f"{str(MONTHS_3[int(number_)]).capitalize()} {year[2:]}"


def _audience_name(key: str) -> str:
    return {
        "all": _("Alle chats"),
        Audience.PUPIL.value: _("Leerlingen"),
        Audience.PARENT.value: _("Ouders"),
    }.get(key, key)


def _chart(src: str | None, title: str) -> dict[str, str] | None:
    """A chart as the template shows it: the image and its caption (also the alt text)."""
    return {"src": src, "title": title} if src else None


def _get(data: dict[str, Any] | None, path: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None where the year before is missing."""
    for key in path.split("."):
        if data is None:
            return None
        data = data.get(key)
    return data


@dataclass(frozen=True)
class _Report:
    """The figures of one report, as the section builders below read them."""

    figures: dict[str, Any]
    previous: dict[str, Any] | None
    trends: dict[str, Any]
    audience: str | None
    year: int

    @property
    def shown(self) -> list[str]:
        """The audiences with a section of their own: one, or pupils and parents."""
        return [self.audience] if self.audience else [Audience.PUPIL.value, Audience.PARENT.value]

    @property
    def label(self) -> str:
        return figures.school_year_label(self.year)

    @property
    def previous_label(self) -> str:
        return figures.school_year_label(self.year - 1)

    @property
    def axis_labels(self) -> list[str]:
        labels = [row["label"] for row in self.trends["years"]]
        return [_year_axis_label(label) for label in labels] if len(labels) > 5 else labels

    def before(self, path: str) -> Any:
        return _get(self.previous, path)


def _comparison(r: _Report) -> list[dict[str, str]]:
    """This year against the year before, one row per measure; the change of a
    count in percent, of a share in percentage points, of a mean as such."""
    rows: list[dict[str, str]] = []

    def count(label: str, path: str, digits: int = 0) -> None:
        now, before = _get(r.figures, path), r.before(path)
        rows.append(
            {
                "label": label,
                "current": number(now, digits),
                "previous": number(before, digits),
                "change": change_percent(_pct_change(now, before)),
            }
        )

    def share(label: str, path: str, digits: int = 1) -> None:
        now, before = _get(r.figures, path), r.before(path)
        rows.append(
            {
                "label": label,
                "current": percent(now, digits),
                "previous": percent(before, digits),
                "change": change_points(now, before, digits),
            }
        )

    def mean(label: str, path: str, digits: int, unit: str = "", scale: float = 1) -> None:
        now, before = _get(r.figures, path), r.before(path)
        now = now / scale if now is not None else None
        before = before / scale if before is not None else None
        suffix = f"{NBSP}{unit}" if unit else ""
        rows.append(
            {
                "label": label,
                "current": number(now, digits) + (suffix if now is not None else ""),
                "previous": number(before, digits) + (suffix if before is not None else ""),
                "change": change_number(
                    now - before if now is not None and before is not None else None, digits, unit
                ),
            }
        )

    count(_("Gevoerde chats"), "totals.held")
    count(_("Openingsdagen"), "totals.opening_days")
    count(_("Chats per openingsdag"), "totals.held_per_opening_day", digits=1)
    share(_("Gemiste chats (aandeel)"), "totals.missed_share")
    mean(_("Gemiddelde tevredenheid (1–5)"), "satisfaction.all.mean", digits=2)
    mean(_("Gemiddelde wachttijd"), "wait.mean", digits=1, unit="min", scale=60)
    mean(_("Gemiddelde duur"), "duration.mean", digits=1, unit="min", scale=60)
    share(_("Chats langer dan 50 minuten"), "duration.long_share")
    share(_("Vermoedelijke nepoproepen"), "prank.all.share", digits=2)
    share(_("Via gsm of tablet"), "devices.mobile_share")
    count(_("Actieve chatmedewerkers"), "operators.count")
    return rows


def _overview(r: _Report) -> dict[str, Any]:
    """The foreword's numbers, the year at a glance, the comparison, the years and months."""
    f = r.figures
    totals = f["totals"]
    audiences = {row["audience"]: row for row in f["audiences"]}
    held_change = _pct_change(totals["held"], r.before("totals.held"))
    years = r.trends["years"]
    series: list[Series] = [(_("Gevoerde chats"), [row["held"] for row in years], INK)]
    if r.audience is None:
        series += [
            (_("met leerlingen"), [row["held_pupil"] for row in years], BRAND),
            (_("met ouders"), [row["held_parent"] for row in years], ACCENT),
        ]
    months = f["chats_per_month"]
    return {
        "held": number(totals["held"]),
        "held_previous": number(r.before("totals.held")),
        "held_change": change_percent(held_change),
        "held_change_abs": percent(abs(held_change) / 100) if held_change is not None else "",
        "held_direction": _direction(held_change),
        "per_opening_day": number(totals["held_per_opening_day"], 1),
        "opening_days": number(totals["opening_days"]),
        "glance": {
            "pupils": number(_get(audiences, "pupil.count")),
            "pupils_share": percent(_get(audiences, "pupil.share")),
            "parents": number(_get(audiences, "parent.count")),
            "parents_share": percent(_get(audiences, "parent.share")),
            "rating_pupils": number(f["satisfaction"]["pupil"]["mean"], 2),
            "rating_parents": number(f["satisfaction"]["parent"]["mean"], 2),
            "operators": number(f["operators"]["count"]),
            "mobile_share": percent(f["devices"]["mobile_share"], 0),
            "duration": number(f["duration"]["mean"] / 60 if f["duration"]["mean"] else None),
            "wait": number(f["wait"]["mean"] / 60 if f["wait"]["mean"] else None),
        },
        "comparison": _comparison(r),
        "years": [
            {
                "label": row["label"],
                "held": number(row["held"]),
                "pupils": number(row["held_pupil"]),
                "parents": number(row["held_parent"]),
                "change": change_percent(row["change_pct"]),
                "missed_share": percent(row["missed_share"]),
                "rating": number(row["rating_mean"], 2),
                "current": row["school_year"] == r.year,
            }
            for row in years
        ],
        "years_chart": _chart(
            chart_lines(r.axis_labels, series), _("Gevoerde chats per schooljaar")
        ),
        "months": [
            {
                "label": _month_label(m["month"]),
                "held": number(m["held"]),
                "previous": number(m["held_previous_year"]),
                "change": change_percent(m["change_pct"]),
                "missed": number(m["missed"]),
            }
            for m in months
        ],
        "months_chart": _chart(
            chart_columns(
                [_month_label(m["month"]).split(" ")[0] for m in months],
                [
                    (r.previous_label, [m["held_previous_year"] for m in months], BRAND_LIGHT),
                    (r.label, [m["held"] for m in months], BRAND),
                ],
                value_labels=False,
            ),
            _("Gevoerde chats per maand, naast dezelfde maand een jaar eerder"),
        ),
    }


def _busyness(r: _Report) -> dict[str, Any]:
    """When visitors came, how long they waited and talked, and who got no answer."""
    f = r.figures
    totals = f["totals"]
    busyness = f["busyness"]
    by_hour = {row["hour"]: row for row in busyness["by_hour"]}
    hours = list(range(min(by_hour), max(by_hour) + 1)) if by_hour else []
    hour_label = "{:02d}u" if _dutch() else "{:02d}h"
    return {
        "missed": {
            "count": number(totals["missed"]),
            "share": percent(totals["missed_share"]),
            "gave_up": number(totals["missed_gave_up"]),
            "at_closing": number(totals["missed_at_closing"]),
            "previous_share": percent(r.before("totals.missed_share")),
        },
        "heatmap_chart": _chart(
            chart_heatmap(busyness["cells"]), _("Chats in de wachtrij per weekdag en uur")
        ),
        "hours_chart": _chart(
            chart_columns(
                [hour_label.format(h) for h in hours],
                [
                    (_("gevoerd"), [by_hour.get(h, {}).get("held", 0) for h in hours], BRAND),
                    (_("gemist"), [by_hour.get(h, {}).get("missed", 0) for h in hours], RED),
                ],
                stacked=True,
                height=2.1,
            )
            if hours
            else None,
            _("Gevoerde en gemiste chats per uur van de dag"),
        ),
        "wait": {key: minutes(f["wait"][key]) for key in ("mean", "median", "p90")},
        "duration": {
            **{key: minutes(f["duration"][key]) for key in ("mean", "median", "p90")},
            "long_share": percent(f["duration"]["long_share"]),
            "long_minutes": number(f["duration"]["long_minutes"]),
        },
    }


def _audiences(r: _Report) -> dict[str, Any]:
    """Pupils and parents, phones and computers, and how visitors found the chat."""
    f = r.figures
    devices = f["devices"]
    referrals = [row for row in f["referral_sources"]["all"] if row["count"]]
    return {
        "audiences_chart": _chart(
            chart_donut(
                [
                    (
                        str(row["label"]).capitalize(),
                        row["count"],
                        AUDIENCE_COLOURS[row["audience"]],
                    )
                    for row in f["audiences"]
                ]
            )
            if r.audience is None
            else None,
            _("Leerlingen en ouders"),
        ),
        "mobile_share": percent(devices["mobile_share"]),
        "devices_chart": _chart(
            chart_donut(
                [
                    (_("gsm of tablet"), devices["mobile"], BRAND),
                    (_("computer"), devices["desktop"], BRAND_LIGHT),
                ]
            ),
            _("Toestel waarmee gechat werd"),
        ),
        "referrals": [
            {"label": row["label"], "count": number(row["count"]), "share": percent(row["share"])}
            for row in referrals
        ],
        "referrals_chart": _chart(
            chart_bars(
                [str(row["label"]) for row in referrals],
                [(_("chats"), [row["count"] for row in referrals], BRAND)],
            )
            if referrals
            else None,
            _("Antwoorden op de vraag bij het begin van de chat"),
        ),
    }


def _topics(r: _Report) -> dict[str, Any]:
    """The top ten topics of each audience, next to their share a year earlier."""
    sections = []
    for key in r.shown:
        top = r.figures["top_topics"][key]
        before = {row["id"]: row["share"] for row in (r.before(f"topics.{key}") or [])}
        name = _audience_name(key)
        sections.append(
            {
                "key": key,
                "name": name,
                "chart": _chart(
                    chart_bars(
                        [row["name"] for row in top],
                        [(name, [row["share"] for row in top], AUDIENCE_COLOURS[key])],
                        shares=True,
                    )
                    if top
                    else None,
                    _("Top 10 chatonderwerpen: %(who)s") % {"who": name.lower()},
                ),
                "rows": [
                    {
                        "rank": rank,
                        "name": row["name"],
                        "domain": row["domain"],
                        "count": number(row["count"]),
                        "share": percent(row["share"]),
                        "previous": percent(before.get(row["id"])),
                    }
                    for rank, row in enumerate(top, start=1)
                ],
            }
        )
    return {"topic_sections": sections}


def _results(r: _Report) -> dict[str, Any]:
    """Results per audience (in the order of all chats), and chats that broke off."""
    f = r.figures
    order = [row for row in f["results"]["all"] if row["count"]]
    by_audience = {key: {row["id"]: row for row in f["results"][key]} for key in r.shown}

    def cell(key: str, result_id: int, measure: str) -> Any:
        return _get(by_audience[key].get(result_id), measure)

    return {
        "result_heads": [_audience_name(key) for key in r.shown],
        "result_rows": [
            {
                "name": row["name"],
                "cells": [
                    {
                        "count": number(cell(key, row["id"], "count")),
                        "share": percent(cell(key, row["id"], "share")),
                    }
                    for key in r.shown
                ],
            }
            for row in order
        ],
        "results_chart": _chart(
            chart_bars(
                [row["name"] for row in order],
                [
                    (
                        _audience_name(key),
                        [cell(key, row["id"], "share") for row in order],
                        AUDIENCE_COLOURS[key],
                    )
                    for key in r.shown
                ],
                shares=True,
            )
            if order
            else None,
            _("Resultaten van de chatgesprekken (aandeel van de chats)"),
        ),
        "broke_off": [
            {
                "name": _audience_name(key),
                "registered": percent(f["broke_off"][key]["registered_share"]),
                "registered_previous": percent(r.before(f"broke_off.{key}.registered_share")),
                "measured": percent(f["broke_off"][key]["measured_share"]),
                "measured_previous": percent(r.before(f"broke_off.{key}.measured_share")),
            }
            for key in r.shown
        ],
    }


def _satisfaction(r: _Report) -> dict[str, Any]:
    """Mean stars per audience against the year before, and how the stars fell."""
    rows = []
    series: list[Series] = []
    for key in r.shown:
        entry = r.figures["satisfaction"][key]
        rated = entry["rated"]
        shares = [entry["distribution"][str(n)] / rated if rated else 0.0 for n in range(1, 6)]
        series.append((_audience_name(key), shares, AUDIENCE_COLOURS[key]))
        mean, before = entry["mean"], r.before(f"satisfaction.{key}.mean")
        rows.append(
            {
                "name": _audience_name(key),
                "mean": number(mean, 2),
                "previous": number(before, 2),
                "change": change_number(
                    mean - before if mean is not None and before is not None else None, 2
                ),
                "rated": number(rated),
                "rated_share": percent(entry["rated_share"]),
                "four_or_five": percent(sum(shares[3:]) if rated else None),
            }
        )
    return {
        "satisfaction": rows,
        "stars_chart": _chart(
            chart_columns(["★" * n for n in range(1, 6)], series, shares=True, height=2.2)
            if any(sum(s for s in shares if s) for _, shares, _ in series)
            else None,
            _("Beoordelingen na afloop: aandeel per aantal sterren"),
        ),
    }


def _pupils(r: _Report) -> dict[str, Any]:
    """Pupils' gender and age (the figures ask them of pupils only)."""
    pupils = r.figures["pupils"]
    answered = [row for row in pupils["gender"] if row["gender"] != "unknown"]
    colours = {"girl": ACCENT, "boy": BRAND, "x": GREEN}
    return {
        "pupils": {
            "held": number(pupils["held"]),
            "gender": [
                {
                    "label": row["label"],
                    "count": number(row["count"]),
                    "share": percent(row["share"]),
                }
                for row in answered
            ],
            "gender_unknown": number(pupils["gender_unknown"]),
            "age_mean": number(pupils["age_mean"], 1),
            "age_count": number(pupils["age_count"]),
            "rating": number(r.figures["satisfaction"]["pupil"]["mean"], 2),
        },
        "gender_chart": _chart(
            chart_donut(
                [
                    (str(row["label"]), row["count"], colours.get(row["gender"], GREY))
                    for row in answered
                ]
            )
            if Audience.PUPIL.value in r.shown
            else None,
            _("Gender van de leerlingen (zelf opgegeven)"),
        ),
    }


def _topic_trends(r: _Report) -> dict[str, Any]:
    """The followed topics (``DEFAULT_TREND_TOPICS``) over the years: count and share."""
    trends = []
    for index, topic in enumerate(r.trends["topics"]):
        years = topic["years"]
        trends.append(
            {
                "name": topic["name"],
                "chart": _chart(
                    chart_count_share(
                        r.axis_labels,
                        [row["count"] for row in years],
                        [row["share"] for row in years],
                        (ACCENT, GREEN, ORANGE)[index % 3],
                    ),
                    _("Aantal en aandeel chats over ‘%(topic)s’ per schooljaar")
                    % {"topic": topic["name"]},
                ),
                "rows": [
                    {
                        "label": row["label"],
                        "count": number(row["count"]),
                        "share": percent(row["share"]),
                    }
                    for row in years
                ],
            }
        )
    return {"topic_trends": trends}


def _prank(r: _Report) -> dict[str, Any]:
    """Suspected prank calls this year, per audience, and over the years."""
    keys = r.shown if r.audience else ["all", *r.shown]
    return {
        "prank_share": percent(r.figures["prank"]["all"]["share"], 2),
        "prank": [
            {
                "name": _audience_name(key),
                "suspected": number(r.figures["prank"][key]["suspected"]),
                "share": percent(r.figures["prank"][key]["share"], 2),
                "previous": percent(r.before(f"prank.{key}.share"), 2),
            }
            for key in keys
        ],
        "prank_chart": _chart(
            chart_lines(
                r.axis_labels,
                [
                    (
                        _("vermoedelijke nepoproepen"),
                        [row["prank_share"] for row in r.trends["years"]],
                        RED,
                    )
                ],
                shares=True,
                height=2.0,
            ),
            _("Aandeel vermoedelijke nepoproepen per schooljaar"),
        ),
    }


def _operators(r: _Report) -> dict[str, Any]:
    """The team: how many, how many chats each, which disciplines. No names."""
    operators = r.figures["operators"]
    colours = SERIES_COLOURS
    return {
        "operators": {
            "count": number(operators["count"]),
            "chats_per_operator": number(operators["chats_per_operator"]),
            "median": number(operators["chats_per_operator_median"]),
            "by_discipline": [
                {
                    "label": row["label"],
                    "count": number(row["count"]),
                    "share": percent(row["share"]),
                }
                for row in operators["by_discipline"]
            ],
        },
        "disciplines_chart": _chart(
            chart_donut(
                [
                    (str(row["label"]), row["count"], colours[i % len(colours)])
                    for i, row in enumerate(operators["by_discipline"])
                ]
            ),
            _("Chatmedewerkers per discipline"),
        ),
    }


def report_context(data: dict[str, Any], *, language: str = "nl") -> dict[str, Any]:
    """What the template ``stats/report.html`` shows, from ``report_data``:
    texts and numbers formatted in the active language, charts as ``data:`` URIs."""
    year = data["school_year"]
    r = _Report(
        figures=data["figures"],
        previous=data["previous_year"],
        trends=data["trends"],
        audience=data["audience"],
        year=year["year"],
    )
    today = timezone.localdate(timezone=HELPLINE_TIMEZONE)
    end = date.fromisoformat(year["end"])
    return {
        "lang": "nl-BE" if language == "nl" else "en",
        "helpline": HELPLINE,
        "year": {
            "label": r.label,
            "previous_label": r.previous_label,
            "start": date.fromisoformat(year["start"]),
            "end": end,
            "running": end >= today,
            "today": today,
        },
        "audience": r.audience,
        "audience_name": _audience_name(r.audience) if r.audience else "",
        "shown": r.shown,
        "generated_on": today,
        # The coordinators' own words, paragraph by paragraph (escaped by the template).
        "foreword": foreword_paragraphs(data["foreword"]) if data.get("foreword") else [],
        **_overview(r),
        **_busyness(r),
        **_audiences(r),
        **_topics(r),
        **_results(r),
        **_satisfaction(r),
        **_pupils(r),
        **_topic_trends(r),
        **_prank(r),
        **_operators(r),
    }


# --- rendering --------------------------------------------------------------------------------


def report_html(data: dict[str, Any], *, language: str = "nl") -> str:
    """The report as one self-contained HTML page, in the active language."""
    return render_to_string("stats/report.html", report_context(data, language=language))


def report_pdf(html: str) -> bytes:
    """The report's HTML printed to PDF by WeasyPrint.

    The HTML links to nothing outside itself; the fetcher allows ``data:``
    URIs only, so that not even a URL typed into a topic name could make the
    PDF fetch anything from the network or the disk.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def report_render(
    school_year: int | str,
    *,
    format: str = "pdf",
    language: str = "nl",
    audience: str | None = None,
    foreword: str | None = None,
) -> bytes:
    """The annual report of a school year (``2024`` or ``"2024-2025"``) as bytes.

    ``format``: ``pdf``, ``html`` (UTF-8) or ``json`` (UTF-8, ``report_data``);
    ``language``: ``nl`` (Flemish number formats: 7.626; 80,9 %) or ``en``;
    ``audience``: ``pupil`` or ``parent`` for a report of one audience;
    ``foreword``: a foreword that replaces the one stored for the year
    (``onthaal report --foreword-file``; ``""``: the generated one).
    Raises InvalidInput (codes ``invalid_school_year``, ``invalid_format``,
    ``invalid_language``, ``invalid``; ``too_long`` and ``invalid_character``
    for the foreword) before any work is done, and for a school year whose
    dates lie past 2100 (``invalid_period``).
    """
    _check(format=format, language=language, audience=audience)
    year = figures.school_year_parse(school_year)
    if foreword is not None:
        foreword = foreword_clean(foreword)
    with translation.override(LANGUAGES[language]):
        data = report_data(year, audience=audience, foreword=foreword)
        if format == "json":
            return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        html = report_html(data, language=language)
    if format == "html":
        return html.encode("utf-8")
    return report_pdf(html)


def report_filename(school_year: int | str, *, format: str, audience: str | None = None) -> str:
    """``jaarverslag-2024-2025.pdf``; ``jaarverslag-2024-2025-pupil.pdf`` for one audience."""
    label = figures.school_year_label(figures.school_year_parse(school_year))
    suffix = f"-{audience}" if audience else ""
    return f"jaarverslag-{label}{suffix}.{format}"
