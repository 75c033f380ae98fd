"""A made-up school year of chats, calibrated to the published figures.

Pure: no database. :func:`school_year_records` takes the year's opening
periods, the demo operators and the taxonomy's ids, and returns one
:class:`~onthaal.history.records.ConversationRecord` per conversation.
Everything random comes from the ``rng`` passed in, in a fixed order, so a
seed gives the same year every time.

Counts that the reports publish (audience, gender, age, prank share, mobile
share, results per audience, sources, topics, ratings) are dealt out as
exact quotas over the chats, not drawn one chat at a time, so the year
reproduces them up to rounding. Times (waits, durations, the moment in the
opening hours) are drawn from distributions with the published means.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onthaal.chat.models import Channel, EndReason
from onthaal.history import figures
from onthaal.history.records import ConversationRecord

MEDICAL = frozenset({"doctor", "nurse"})
LANGUAGE = "nl-be"


@dataclass(frozen=True)
class DemoOperator:
    pk: int
    discipline: str


@dataclass(frozen=True)
class DemoTaxonomy:
    """Ids of the seeded topics, by (domain code, name), and of the results, by code.

    Topics of :data:`figures.TOPIC_COUNTS` missing here (renamed or removed
    by a coordinator) are left out of the demo.
    """

    topics: Mapping[tuple[str, str], int]
    results: Mapping[str, int]


@dataclass
class _Chat:
    period: int
    held: bool
    queued_at: datetime
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""
    audience: str = ""
    age: int | None = None
    gender: str = ""
    referral_source: str = ""
    device_class: str = ""
    operator_id: int | None = None
    topics: list[tuple[str, str]] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    prank: bool = False
    rating: int | None = None
    registered_at: datetime | None = None


def quota_counts[K: Hashable](total: int, shares: Mapping[K, float]) -> dict[K, int]:
    """``total`` split by ``shares`` into whole numbers (largest remainder).

    When the shares add up to less than 1, the rest stays unassigned.
    """
    raw = {key: total * share for key, share in shares.items()}
    counts = {key: math.floor(value) for key, value in raw.items()}
    target = min(total, round(sum(raw.values())))
    by_remainder = sorted(raw, key=lambda key: raw[key] - counts[key], reverse=True)
    for key in by_remainder[: max(0, target - sum(counts.values()))]:
        counts[key] += 1
    return counts


def _deal[K: Hashable](
    rng: random.Random, items: Sequence[int], shares: Mapping[K, float]
) -> dict[int, K]:
    """Give each of ``items`` one key, in exactly the shares' proportions."""
    counts = quota_counts(len(items), shares)
    labels = [key for key, count in counts.items() for _ in range(count)]
    rng.shuffle(labels)
    return dict(zip(items, labels, strict=False))


def _pick(
    rng: random.Random, candidates: Sequence[int], k: int, weight: Callable[[int], float]
) -> list[int]:
    """``k`` of ``candidates`` drawn without replacement, each in proportion to its
    weight (Efraimidis and Spirakis' keys: the k largest of u^(1/w))."""
    if k <= 0:
        return []
    keyed = []
    for candidate in candidates:
        w = weight(candidate)
        if w > 0:
            keyed.append((rng.random() ** (1.0 / w), candidate))
    return [candidate for _key, candidate in heapq.nlargest(k, keyed)]


