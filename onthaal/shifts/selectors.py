"""Reads of shifts: coverage of blocks, who is scheduled, an operator's
shifts, the calendar-feed lookup and the staffing forecast from demand.

Coverage is derived from the sign-ups, never stored. Every function runs a
fixed number of queries, whatever the number of blocks and sign-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from onthaal.chat.models import Conversation, EndReason
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.selectors import opening_periods
from onthaal.shifts import erlang
from onthaal.shifts.models import CalendarFeed, ShiftBlock, ShiftSignup, feed_token_hash
from onthaal.staff.models import Discipline, User

#: The disciplines that count as medical (DOMAIN.md: "at least one of the
#: medical discipline (doctor or nurse) whenever possible").
MEDICAL_DISCIPLINES = frozenset({Discipline.DOCTOR, Discipline.NURSE})

#: How many past weeks with the hour open the forecast averages over.
FORECAST_WEEKS = 8
#: How far back the forecast looks for those weeks at most (the summer
#: closure alone is a month).
FORECAST_LOOKBACK_WEEKS = 26
#: Over how many days the mean chat length is measured.
CHAT_LENGTH_DAYS = 56
#: The mean chat length when there is no history (DOMAIN.md: 20 min).
DEFAULT_CHAT_MINUTES = 20.0
#: The default target for the mean wait in the queue.
DEFAULT_TARGET_WAIT_SECONDS = 120
#: The longest range one listing or forecast may span.
MAX_RANGE_DAYS = 400


# --- coverage ------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockCoverage:
    """Who signed up for a block and what is missing.

    ``understaffed``: fewer operators than ``block.min_operators``.
    ``missing_medical``: the block requires a medical operator and none of
    those signed up is a doctor or a nurse. ``outside_opening_hours``: the
    calendar changed after the block was planned (e.g. a closure was added),
    so the block no longer lies inside an opening period.
    """

    block: ShiftBlock
    operators: list[User]
    medical_count: int
    understaffed: bool
    missing_medical: bool
    outside_opening_hours: bool

    @property
    def count(self) -> int:
        return len(self.operators)

    @property
    def flags(self) -> list[str]:
        """The problems of this block, as stable codes (empty when covered)."""
        names = ("understaffed", "missing_medical", "outside_opening_hours")
        return [name for name in names if getattr(self, name)]

    @property
    def ok(self) -> bool:
        return not self.flags


def _blocks_with_operators() -> Iterable[ShiftBlock]:
    return ShiftBlock.objects.prefetch_related(
        Prefetch(
            "signups",
            queryset=ShiftSignup.objects.select_related("operator").order_by(
                "operator__pseudonym", "operator__username"
            ),
        )
    )


def _coverage(
    block: ShiftBlock, periods: Sequence[tuple[datetime, datetime]] | None
) -> BlockCoverage:
    operators = [signup.operator for signup in block.signups.all()]
    medical = sum(1 for user in operators if user.discipline in MEDICAL_DISCIPLINES)
    if periods is None:
        day = block.starts_at.astimezone(HELPLINE_TIMEZONE).date()
        periods = opening_periods(start=day, end=day)
    inside = any(o <= block.starts_at and block.ends_at <= c for o, c in periods)
    return BlockCoverage(
        block=block,
        operators=operators,
        medical_count=medical,
        understaffed=len(operators) < block.min_operators,
        missing_medical=block.medical_required and medical == 0,
        outside_opening_hours=not inside,
    )


def coverage_for(block: ShiftBlock) -> BlockCoverage:
    """The coverage of one block (reads its sign-ups and its date's hours)."""
    fresh = _blocks_with_operators().get(pk=block.pk)
    return _coverage(fresh, None)


def _range_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time.min, tzinfo=HELPLINE_TIMEZONE)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=HELPLINE_TIMEZONE)
    return low, high


def coverage_in_range(*, start: date, end: date) -> list[BlockCoverage]:
    """The coverage of every block starting on the dates ``start`` to ``end``
    (inclusive, Europe/Brussels), in order. Runs six queries."""
    if start > end:
        return []
    low, high = _range_bounds(start, end)
    blocks = list(_blocks_with_operators().filter(starts_at__gte=low, starts_at__lt=high))
    periods = opening_periods(start=start, end=end)
    return [_coverage(block, periods) for block in blocks]


