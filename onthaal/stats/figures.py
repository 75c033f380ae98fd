"""Every figure of the helpline, defined once.

The dashboard (``/cijfers/``), the JSON API (``/api/v1/stats``), the exports
and the annual report all read their numbers from the three public functions
here — ``figures_for``, ``school_year_figures`` and ``trends`` — so a figure
means the same wherever it appears. ``docs/statistics.md`` lists every key of
the dictionaries they return; keep the two in step.

Ground rules, shared by every figure:

- A conversation belongs to the date of its ``queued_at`` in Europe/Brussels
  (the moment the visitor entered the queue), whatever time it was accepted or
  ended: a chat queued at 23:50 on Tuesday and ended at 00:20 on Wednesday is
  a Tuesday chat, and its duration is the full 30 minutes.
- A period runs from its start date 00:00 up to (not including) the day after
  its end date 00:00, Brussels time. A school year runs from 1 September to
  31 August and is named by the calendar year it starts in (2024 =
  "2024-2025").
- Every origin counts (live, imported, demo): demo data is meant to be removed
  before real use (one command), and imported history is real history.
- A **chat held** is a conversation an operator accepted (``accepted_at`` set).
  Intake and registration figures (audience, gender, age, referral source,
  device, rating, topics, results, prank suspicion) describe chats held.
- A **missed chat** is one that left the queue without being accepted: end
  reason ``missed`` (the visitor stopped waiting, or vanished while queued) or
  ``closed`` (still waiting at closing time). Both count: either way a visitor
  asked for help and nobody answered, and the coordinators plan staffing on
  that number. ``missed_gave_up`` and ``missed_at_closing`` keep them apart.
  Conversations still in the queue (``waiting``) are neither held nor missed.
- Shares (``*_share``) are fractions from 0 to 1; ``None`` when the
  denominator is 0. Changes against the year before are absolute (``change``)
  and in percent (``change_pct``, ``None`` when the year before had none).
- Durations are in seconds, computed in the database.
- The taxonomy is counted by id and shown with its current name, so a renamed
  topic keeps its history and a retired one still counts in its years.

Performance contract: no query count grows with the number of
conversations (convention 12): ``figures_for`` runs 19 queries, ``trends``
one per school year and three more. Counts are aggregate queries; medians
and 90th percentiles fetch one or two rows at an offset after the count
(portable to SQLite, which has no percentile function); Python only
reshapes aggregated rows (bounded by months, topics, operators).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat.models import (
    Audience,
    Channel,
    Conversation,
    DeviceClass,
    EndReason,
    Gender,
    ReferralSource,
    Status,
)
from onthaal.errors import InvalidInput
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE, school_year_of
from onthaal.hours.selectors import opening_days
from onthaal.registration.models import Registration, Result, Topic
from onthaal.staff.models import Discipline

__all__ = [
    "AUDIENCE_KEYS",
    "BROKE_OFF_RESULT_CODE",
    "DEFAULT_TREND_TOPICS",
    "LONG_CHAT_MINUTES",
    "MAX_PERIOD_DAYS",
    "MAX_TREND_YEARS",
    "TOP_TOPICS",
    "Filters",
    "figures_for",
    "school_year_dates",
    "school_year_figures",
    "school_year_filters",
    "school_year_label",
    "school_year_of",
    "school_year_parse",
    "topics_resolve",
    "trends",
]

#: The registration result that an operator ticks when a chat broke off.
BROKE_OFF_RESULT_CODE = "broke_off"
#: How many topics the top list of each audience shows.
TOP_TOPICS = 10
#: A chat held longer than this counts as a long chat (``duration.long_*``).
LONG_CHAT_MINUTES = 50
#: The longest period one request may ask for (twenty years and some leap days).
MAX_PERIOD_DAYS = 366 * 20
#: The dates a period may use (as the school years: 2000 to 2100).
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
#: Ids are 64-bit integers in the database.
MAX_ID = 2**63 - 1
#: The most school years one trend may span (within ``MAX_PERIOD_DAYS``).
MAX_TREND_YEARS = 20
#: Topics the dashboard follows over the years when none are asked for, by
#: name (DOMAIN.md's examples); names the taxonomy no longer has are skipped.
DEFAULT_TREND_TOPICS = ("zelfmoordgedachten", "pesten / cyberpesten")
#: The audience sections of per-audience figures: every chat held, then each audience.
AUDIENCE_KEYS = ("all", Audience.PUPIL.value, Audience.PARENT.value)

UNKNOWN = "unknown"

HELD = Q(accepted_at__isnull=False)
MISSED_REASONS = (EndReason.MISSED, EndReason.CLOSED)
MISSED = Q(accepted_at__isnull=True, end_reason__in=MISSED_REASONS)


# --- database-side arithmetic ----------------------------------------------------------
#
# On SQLite, every Django date function (timestamp differences, Extract and
# Trunc with a time zone) is a Python function called once per row, about
# 10–25 µs each: for a school year of 10,000 chats the date functions alone
# took over a second (docs/performance.md). So: ``Seconds`` and ``_local_part``
# use SQLite's built-in C functions (julianday, strftime) there and plain SQL
# on PostgreSQL, and months are told apart by comparing ``queued_at`` with
# each month's first midnight (``_bucket``), on both databases alike.


class Seconds(Func):
    """Seconds (float) from the ``earlier`` datetime column to the ``later`` one.

    PostgreSQL: ``EXTRACT(EPOCH FROM later - earlier)``. SQLite: the difference
    of ``julianday()`` values, rounded to the millisecond (Django stores
    microseconds; a julianday difference is exact to about 0.1 ms).
    """

    output_field = FloatField()
    arity = 2

    def _compiled(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        later, earlier = (compiler.compile(e) for e in self.get_source_expressions())
        return later[0], earlier[0], [*later[1], *earlier[1]]

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        later, earlier, params = self._compiled(compiler, connection)
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS double precision)", params

    def as_sqlite(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        later, earlier, params = self._compiled(compiler, connection)
        return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)", params


DURATION = Seconds(F("ended_at"), F("accepted_at"))
WAIT = Seconds(F("accepted_at"), F("queued_at"))

_EXTRACTS = {
    "weekday": (ExtractIsoWeekDay, "%w"),  # SQLite: 0 = Sunday, mapped by _iso_weekday
    "hour": (ExtractHour, "%H"),
}


def _local_part(part: str, field: str, bounds: tuple[datetime, datetime]) -> Combinable:
    """``part`` ("weekday" or "hour") of the datetime column ``field`` in
    Europe/Brussels, as an integer.

    PostgreSQL: Django's Extract with ``tzinfo`` (``AT TIME ZONE``). SQLite:
    ``strftime`` with the UTC offset as a modifier, chosen by a CASE over the
    stretches of ``bounds`` in which Brussels keeps one offset (two changes a
    year), so no Python runs per row. On SQLite ``weekday`` comes back as
    0 = Sunday … 6 = Saturday; pass it through ``_iso_weekday``.
    """
    extract, pattern = _EXTRACTS[part]
    if connection.vendor != "sqlite":
        return extract(field, tzinfo=HELPLINE_TIMEZONE)

    def strftime(minutes: int) -> Func:
        return Func(
            Value(pattern),
            F(field),
            Value(f"{minutes:+d} minutes"),
            function="strftime",
            output_field=CharField(),
        )

    *segments, (_, last_offset) = _offset_segments(*bounds)
    local = Case(
        *(When(**{f"{field}__lt": until}, then=strftime(offset)) for until, offset in segments),
        default=strftime(last_offset),
        output_field=CharField(),
    )
    return Cast(local, IntegerField())


def _iso_weekday(value: int) -> int:
    """ISO weekday (1 = Monday … 7 = Sunday) from ``_local_part("weekday")``."""
    if connection.vendor != "sqlite":
        return value
    return value or 7


def _offset_minutes(at: datetime) -> int:
    offset = at.astimezone(HELPLINE_TIMEZONE).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def _offset_segments(low: datetime, high: datetime) -> list[tuple[datetime | None, int]]:
    """Brussels' UTC offset over [low, high): (until, minutes) pieces, in order.

    Each piece holds from the previous one's ``until`` up to (not including)
    its own; the last one's ``until`` is None. Found by probing each day and
    bisecting to the second where the offset changes, so it follows whatever
    rules the time-zone database has.
    """
    segments: list[tuple[datetime | None, int]] = []
    probe = low.astimezone(UTC)
    current = _offset_minutes(probe)
    while probe < high:
        following = probe + timedelta(days=1)
        if _offset_minutes(following) != current:
            before, after = int(probe.timestamp()), int(following.timestamp())
            while after - before > 1:
                middle = (before + after) // 2
                if _offset_minutes(datetime.fromtimestamp(middle, UTC)) == current:
                    before = middle
                else:
                    after = middle
            change = datetime.fromtimestamp(after, UTC)
            segments.append((change, current))
            current = _offset_minutes(change)
        probe = following
    segments.append((None, current))
    return segments


# --- school years ----------------------------------------------------------------


def school_year_label(school_year: int) -> str:
    """``2024`` → ``"2024-2025"``."""
    return f"{school_year}-{school_year + 1}"


def school_year_dates(school_year: int) -> tuple[date, date]:
    """First and last day (inclusive) of a school year: 1 Sep – 31 Aug."""
    return date(school_year, 9, 1), date(school_year + 1, 8, 31)


def school_year_parse(value: int | str) -> int:
    """A school year from ``2024``, ``"2024"``, ``"2024-2025"`` or ``"2024–2025"``.

    Raises InvalidInput (code ``invalid_school_year``) for anything else,
    including a second year that does not follow the first.
    """
    text = str(value).strip().replace("–", "-").replace("/", "-")
    match = re.fullmatch(r"([0-9]{4})(?:-([0-9]{4}))?", text)
    if match:
        year = int(match[1])
        if (match[2] is None or int(match[2]) == year + 1) and 2000 <= year <= 2100:
            return year
    raise InvalidInput(
        _("Geef een schooljaar als 2024 of 2024-2025."),
        code="invalid_school_year",
        fields={"school_year": str(value)[:20]},
    )


# --- filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which conversations a figure covers.

    ``start`` and ``end`` are dates in Europe/Brussels, both inclusive.
    ``channel`` and ``audience`` narrow to one value (``None``: all);
    ``operator_id`` narrows to the chats one operator held (an operator's own
    figures). Raises InvalidInput on an impossible combination.
    """

    start: date
    end: date
    channel: str | None = None
    audience: str | None = None
    operator_id: int | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidInput(
                _("De begindatum ligt na de einddatum."),
                code="invalid_period",
                fields={"start": self.start.isoformat(), "end": self.end.isoformat()},
            )
        if not (self.start >= MIN_DATE and self.end <= MAX_DATE):
            raise InvalidInput(
                _("Kies datums tussen 2000 en 2100."),
                code="invalid_period",
                fields={"start": self.start.isoformat(), "end": self.end.isoformat()},
            )
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise InvalidInput(
                _("Kies een periode van hoogstens twintig jaar."),
                code="invalid_period",
                fields={"start": self.start.isoformat(), "end": self.end.isoformat()},
            )
        if self.channel is not None and self.channel not in Channel.values:
            raise InvalidInput(
                _("Onbekend kanaal."), code="invalid", fields={"channel": self.channel}
            )
        if self.audience is not None and self.audience not in Audience.values:
            raise InvalidInput(
                _("Onbekende doelgroep."), code="invalid", fields={"audience": self.audience}
            )
        if self.operator_id is not None and not 0 < self.operator_id <= MAX_ID:
            raise InvalidInput(
                _("Onbekende chatmedewerker."),
                code="invalid",
                fields={"operator": str(self.operator_id)[:20]},
            )

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes: [start 00:00, day after end 00:00) in Brussels."""
        return _midnight(self.start), _midnight(self.end + timedelta(days=1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "channel": self.channel,
            "audience": self.audience,
            "operator_id": self.operator_id,
        }


def school_year_filters(
    school_year: int,
    *,
    channel: str | None = None,
    audience: str | None = None,
    operator_id: int | None = None,
) -> Filters:
    start, end = school_year_dates(school_year)
    return Filters(
        start=start, end=end, channel=channel, audience=audience, operator_id=operator_id
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=HELPLINE_TIMEZONE)


def _year_earlier(day: date) -> date:
    """The same date a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _scope(
    filters: Filters,
    *,
    prefix: str = "",
    bounds: tuple[datetime, datetime] | None = None,
    dated: bool = True,
) -> Q:
    """The Q for ``filters`` on a model reaching Conversation through ``prefix``.

    ``bounds`` replaces the period's; ``dated=False`` leaves the dates to the caller.
    """
    low, high = bounds or filters.bounds
    q = Q(**{f"{prefix}queued_at__gte": low, f"{prefix}queued_at__lt": high}) if dated else Q()
    if filters.channel is not None:
        q &= Q(**{f"{prefix}channel": filters.channel})
    if filters.audience is not None:
        q &= Q(**{f"{prefix}audience": filters.audience})
    if filters.operator_id is not None:
        q &= Q(**{f"{prefix}operator_id": filters.operator_id})
    return q