class _Year:
    def __init__(
        self,
        *,
        periods: Sequence[tuple[datetime, datetime]],
        operators: Sequence[DemoOperator],
        taxonomy: DemoTaxonomy,
        rng: random.Random,
        scale: float,
    ) -> None:
        self.periods = periods
        self.operators = operators
        self.taxonomy = taxonomy
        self.rng = rng
        self.scale = scale
        self.chats: list[_Chat] = []

    # --- when ---------------------------------------------------------------------

    def _hour_weights(self, opens: datetime, closes: datetime) -> list[tuple[datetime, float]]:
        """(start of the stretch, weight × length in hours) for each clock hour of a period."""
        stretches = []
        start = opens
        while start < closes:
            end = min(closes, start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
            hours = (end - start).total_seconds() / 3600
            stretches.append((start, figures.HOUR_WEIGHTS[start.hour] * hours))
            start = end
        return stretches

    def _moment(self, period: int, *, latest_offset: float) -> datetime:
        """A moment in the period by the hour curve, at least ``latest_offset``
        seconds before it closes."""
        opens, closes = self.periods[period]
        latest = max(opens, closes - timedelta(seconds=latest_offset))
        stretches = self._hour_weights(opens, closes)
        (start, _weight) = self.rng.choices(stretches, weights=[w for _s, w in stretches])[0]
        stretch_end = min(
            closes, start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        )
        moment = start + (stretch_end - start) * self.rng.random()
        if moment > latest:
            moment = opens + (latest - opens) * self.rng.random()
        return moment.replace(microsecond=0)

    def place(self) -> None:
        held = round(figures.HELD_CHATS * self.scale)
        missed = round(held * figures.MISSED_SHARE / (1 - figures.MISSED_SHARE))
        weights = [
            figures.MONTH_WEIGHTS[opens.month]
            * figures.WEEKDAY_WEIGHTS[opens.weekday()]
            * sum(w for _start, w in self._hour_weights(opens, closes))
            for opens, closes in self.periods
        ]
        placed = sorted(
            self.rng.choices(range(len(self.periods)), weights=weights, k=held + missed)
        )
        closed = round(missed * figures.CLOSED_SHARE_OF_MISSED)
        fates = ["held"] * held + ["missed"] * (missed - closed) + ["closed"] * closed
        self.rng.shuffle(fates)
        rng = self.rng
        mu = math.log(figures.MEAN_DURATION_MINUTES * 60) - figures.DURATION_SIGMA**2 / 2
        for period, fate in zip(placed, fates, strict=True):
            opens, closes = self.periods[period]
            # An extra opening may be short: a wait never takes more than half of it.
            longest_wait = min(figures.MAX_WAIT_SECONDS, (closes - opens).total_seconds() / 2)
            if fate == "held":
                wait = min(
                    rng.gammavariate(
                        figures.WAIT_GAMMA_SHAPE,
                        figures.MEAN_WAIT_SECONDS / figures.WAIT_GAMMA_SHAPE,
                    ),
                    longest_wait,
                )
                duration = min(
                    max(
                        rng.lognormvariate(mu, figures.DURATION_SIGMA), figures.MIN_DURATION_SECONDS
                    ),
                    figures.MAX_DURATION_SECONDS,
                )
                queued = self._moment(period, latest_offset=wait + 60)
                accepted = queued + timedelta(seconds=round(wait))
                chat = _Chat(period, True, queued, accepted)
                chat.ended_at = accepted + timedelta(seconds=round(duration))
            elif fate == "closed":
                # Still queued when the chat closed, having come in its last 20 minutes.
                queued = max(opens, closes - timedelta(seconds=rng.uniform(60, 20 * 60)))
                chat = _Chat(period, False, queued.replace(microsecond=0), ended_at=closes)
                chat.end_reason = EndReason.CLOSED
            else:
                wait = rng.expovariate(1 / figures.MEAN_MISSED_WAIT_SECONDS)
                wait = min(wait, longest_wait)
                queued = self._moment(period, latest_offset=wait + 60)
                chat = _Chat(
                    period, False, queued, ended_at=queued + timedelta(seconds=round(wait))
                )
                chat.end_reason = EndReason.MISSED
            self.chats.append(chat)
        self.chats.sort(key=lambda c: c.queued_at)

    # --- who ----------------------------------------------------------------------

    def intake(self) -> None:
        rng = self.rng
        everyone = list(range(len(self.chats)))
        held = [i for i in everyone if self.chats[i].held]
        missed = [i for i in everyone if not self.chats[i].held]
        for group in (held, missed):
            for index, audience in _deal(rng, group, figures.AUDIENCE_SHARES).items():
                self.chats[index].audience = audience
        for audience, mobile in figures.MOBILE_SHARES.items():
            members = [i for i in everyone if self.chats[i].audience == audience]
            dealt = _deal(rng, members, {"mobile": mobile, "desktop": 1 - mobile})
            for index, device in dealt.items():
                self.chats[index].device_class = device
        pupils = [i for i in everyone if self.chats[i].audience == "pupil"]
        answering = _pick(
            rng, pupils, round(len(pupils) * (1 - figures.PUPIL_INTAKE_SKIPPED_SHARE)), lambda i: 1
        )
        answering.sort()
        for index, gender in _deal(rng, answering, figures.PUPIL_GENDER_SHARES).items():
            self.chats[index].gender = gender
        total_age = sum(figures.PUPIL_AGE_WEIGHTS.values())
        age_shares = {age: w / total_age for age, w in figures.PUPIL_AGE_WEIGHTS.items()}
        for index, age in _deal(rng, answering, age_shares).items():
            self.chats[index].age = age

        remaining = set(held)
        for source, count in figures.REFERRAL_COUNTS.items():
            k = round(count * len(held) / figures.HELD_CHATS)
            odds = figures.REFERRAL_PARENT_ODDS[source]
            chosen = _pick(
                rng,
                sorted(remaining),
                k,
                lambda i, odds=odds: odds if self.chats[i].audience == "parent" else 1.0,
            )
            for index in chosen:
                self.chats[index].referral_source = source
            remaining.difference_update(chosen)
        # Missed chats answered the intake the same way (the report counts held chats).
        shares = {s: c / figures.HELD_CHATS for s, c in figures.REFERRAL_COUNTS.items()}
        for index, source in _deal(rng, missed, {**shares, "": 1 - sum(shares.values())}).items():
            self.chats[index].referral_source = source

    def staff(self) -> None:
        """Shifts of 4–6 operators (at least one doctor or nurse) per stretch of
        opening hours; each held chat goes to one operator of its shift."""
        rng = self.rng
        # Some operators take more shifts than others, within reason.
        activity = {op.pk: rng.gammavariate(4.0, 1.0) for op in self.operators}
        medical = [op.pk for op in self.operators if op.discipline in MEDICAL]
        everyone = [op.pk for op in self.operators]
        shifts: dict[tuple[int, int], list[int]] = {}
        for period, (opens, closes) in enumerate(self.periods):
            hours = (closes - opens).total_seconds() / 3600
            for shift in range(max(1, round(hours / figures.SHIFT_HOURS))):
                low, high = figures.OPERATORS_ONLINE
                team = _pick(rng, everyone, rng.randint(low, high), lambda pk: activity[pk])
                if medical and not set(team) & set(medical):
                    team[-1] = _pick(rng, medical, 1, lambda pk: activity[pk])[0]
                shifts[(period, shift)] = team
        for chat in self.chats:
            if not chat.held or chat.accepted_at is None:
                continue
            opens, closes = self.periods[chat.period]
            count = max(1, round((closes - opens).total_seconds() / 3600 / figures.SHIFT_HOURS))
            position = (chat.accepted_at - opens) / (closes - opens)
            shift = min(count - 1, max(0, int(position * count)))
            chat.operator_id = rng.choice(shifts[(chat.period, shift)])

    # --- what the operator registered ---------------------------------------------

    def registrations(self) -> None:
        rng = self.rng
        held = [i for i, chat in enumerate(self.chats) if chat.held]
        for audience in ("pupil", "parent"):
            members = [i for i in held if self.chats[i].audience == audience]
            self._register(audience, members)
        for index in held:
            chat = self.chats[index]
            assert chat.ended_at is not None
            chat.registered_at = chat.ended_at + timedelta(seconds=rng.randint(60, 6 * 60))

    def _register(self, audience: str, members: list[int]) -> None:
        rng = self.rng
        chats = self.chats
        n = len(members)
        published_total = round(figures.HELD_CHATS * figures.AUDIENCE_SHARES[audience])
        shares = figures.RESULT_SHARES[audience]

        broke_off = set(_pick(rng, members, round(shares["broke_off"] * n), lambda i: 1))
        prank = set(_pick(rng, members, round(figures.PRANK_SHARES[audience] * n), lambda i: 1))
        for index in prank:
            chats[index].prank = True

        topic_counts = {
            topic: count
            for topic, count in figures.TOPIC_COUNTS[audience].items()
            if topic in self.taxonomy.topics
        }
        for topic, count in topic_counts.items():
            k = round(count * n / published_total)

            def weight(i: int) -> float:
                return (0.35 if i in broke_off else 1.0) * (0.5 if i in prank else 1.0)

            for index in _pick(rng, members, k, weight):
                chats[index].topics.append(topic)

        def has_topic(i: int, names: set[str]) -> bool:
            return any(name in names for _domain, name in chats[i].topics)

        for code, share in shares.items():
            if code == "broke_off" or code not in self.taxonomy.results:
                continue
            if code == "crisis":

                def weight(i: int) -> float:
                    return 30.0 if has_topic(i, {"zelfmoordgedachten", "zelfverwonding"}) else 1.0
            elif code == "referral_onderwijskiezer":

                def weight(i: int) -> float:
                    return 10.0 if has_topic(i, {"studiekeuze / schoolloopbaan"}) else 1.0
            else:

                def weight(i: int) -> float:
                    return figures.BROKE_OFF_OTHER_RESULT_ODDS if i in broke_off else 1.0

            for index in _pick(rng, members, round(share * n), weight):
                chats[index].results.append(code)
        for index in sorted(broke_off):
            chats[index].results.append("broke_off")

        # A registration names at least one topic or result.
        fill = {t: c for t, c in topic_counts.items() if t not in figures.TRACKED_TOPICS}
        for index in members:
            if not chats[index].topics and not chats[index].results and fill:
                topic = rng.choices(list(fill), weights=list(fill.values()))[0]
                chats[index].topics = [topic]

        for group, reason_shares in (
            (sorted(broke_off), figures.END_REASON_SHARES_BROKE_OFF),
            ([i for i in members if i not in broke_off], figures.END_REASON_SHARES_OTHER),
        ):
            for index, reason in _deal(rng, group, reason_shares).items():
                chats[index].end_reason = reason

        rated = sorted(
            _pick(
                rng,
                members,
                round(figures.RATED_SHARE * n),
                lambda i: figures.BROKE_OFF_RATING_ODDS if i in broke_off else 1.0,
            )
        )
        for index, stars in _deal(rng, rated, figures.RATING_SHARES[audience]).items():
            chats[index].rating = stars

    # --- out ----------------------------------------------------------------------

    def records(self) -> list[ConversationRecord]:
        topics = self.taxonomy.topics
        results = self.taxonomy.results
        return [
            ConversationRecord(
                line=number,
                external_id=None,
                channel=Channel.CHAT,
                queued_at=chat.queued_at,
                accepted_at=chat.accepted_at,
                ended_at=chat.ended_at,
                end_reason=chat.end_reason,
                audience=chat.audience,
                age=chat.age,
                gender=chat.gender,
                referral_source=chat.referral_source,
                device_class=chat.device_class,
                language=LANGUAGE,
                rating=chat.rating,
                operator_id=chat.operator_id,
                topic_ids=tuple(topics[t] for t in chat.topics),
                result_ids=tuple(results[r] for r in chat.results),
                prank_suspected=chat.prank,
                registered=chat.held,
                registered_at=chat.registered_at,
            )
            for number, chat in enumerate(self.chats, start=1)
        ]


def school_year_records(
    *,
    periods: Sequence[tuple[datetime, datetime]],
    operators: Sequence[DemoOperator],
    taxonomy: DemoTaxonomy,
    rng: random.Random,
    scale: float = 1.0,
) -> list[ConversationRecord]:
    """The conversations of one school year, ordered by ``queued_at``.

    ``periods`` are the year's opening periods (aware datetimes, in order);
    every conversation is queued, and every held one accepted, inside one.
    ``scale`` multiplies the volume (1.0: the 7,626 held chats of 2024–25).
    """
    if not periods:
        return []
    year = _Year(periods=periods, operators=operators, taxonomy=taxonomy, rng=rng, scale=scale)
    year.place()
    year.intake()
    year.staff()
    year.registrations()
    return year.records()