def scheduled_now(at: datetime) -> list[User]:
    """The active staff signed up for a block running at ``at`` (aware): from
    its start up to, not including, its end. Each person once, by pseudonym.
    One query."""
    return list(
        User.objects.filter(
            is_active=True,
            shift_signups__block__starts_at__lte=at,
            shift_signups__block__ends_at__gt=at,
        )
        .distinct()
        .order_by("pseudonym", "username")
    )


def operator_shifts(*, operator: User, since: datetime) -> list[ShiftBlock]:
    """The blocks ``operator`` signed up for that end after ``since``, in order."""
    return list(ShiftBlock.objects.filter(signups__operator=operator, ends_at__gt=since))


def open_blocks(*, operator: User, now: datetime, end: date) -> list[BlockCoverage]:
    """Blocks that have not started by ``now``, up to the date ``end``, for
    which ``operator`` has not signed up yet, with their coverage."""
    today = now.astimezone(HELPLINE_TIMEZONE).date()
    return [
        coverage
        for coverage in coverage_in_range(start=today, end=end)
        if coverage.block.starts_at > now
        and all(user.pk != operator.pk for user in coverage.operators)
    ]


def calendar_feed_operator(*, token: str) -> User | None:
    """The active staff member whose calendar feed ``token`` opens, or None."""
    if not token:
        return None
    feed = (
        CalendarFeed.objects.select_related("operator")
        .filter(token_hash=feed_token_hash(token), operator__is_active=True)
        .first()
    )
    return feed.operator if feed else None


def calendar_feed_exists(*, operator: User) -> bool:
    return CalendarFeed.objects.filter(operator=operator).exists()


# --- staffing from demand ------------------------------------------------------------


@dataclass(frozen=True)
class HourForecast:
    starts_at: datetime  # the clock hour, Europe/Brussels
    arrivals_per_hour: float
    weeks: int  # how many past weeks with this hour open the mean is over
    operators_needed: int


@dataclass(frozen=True)
class BlockForecast:
    coverage: BlockCoverage
    hours: list[HourForecast]
    operators_needed: int  # for the busiest hour of the block (Erlang C)

    @property
    def recommended(self) -> int:
        """What to plan for: the Erlang C need, but never under the block's minimum."""
        return max(self.operators_needed, self.coverage.block.min_operators)

    @property
    def shortfall(self) -> int:
        return max(0, self.recommended - self.coverage.count)


@dataclass(frozen=True)
class StaffingForecast:
    blocks: list[BlockForecast]
    mean_chat_minutes: float
    chat_length_sample: int  # chats the mean is measured on (0: the default was used)
    chats_per_operator: int
    target_wait_seconds: int
    generated_at: datetime


HELD_OR_MISSED = Q(accepted_at__isnull=False) | Q(
    accepted_at__isnull=True, end_reason__in=(EndReason.MISSED, EndReason.CLOSED)
)


def mean_chat_minutes(*, now: datetime) -> tuple[float, int]:
    """Mean chat length (accepted → ended) over the ``CHAT_LENGTH_DAYS`` days
    before ``now``, in minutes, and how many chats it is measured on.
    ``DEFAULT_CHAT_MINUTES`` when none. One query."""
    row = Conversation.objects.filter(
        accepted_at__gte=now - timedelta(days=CHAT_LENGTH_DAYS),
        accepted_at__lt=now,
        ended_at__isnull=False,
    ).aggregate(
        mean=Avg(ExpressionWrapper(F("ended_at") - F("accepted_at"), output_field=DurationField())),
        n=Count("pk"),
    )
    mean: timedelta | None = row["mean"]
    if not row["n"] or mean is None or mean.total_seconds() <= 0:
        return DEFAULT_CHAT_MINUTES, 0
    return mean.total_seconds() / 60, row["n"]


def _hour_starts(block: ShiftBlock) -> list[datetime]:
    """The clock hours (Brussels, aware) that the block overlaps."""
    first = block.starts_at.astimezone(HELPLINE_TIMEZONE).replace(minute=0, second=0, microsecond=0)
    hours = []
    at = first.astimezone(UTC)
    while at < block.ends_at:
        hours.append(at.astimezone(HELPLINE_TIMEZONE))
        at += timedelta(hours=1)
    return hours