def _held(prefix: str = "") -> Q:
    return Q(**{f"{prefix}accepted_at__isnull": False})


def _audience_q(key: str, prefix: str = "") -> Q:
    """Chats of one audience section: ``all`` (no condition), ``pupil``, ``parent``."""
    return Q() if key == "all" else Q(**{f"{prefix}audience": key})


def _share(part: int | float | None, whole: int | float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def _change(current: int, previous: int) -> dict[str, Any]:
    return {
        "change": current - previous,
        "change_pct": (current - previous) / previous * 100 if previous else None,
    }


def _seconds(value: float | None) -> float | None:
    """A number of seconds from the database, rounded to the millisecond."""
    return None if value is None else round(float(value), 3)


# --- figures_for -------------------------------------------------------------------


def figures_for(filters: Filters) -> dict[str, Any]:
    """Every figure for one period, channel, audience and operator, as a JSON-able dict.

    The keys are stable and documented in docs/statistics.md. Runs a fixed
    number of queries (19), whatever the number of conversations.
    """
    conversations = Conversation.objects.filter(_scope(filters))
    totals = _totals(conversations)
    held_by_audience = {
        "all": totals["held"],
        Audience.PUPIL.value: totals["held_pupil"],
        Audience.PARENT.value: totals["held_parent"],
    }
    today = timezone.localdate(timezone=HELPLINE_TIMEZONE)
    # Opening days of a period still running count up to today only, so that
    # chats per opening day of the current school year is not diluted by days to come.
    days_open = len(opening_days(start=filters.start, end=min(filters.end, today)))
    missed = totals["missed_gave_up"] + totals["missed_at_closing"]
    topic_rows, result_rows = _taxonomy_counts(filters)
    results = _results(result_rows, held_by_audience)
    return {
        "filters": filters.as_dict(),
        "totals": {
            "queued": totals["queued"],
            "held": totals["held"],
            "missed": missed,
            "missed_gave_up": totals["missed_gave_up"],
            "missed_at_closing": totals["missed_at_closing"],
            "missed_share": _share(missed, totals["held"] + missed),
            "waiting": totals["waiting"],
            "opening_days": days_open,
            "held_per_opening_day": _share(totals["held"], days_open),
        },
        **_per_month_and_school_year(filters),
        "audiences": [
            {
                "audience": key,
                "label": _audience_label(key),
                "count": count,
                "share": _share(count, totals["held"]),
            }
            for key, count in (
                (Audience.PUPIL.value, totals["held_pupil"]),
                (Audience.PARENT.value, totals["held_parent"]),
                (UNKNOWN, totals["held"] - totals["held_pupil"] - totals["held_parent"]),
            )
        ],
        "satisfaction": _satisfaction(conversations, held_by_audience),
        "duration": {
            **_spread(
                conversations.filter(HELD, ended_at__isnull=False),
                DURATION,
                count=totals["duration_count"],
                mean=totals["duration_mean"],
            ),
            "long_minutes": LONG_CHAT_MINUTES,
            "long_count": totals["duration_long"],
            "long_share": _share(totals["duration_long"], totals["duration_count"]),
        },
        "wait": _spread(
            conversations.filter(HELD), WAIT, count=totals["held"], mean=totals["wait_mean"]
        ),
        "devices": {
            "held": totals["held"],
            "mobile": totals["held_mobile"],
            "desktop": totals["held"] - totals["held_mobile"],
            "mobile_share": _share(totals["held_mobile"], totals["held"]),
        },
        **_topics(topic_rows, held_by_audience),
        "results": results,
        "broke_off": {
            key: {
                "held": held_by_audience[key],
                "registered": _registered_broke_off(results[key]),
                "registered_share": _share(
                    _registered_broke_off(results[key]), held_by_audience[key]
                ),
                "measured": totals[f"broke_off_{key}"],
                "measured_share": _share(totals[f"broke_off_{key}"], held_by_audience[key]),
            }
            for key in AUDIENCE_KEYS
        },
        "referral_sources": _referral_sources(conversations, held_by_audience),
        "prank": _prank(filters, held_by_audience),
        "pupils": _pupils(totals),
        "operators": _operators(conversations),
        "busyness": _busyness(conversations, filters),
    }


def _totals(conversations: QuerySet[Conversation]) -> dict[str, Any]:
    """One pass over the period's conversations for every plain count and mean."""
    pupil = Q(audience=Audience.PUPIL)
    parent = Q(audience=Audience.PARENT)
    pupil_held = HELD & pupil
    measured = HELD & Q(end_reason=EndReason.BROKE_OFF)
    with_duration = HELD & Q(ended_at__isnull=False)
    aggregates: dict[str, Any] = {
        "queued": Count("pk"),
        "held": Count("pk", filter=HELD),
        "held_pupil": Count("pk", filter=pupil_held),
        "held_parent": Count("pk", filter=HELD & parent),
        "held_mobile": Count("pk", filter=HELD & Q(device_class=DeviceClass.MOBILE)),
        "missed_gave_up": Count(
            "pk", filter=Q(accepted_at__isnull=True, end_reason=EndReason.MISSED)
        ),
        "missed_at_closing": Count(
            "pk", filter=Q(accepted_at__isnull=True, end_reason=EndReason.CLOSED)
        ),
        "waiting": Count("pk", filter=Q(status=Status.QUEUED)),
        "broke_off_all": Count("pk", filter=measured),
        "broke_off_pupil": Count("pk", filter=measured & pupil),
        "broke_off_parent": Count("pk", filter=measured & parent),
        "duration_count": Count("pk", filter=with_duration),
        "duration_mean": Avg(DURATION, filter=with_duration),
        "duration_long": Count(
            "pk", filter=with_duration & GreaterThan(DURATION, LONG_CHAT_MINUTES * 60)
        ),
        "wait_mean": Avg(WAIT, filter=HELD),
        "pupil_age_count": Count("pk", filter=pupil_held & Q(age__isnull=False)),
        "pupil_age_mean": Avg("age", filter=pupil_held & Q(age__isnull=False)),
    }
    for gender in Gender.values:
        aggregates[f"pupil_gender_{gender}"] = Count("pk", filter=pupil_held & Q(gender=gender))
    return conversations.aggregate(**aggregates)


def _month_keys(start: date, end: date) -> list[tuple[int, int]]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _bucket(field: str, boundaries: Sequence[datetime], first: int = 0) -> Combinable:
    """The index ``i`` of the stretch ``[boundaries[i], boundaries[i + 1])`` that
    ``field`` lies in, for rows already known to lie between the first and the
    last boundary.

    A balanced tree of CASEs: about log2(n) plain comparisons a row, which an
    index can serve and SQLite runs without any date function (the months
    of a school year and the year before: five comparisons).
    """
    stretches = len(boundaries) - 1
    if stretches == 1:
        return Value(first, output_field=IntegerField())
    half = stretches // 2
    return Case(
        When(
            **{f"{field}__lt": boundaries[half]},
            then=_bucket(field, boundaries[: half + 1], first),
        ),
        default=_bucket(field, boundaries[half:], first + half),
        output_field=IntegerField(),
    )


def _per_month_and_school_year(filters: Filters) -> dict[str, Any]:
    """Chats per calendar month and per school year, each next to the year before.

    The year before is the same dates one year earlier, so a period that
    starts mid-month compares like with like. One grouped query covers both;
    months are Brussels calendar months (``_bucket`` over their first midnights).
    """
    current = filters.bounds
    previous = (
        _midnight(_year_earlier(filters.start)),
        _midnight(_year_earlier(filters.end) + timedelta(days=1)),
    )
    in_current = Q(queued_at__gte=current[0], queued_at__lt=current[1])
    in_previous = Q(queued_at__gte=previous[0], queued_at__lt=previous[1])
    window = (previous[0], current[1])
    keys = _month_keys(_year_earlier(filters.start), filters.end)
    following = (keys[-1][0] + 1, 1) if keys[-1][1] == 12 else (keys[-1][0], keys[-1][1] + 1)
    boundaries = [_midnight(date(y, m, 1)) for y, m in [*keys, following]]
    rows = (
        Conversation.objects.filter(_scope(filters, bounds=window) & (in_current | in_previous))
        .annotate(bucket=_bucket("queued_at", boundaries))
        .values("bucket")
        .annotate(
            queued=Count("pk", filter=in_current),
            held=Count("pk", filter=in_current & HELD),
            missed=Count("pk", filter=in_current & MISSED),
            held_previous=Count("pk", filter=in_previous & HELD),
        )
        .order_by()
    )
    by_month = {keys[row["bucket"]]: row for row in rows}
    empty = {"queued": 0, "held": 0, "missed": 0, "held_previous": 0}
    months = []
    school_years: dict[int, dict[str, Any]] = {}
    for year, month in _month_keys(filters.start, filters.end):
        row = by_month.get((year, month), empty)
        before = by_month.get((year - 1, month), empty)["held_previous"]
        school_year = year if month >= 9 else year - 1
        months.append(
            {
                "month": f"{year:04d}-{month:02d}",
                "school_year": school_year,
                "queued": row["queued"],
                "held": row["held"],
                "missed": row["missed"],
                "held_previous_year": before,
                **_change(row["held"], before),
            }
        )
        entry = school_years.setdefault(
            school_year, {"held": 0, "held_previous_year": 0, "queued": 0, "missed": 0}
        )
        entry["held"] += row["held"]
        entry["queued"] += row["queued"]
        entry["missed"] += row["missed"]
        entry["held_previous_year"] += before
    per_school_year = []
    for school_year, entry in school_years.items():
        first, last = school_year_dates(school_year)
        per_school_year.append(
            {
                "school_year": school_year,
                "label": school_year_label(school_year),
                "complete": filters.start <= first and last <= filters.end,
                **entry,
                **_change(entry["held"], entry["held_previous_year"]),
            }
        )
    return {"chats_per_month": months, "chats_per_school_year": per_school_year}


def _satisfaction(
    conversations: QuerySet[Conversation], held_by_audience: dict[str, int]
) -> dict[str, Any]:
    """Stars after the chat, per audience; the mean is taken over rated chats only."""
    rows = (
        conversations.filter(HELD, rating__isnull=False)
        .values("audience", "rating")
        .annotate(n=Count("pk"))
        .order_by()
    )
    distribution: dict[str, dict[str, int]] = {
        key: {str(stars): 0 for stars in range(1, 6)} for key in AUDIENCE_KEYS
    }
    for row in rows:
        stars = str(row["rating"])
        distribution["all"][stars] += row["n"]
        if row["audience"] in distribution:
            distribution[row["audience"]][stars] += row["n"]
    result = {}
    for key in AUDIENCE_KEYS:
        counts = distribution[key]
        rated = sum(counts.values())
        total = sum(int(stars) * n for stars, n in counts.items())
        result[key] = {
            "held": held_by_audience[key],
            "rated": rated,
            "rated_share": _share(rated, held_by_audience[key]),
            "mean": _share(total, rated),
            "distribution": counts,
        }
    return result


def _spread(
    queryset: QuerySet[Conversation], expression: Func, *, count: int, mean: Any
) -> dict[str, Any]:
    """Count, mean, median and 90th percentile (seconds) of ``expression``.

    Percentiles interpolate linearly between the two nearest ranks, as
    PostgreSQL's ``percentile_cont`` does. SQLite has no percentile function,
    so each one is read with ORDER BY … OFFSET after the count (one query
    each), the same on both databases.
    """
    return {
        "count": count,
        "mean": _seconds(mean),
        "median": _percentile(queryset, expression, count=count, fraction=0.5),
        "p90": _percentile(queryset, expression, count=count, fraction=0.9),
    }


def _percentile(
    queryset: QuerySet[Conversation], expression: Func, *, count: int, fraction: float
) -> float | None:
    if count == 0:
        return None
    position = fraction * (count - 1)
    below = math.floor(position)
    values = [
        _seconds(value)
        for value in queryset.annotate(_value=expression)
        .order_by("_value")
        .values_list("_value", flat=True)[below : below + 2]
    ]
    low = values[0]
    high = values[-1]
    assert low is not None and high is not None
    return low + (high - low) * (position - below)


def _taxonomy_counts(
    filters: Filters,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(topic rows, result rows): chats held per taxonomy item and audience."""
    scope = _scope(filters, prefix="registration__conversation__") & _held(
        "registration__conversation__"
    )
    audience = "registration__conversation__audience"
    topic_rows = list(
        Registration.topics.through.objects.filter(scope)
        .values("topic_id", audience)
        .annotate(n=Count("pk"))
        .order_by()
    )
    result_rows = list(
        Registration.results.through.objects.filter(scope)
        .values("result_id", audience)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return topic_rows, result_rows


def _by_audience(rows: list[dict[str, Any]], key: str) -> dict[str, dict[int, int]]:
    counts: dict[str, dict[int, int]] = {section: defaultdict(int) for section in AUDIENCE_KEYS}
    for row in rows:
        counts["all"][row[key]] += row["n"]
        section = row["registration__conversation__audience"]
        if section in counts:
            counts[section][row[key]] += row["n"]
    return counts


def _topics(rows: list[dict[str, Any]], held_by_audience: dict[str, int]) -> dict[str, Any]:
    counts = _by_audience(rows, "topic_id")
    topics = {
        t.pk: t
        for t in Topic.objects.select_related("domain").filter(
            pk__in={row["topic_id"] for row in rows}
        )
    }
    every: dict[str, list[dict[str, Any]]] = {}
    for section in AUDIENCE_KEYS:
        items = [
            {
                "id": topic_id,
                "name": topics[topic_id].name,
                "domain": topics[topic_id].domain.code,
                "is_active": topics[topic_id].is_active and topics[topic_id].domain.is_active,
                "count": n,
                "share": _share(n, held_by_audience[section]),
            }
            for topic_id, n in counts[section].items()
        ]
        every[section] = sorted(items, key=lambda item: (-item["count"], item["name"]))
    return {
        "topics": every,
        "top_topics": {section: items[:TOP_TOPICS] for section, items in every.items()},
    }


def _results(
    rows: list[dict[str, Any]], held_by_audience: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    counts = _by_audience(rows, "result_id")
    results = {r.pk: r for r in Result.objects.filter(pk__in={row["result_id"] for row in rows})}
    out = {}
    for section in AUDIENCE_KEYS:
        items = [
            {
                "id": result_id,
                "code": results[result_id].code,
                "name": results[result_id].name,
                "is_active": results[result_id].is_active,
                "count": n,
                "share": _share(n, held_by_audience[section]),
            }
            for result_id, n in counts[section].items()
        ]
        out[section] = sorted(
            items, key=lambda item: (-item["count"], results[item["id"]].position, item["name"])
        )
    return out


def _registered_broke_off(results: list[dict[str, Any]]) -> int:
    return sum(item["count"] for item in results if item["code"] == BROKE_OFF_RESULT_CODE)


def _referral_sources(
    conversations: QuerySet[Conversation], held_by_audience: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    """How visitors found the chat, per audience; skipped answers count as ``unknown``."""
    rows = (
        conversations.filter(HELD)
        .values("audience", "referral_source")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, dict[str, int]] = {section: defaultdict(int) for section in AUDIENCE_KEYS}
    for row in rows:
        source = row["referral_source"] or UNKNOWN
        counts["all"][source] += row["n"]
        if row["audience"] in counts:
            counts[row["audience"]][source] += row["n"]
    return {
        section: sorted(
            (
                {
                    "source": source,
                    "label": _choice_label(ReferralSource, source),
                    "count": n,
                    "share": _share(n, held_by_audience[section]),
                }
                for source, n in counts[section].items()
            ),
            key=lambda item: (-item["count"], item["source"]),
        )
        for section in AUDIENCE_KEYS
    }


def _prank(filters: Filters, held_by_audience: dict[str, int]) -> dict[str, Any]:
    """Suspected prank calls: registrations flagged, against chats held and chats registered."""
    prefix = "conversation__"
    totals: dict[str, Any] = {}
    for section in AUDIENCE_KEYS:
        condition = _audience_q(section, prefix)
        totals[f"registered_{section}"] = Count("pk", filter=condition)
        totals[f"suspected_{section}"] = Count("pk", filter=condition & Q(prank_suspected=True))
    counts = Registration.objects.filter(_scope(filters, prefix=prefix) & _held(prefix)).aggregate(
        **totals
    )
    return {
        section: {
            "held": held_by_audience[section],
            "registered": counts[f"registered_{section}"],
            "suspected": counts[f"suspected_{section}"],
            "share": _share(counts[f"suspected_{section}"], held_by_audience[section]),
            "share_of_registered": _share(
                counts[f"suspected_{section}"], counts[f"registered_{section}"]
            ),
        }
        for section in AUDIENCE_KEYS
    }


def _pupils(totals: dict[str, Any]) -> dict[str, Any]:
    """Pupils' self-reported gender (shares of those who answered) and mean age."""
    answered = sum(totals[f"pupil_gender_{g}"] for g in Gender.values)
    return {
        "held": totals["held_pupil"],
        "gender": [
            {
                "gender": g,
                "label": _choice_label(Gender, g),
                "count": totals[f"pupil_gender_{g}"],
                "share": _share(totals[f"pupil_gender_{g}"], answered),
            }
            for g in Gender.values
        ],
        "gender_answered": answered,
        "gender_unknown": totals["held_pupil"] - answered,
        "age_count": totals["pupil_age_count"],
        "age_mean": float(totals["pupil_age_mean"])
        if totals["pupil_age_mean"] is not None
        else None,
    }


def _operators(conversations: QuerySet[Conversation]) -> dict[str, Any]:
    """Operators who held at least one chat in the period, by discipline, and their chats."""
    rows = list(
        conversations.filter(HELD, operator__isnull=False)
        .values("operator_id", "operator__pseudonym", "operator__username", "operator__discipline")
        .annotate(chats=Count("pk"))
        .order_by("-chats", "operator_id")
    )
    by_discipline: dict[str, int] = defaultdict(int)
    for row in rows:
        by_discipline[row["operator__discipline"] or UNKNOWN] += 1
    order = [*Discipline.values, UNKNOWN]
    chats = [row["chats"] for row in rows]
    return {
        "count": len(rows),
        "chats": sum(chats),
        "chats_per_operator": _share(sum(chats), len(rows)),
        "chats_per_operator_median": _median(chats),
        "by_discipline": [
            {
                "discipline": discipline,
                "label": _choice_label(Discipline, discipline),
                "count": by_discipline[discipline],
                "share": _share(by_discipline[discipline], len(rows)),
            }
            for discipline in order
            if by_discipline.get(discipline)
        ],
        "per_operator": [
            {
                "id": row["operator_id"],
                "name": row["operator__pseudonym"] or row["operator__username"],
                "discipline": row["operator__discipline"] or UNKNOWN,
                "chats": row["chats"],
            }
            for row in rows
        ],
    }


def _median(values: Sequence[int]) -> float | None:
    """Median of a short list of aggregated numbers (one per operator)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _busyness(conversations: QuerySet[Conversation], filters: Filters) -> dict[str, Any]:
    """Chats per ISO weekday (1 = Monday) and hour of ``queued_at`` in Brussels."""
    rows = (
        conversations.annotate(
            weekday=_local_part("weekday", "queued_at", filters.bounds),
            hour=_local_part("hour", "queued_at", filters.bounds),
        )
        .values("weekday", "hour")
        .annotate(
            queued=Count("pk"), held=Count("pk", filter=HELD), missed=Count("pk", filter=MISSED)
        )
        .order_by()
    )
    cells = sorted(
        (
            {
                "weekday": _iso_weekday(row["weekday"]),
                "hour": row["hour"],
                "queued": row["queued"],
                "held": row["held"],
                "missed": row["missed"],
            }
            for row in rows
        ),
        key=lambda cell: (cell["weekday"], cell["hour"]),
    )
    return {
        "cells": cells,
        "by_weekday": _sum_cells(cells, "weekday"),
        "by_hour": _sum_cells(cells, "hour"),
    }


def _sum_cells(cells: list[dict[str, int]], key: str) -> list[dict[str, int]]:
    sums: dict[int, dict[str, int]] = {}
    for cell in cells:
        entry = sums.setdefault(cell[key], {key: cell[key], "queued": 0, "held": 0, "missed": 0})
        for measure in ("queued", "held", "missed"):
            entry[measure] += cell[measure]
    return [sums[k] for k in sorted(sums)]


def _audience_label(key: str) -> str:
    return _choice_label(Audience, key)


def _choice_label(choices: Any, value: str) -> str:
    if value == UNKNOWN:
        return _("niet ingevuld")
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# --- school years and trends ----------------------------------------------------------


def school_year_figures(
    school_year: int,
    *,
    channel: str | None = None,
    audience: str | None = None,
    operator_id: int | None = None,
) -> dict[str, Any]:
    """``figures_for`` the whole school year, plus a ``school_year`` key.

    ``chats_per_school_year`` then holds exactly this school year next to the
    one before.
    """
    filters = school_year_filters(
        school_year, channel=channel, audience=audience, operator_id=operator_id
    )
    figures = figures_for(filters)
    figures["school_year"] = {
        "year": school_year,
        "label": school_year_label(school_year),
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
    }
    return figures


def topics_resolve(values: Iterable[int | str], *, strict: bool = True) -> list[Topic]:
    """Topics by id or by name (case-insensitive, current name), in the order asked.

    A name matches every topic that has it (one per domain at most). Retired
    topics are found too. With ``strict``, an id or name that matches nothing
    raises InvalidInput (code ``unknown_topic``); without, it is skipped.
    """
    ids: list[int] = []
    names: list[str] = []
    impossible: list[str] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if re.fullmatch(r"[0-9]{1,19}", text) and int(text) <= MAX_ID:
            ids.append(int(text))
        elif text.isprintable() and len(text) <= 200:
            names.append(text)
        else:
            # Control characters (PostgreSQL refuses NUL), an id past 64 bits,
            # an overlong name: no topic has them, so there is nothing to look up.
            impossible.append(text[:50])
    if not ids and not names:
        if impossible and strict:
            raise InvalidInput(
                _("Onbekend thema."), code="unknown_topic", fields={"topics": impossible}
            )
        return []
    query = Q(pk__in=ids)
    for name in names:
        query |= Q(name__iexact=name)
    found = list(Topic.objects.select_related("domain").filter(query))
    ordered: list[Topic] = []
    missing: list[str] = list(impossible)
    asked = [(str(i), [t for t in found if t.pk == i]) for i in ids] + [
        (name, [t for t in found if t.name.lower() == name.lower()]) for name in names
    ]
    for value, matches in asked:
        if not matches:
            missing.append(value)
        ordered.extend(t for t in matches if t not in ordered)
    if missing and strict:
        raise InvalidInput(_("Onbekend thema."), code="unknown_topic", fields={"topics": missing})
    return ordered


def trends(
    start_year: int,
    end_year: int,
    *,
    topics: Iterable[int | str] = (),
    channel: str | None = None,
    audience: str | None = None,
    operator_id: int | None = None,
) -> dict[str, Any]:
    """Per school year from ``start_year`` to ``end_year`` (inclusive): the
    main counts, and for each chosen topic the chats held with it and their
    share of the chats held that year.

    Runs one aggregate query per school year for the counts (a range of
    ``queued_at`` each), and one each for the prank flags and the topics.
    Measured on SQLite over a million conversations (docs/performance.md),
    one query per year is four times faster than one GROUP BY over all
    years, which sorts every row; and the two registration queries pick the
    school year with a CASE rather than a range of ``queued_at``, so that the
    planner starts from the few flagged registrations or topic rows instead of
    from every conversation (three to four times faster).
    """
    if start_year > end_year:
        raise InvalidInput(
            _("Het eerste schooljaar ligt na het laatste."),
            code="invalid_period",
            fields={"from": start_year, "to": end_year},
        )
    if end_year - start_year >= MAX_TREND_YEARS:
        raise InvalidInput(
            _("Kies hoogstens twintig schooljaren."),
            code="invalid_period",
            fields={"from": start_year, "to": end_year},
        )
    filters = Filters(
        start=school_year_dates(start_year)[0],
        end=school_year_dates(end_year)[1],
        channel=channel,
        audience=audience,
        operator_id=operator_id,
    )
    chosen = topics_resolve(topics)
    years = list(range(start_year, end_year + 1))

    def school_year_case(prefix: str) -> Case:
        """The school year of ``queued_at``, NULL outside the trend's years."""
        field = f"{prefix}queued_at__lt"
        return Case(
            When(**{field: _midnight(date(start_year, 9, 1))}, then=Value(None)),
            *(When(**{field: _midnight(date(y + 1, 9, 1))}, then=Value(y)) for y in years),
            default=Value(None),
            output_field=IntegerField(),
        )

    def per_school_year(queryset: QuerySet[Any], prefix: str) -> QuerySet[Any]:
        return (
            queryset.filter(_scope(filters, prefix=prefix, dated=False) & _held(prefix))
            .annotate(school_year=school_year_case(prefix))
            .filter(school_year__isnull=False)
        )

    per_year = {
        year: Conversation.objects.filter(
            _scope(
                school_year_filters(
                    year, channel=channel, audience=audience, operator_id=operator_id
                )
            )
        ).aggregate(
            queued=Count("pk"),
            held=Count("pk", filter=HELD),
            missed=Count("pk", filter=MISSED),
            held_pupil=Count("pk", filter=HELD & Q(audience=Audience.PUPIL)),
            held_parent=Count("pk", filter=HELD & Q(audience=Audience.PARENT)),
            rated=Count("pk", filter=HELD & Q(rating__isnull=False)),
            rating_mean=Avg("rating", filter=HELD),
        )
        for year in years
    }
    prank = {
        row["school_year"]: row["n"]
        for row in per_school_year(
            Registration.objects.filter(prank_suspected=True), "conversation__"
        )
        .values("school_year")
        .annotate(n=Count("pk"))
        .order_by()
    }
    topic_counts: dict[tuple[int, int], int] = {}
    if chosen:
        for row in (
            per_school_year(
                Registration.topics.through.objects.filter(topic_id__in=[t.pk for t in chosen]),
                "registration__conversation__",
            )
            .values("school_year", "topic_id")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            topic_counts[(row["school_year"], row["topic_id"])] = row["n"]

    rows = []
    previous_held: int | None = None
    for year in years:
        row = per_year[year]
        held = row["held"]
        rows.append(
            {
                "school_year": year,
                "label": school_year_label(year),
                "queued": row["queued"],
                "held": held,
                "missed": row["missed"],
                "missed_share": _share(row["missed"], held + row["missed"]),
                "held_pupil": row["held_pupil"],
                "held_parent": row["held_parent"],
                "rated": row["rated"],
                "rating_mean": float(row["rating_mean"])
                if row["rating_mean"] is not None
                else None,
                "prank": prank.get(year, 0),
                "prank_share": _share(prank.get(year, 0), held),
                **(
                    _change(held, previous_held)
                    if previous_held is not None
                    else {"change": None, "change_pct": None}
                ),
            }
        )
        previous_held = held
    held_per_year = {row["school_year"]: row["held"] for row in rows}
    return {
        "filters": {
            "from": start_year,
            "to": end_year,
            "channel": channel,
            "audience": audience,
            "operator_id": operator_id,
        },
        "years": rows,
        "topics": [
            {
                "id": topic.pk,
                "name": topic.name,
                "domain": topic.domain.code,
                "is_active": topic.is_active and topic.domain.is_active,
                "years": [
                    {
                        "school_year": year,
                        "label": school_year_label(year),
                        "count": topic_counts.get((year, topic.pk), 0),
                        "share": _share(topic_counts.get((year, topic.pk), 0), held_per_year[year]),
                    }
                    for year in years
                ],
            }
            for topic in chosen
        ],
    }