def _open_hours(periods: Iterable[tuple[datetime, datetime]]) -> set[datetime]:
    """Every clock-hour start (UTC) that an opening period overlaps."""
    hours: set[datetime] = set()
    for opens, closes in periods:
        at = opens.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while at < closes:
            hours.add(at)
            at += timedelta(hours=1)
    return hours


def staffing_forecast(
    *,
    start: date,
    end: date,
    target_wait_seconds: int = DEFAULT_TARGET_WAIT_SECONDS,
    now: datetime | None = None,
) -> StaffingForecast:
    """For each block starting on the dates ``start``–``end`` that has not
    ended by ``now``: the forecast arrivals per hour and the operators needed.

    The forecast for a clock hour (say Tuesday 18:00) is the mean number of
    chats queued in that hour (held or missed) on the same weekday in the
    last ``FORECAST_WEEKS`` past weeks in which that hour was open, looking
    back at most ``FORECAST_LOOKBACK_WEEKS`` weeks from ``now``; an hour
    never open in that time forecasts 0 with ``weeks = 0``. The operators
    needed for the hour is the Erlang C answer (``erlang.operators_needed``)
    for that rate, the mean chat length of the last ``CHAT_LENGTH_DAYS``
    days, ``ONTHAAL_MAX_CHATS_PER_OPERATOR`` chats per operator and the
    target mean wait; a block needs what its busiest hour needs.

    Runs a fixed number of queries (blocks, sign-ups, two of history, and
    the opening calendar twice).
    """
    now = now or timezone.now()
    chats_per_operator = int(settings.ONTHAAL_MAX_CHATS_PER_OPERATOR)
    chat_minutes, sample = mean_chat_minutes(now=now)
    blocks = [c for c in coverage_in_range(start=start, end=end) if c.block.ends_at > now]

    today = now.astimezone(HELPLINE_TIMEZONE).date()
    first_day = today - timedelta(weeks=FORECAST_LOOKBACK_WEEKS)
    history_low, _high = _range_bounds(first_day, today)
    counts: dict[datetime, int] = {
        row["hour"].astimezone(UTC): row["n"]
        for row in Conversation.objects.filter(
            HELD_OR_MISSED, queued_at__gte=history_low, queued_at__lt=now
        )
        # Brussels is a whole number of hours from UTC, so UTC clock hours
        # are Brussels clock hours.
        .annotate(hour=TruncHour("queued_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by()
    }
    past_open = _open_hours(opening_periods(start=first_day, end=today)) if blocks else set()

    def hour_forecast(hour: datetime) -> HourForecast:
        seen: list[int] = []
        # The same weekday and wall-clock hour, one week back at a time.
        reference = hour
        while len(seen) < FORECAST_WEEKS:
            # Aware arithmetic in one zone keeps the wall clock: 18:00 stays
            # 18:00 across a DST change.
            reference = reference - timedelta(weeks=1)
            if reference.date() < first_day:
                break
            reference_utc = reference.astimezone(UTC)
            if reference_utc + timedelta(hours=1) > now or reference_utc not in past_open:
                continue
            seen.append(counts.get(reference_utc, 0))
        rate = sum(seen) / len(seen) if seen else 0.0
        needed = erlang.operators_needed(
            arrivals_per_hour=rate,
            mean_chat_hours=chat_minutes / 60,
            chats_per_operator=chats_per_operator,
            target_wait_hours=target_wait_seconds / 3600,
        )
        return HourForecast(
            starts_at=hour, arrivals_per_hour=rate, weeks=len(seen), operators_needed=needed
        )

    cache: dict[datetime, HourForecast] = {}
    forecasts = []
    for coverage in blocks:
        hours = []
        for hour in _hour_starts(coverage.block):
            if hour not in cache:
                cache[hour] = hour_forecast(hour)
            hours.append(cache[hour])
        forecasts.append(
            BlockForecast(
                coverage=coverage,
                hours=hours,
                operators_needed=max((h.operators_needed for h in hours), default=0),
            )
        )
    return StaffingForecast(
        blocks=forecasts,
        mean_chat_minutes=chat_minutes,
        chat_length_sample=sample,
        chats_per_operator=chats_per_operator,
        target_wait_seconds=target_wait_seconds,
        generated_at=now,
    )
