"""``onthaal demo`` at its default scale: the year matches the published figures.

The year is generated once for this module (about ten seconds) and removed
at its end.
"""

from __future__ import annotations

import bisect
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Avg, Count, F

from onthaal.chat.models import Conversation, ConversationEvent
from onthaal.history.tests.conftest import run_command
from onthaal.hours.models import Closure, SchoolHoliday
from onthaal.hours.selectors import opening_periods
from onthaal.registration.models import Registration
from onthaal.staff.models import User

SCHOOL_YEAR = (date(2024, 9, 1), date(2025, 8, 31))
BRUSSELS = ZoneInfo("Europe/Brussels")


def _calendar_rows() -> tuple[set[int], set[int]]:
    return (
        set(SchoolHoliday.objects.values_list("pk", flat=True)),
        set(Closure.objects.values_list("pk", flat=True)),
    )


@pytest.fixture(scope="module")
def full_year(django_db_setup, django_db_blocker) -> Iterator[float]:
    """The default year (scale 1, seed 7), generated once for this module's
    tests and removed afterwards. Yields the seconds it took."""
    with django_db_blocker.unblock():
        holidays, closures = _calendar_rows()
        began = time.perf_counter()
        run = run_command("demo", year="2024-2025", seed=7)
        seconds = time.perf_counter() - began
        assert run.ok, run.error
        yield seconds
        run_command("demo", remove=True)
        # The generated school calendar of 2024-25 goes too: other tests count on
        # the calendar the migration made.
        SchoolHoliday.objects.exclude(pk__in=holidays).delete()
        Closure.objects.exclude(pk__in=closures).delete()


def demo() -> tuple:
    conversations = Conversation.objects.filter(origin="demo")
    return conversations, conversations.filter(accepted_at__isnull=False)


def shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    return {key: count / len(values) for key, count in counts.items()}


@pytest.mark.django_db
class TestTheDefaultYearMatchesThePublishedFigures:
    def test_it_runs_well_under_a_minute(self, full_year) -> None:
        assert full_year < 30

    def test_volume_and_audience(self, full_year) -> None:
        conversations, held = demo()
        assert held.count() == 7_626
        assert held.filter(audience="pupil").count() == 6_169
        assert held.filter(audience="parent").count() == 1_457
        missed = conversations.filter(accepted_at__isnull=True)
        assert 0.05 <= missed.count() / conversations.count() <= 0.10
        assert set(missed.values_list("end_reason", flat=True)) == {"missed", "closed"}

    def test_every_chat_falls_on_an_opening_day_inside_the_opening_hours(self, full_year) -> None:
        periods = opening_periods(start=SCHOOL_YEAR[0], end=SCHOOL_YEAR[1])
        starts = [opens for opens, _closes in periods]

        def inside(moment: datetime) -> bool:
            index = bisect.bisect_right(starts, moment) - 1
            return index >= 0 and periods[index][0] <= moment < periods[index][1]

        conversations, held = demo()
        for queued_at, accepted_at in conversations.values_list("queued_at", "accepted_at"):
            assert inside(queued_at), queued_at
            assert accepted_at is None or inside(accepted_at), accepted_at
        days = {q.astimezone(BRUSSELS).date() for q in held.values_list("queued_at", flat=True)}
        assert 40 <= held.count() / len(days) <= 45  # 42.6 chats per opening day
        # Closed from 15 July to 15 August and between Christmas and New Year.
        assert not [d for d in days if date(2025, 7, 15) <= d <= date(2025, 8, 15)]
        assert not [d for d in days if date(2024, 12, 25) <= d <= date(2024, 12, 31)]

    def test_more_chats_in_autumn_and_winter_than_in_summer(self, full_year) -> None:
        _conversations, held = demo()
        months = Counter(q.month for q in held.values_list("queued_at", flat=True))
        assert min(months[10], months[1], months[2]) > 2 * max(months[7], months[8])

    def test_pupils_gender_and_age(self, full_year) -> None:
        _conversations, held = demo()
        pupils = held.filter(audience="pupil")
        gender = shares(list(pupils.exclude(gender="").values_list("gender", flat=True)))
        assert gender["girl"] == pytest.approx(0.7726, abs=0.01)
        assert gender["boy"] == pytest.approx(0.2068, abs=0.01)
        assert gender["x"] == pytest.approx(0.0206, abs=0.005)
        assert pupils.aggregate(age=Avg("age"))["age"] == pytest.approx(14.60, abs=0.1)
        parents = held.filter(audience="parent")
        assert not parents.filter(age__isnull=False).exists()
        assert not parents.exclude(gender="").exists()

    def test_results_per_audience(self, full_year) -> None:
        published = {
            "pupil": {
                "info_advice": 0.4279,
                "support": 0.3411,
                "referral_clb": 0.1508,
                "referral_school": 0.1141,
                "referral_network": 0.0945,
                "referral_onderwijskiezer": 0.0311,
                "broke_off": 0.1739,
            },
            "parent": {
                "info_advice": 0.4335,
                "support": 0.1418,
                "referral_clb": 0.4829,
                "referral_school": 0.1505,
                "referral_network": 0.0495,
                "referral_onderwijskiezer": 0.0633,
                "broke_off": 0.0975,
            },
        }
        for audience, expected in published.items():
            registrations = Registration.objects.filter(
                conversation__origin="demo", conversation__audience=audience
            )
            total = registrations.count()
            counts = dict(
                registrations.values_list("results__code").annotate(n=Count("pk")).order_by()
            )
            for code, share in expected.items():
                assert counts[code] / total == pytest.approx(share, abs=0.02), (audience, code)

    def test_prank_mobile_and_sources(self, full_year) -> None:
        _conversations, held = demo()
        n = held.count()
        pranks = Registration.objects.filter(conversation__origin="demo", prank_suspected=True)
        assert pranks.count() / n == pytest.approx(0.0530, abs=0.005)
        assert held.filter(device_class="mobile").count() / n == pytest.approx(0.43, abs=0.01)
        sources = Counter(held.values_list("referral_source", flat=True))
        published = {"smartschool": 1932, "earlier_visit": 1606, "internet": 1083}
        published |= {"clb_website": 544, "awel": 516, "school_website": 412}
        for source, count in published.items():
            assert sources[source] == pytest.approx(count, rel=0.03), source
        assert sources.most_common(1)[0][0] == "smartschool"
        assert 0.05 < sources[""] / n < 0.35  # some leave the question unanswered

    def test_waits_durations_and_ratings(self, full_year) -> None:
        _conversations, held = demo()
        times = list(held.values_list("queued_at", "accepted_at", "ended_at"))
        waits = [(a - q).total_seconds() / 60 for q, a, _e in times]
        lengths = [(e - a).total_seconds() / 60 for _q, a, e in times]
        assert statistics.mean(waits) == pytest.approx(4, rel=0.15)
        assert statistics.mean(lengths) == pytest.approx(20, rel=0.15)
        assert sum(length > 50 for length in lengths) / len(lengths) == pytest.approx(
            0.08, abs=0.02
        )
        for audience, mean in (("pupil", 4.24), ("parent", 4.62)):
            chats = held.filter(audience=audience)
            assert chats.aggregate(r=Avg("rating"))["r"] == pytest.approx(mean, abs=0.1)
            unrated = chats.filter(rating__isnull=True).count() / chats.count()
            assert unrated == pytest.approx(0.5, abs=0.05)

    def test_topics(self, full_year) -> None:
        registrations = Registration.objects.filter(conversation__origin="demo")
        pupils = registrations.filter(conversation__audience="pupil")
        suicide = pupils.filter(topics__name="zelfmoordgedachten").count()
        assert suicide == pytest.approx(355, rel=0.05)
        top = Counter(pupils.values_list("topics__name", flat=True))
        top.pop(None, None)
        assert top.most_common(1)[0][0] == "studiekeuze / schoolloopbaan"
        psf = pupils.filter(topics__domain__code="PSF").distinct().count()
        assert psf > pupils.filter(topics__domain__code="OLB").distinct().count()
        parents = Counter(
            registrations.filter(conversation__audience="parent").values_list(
                "topics__name", flat=True
            )
        )
        parents.pop(None, None)
        assert parents.most_common(1)[0][0] == "studiekeuze / schoolloopbaan"

    def test_registrations_and_end_reasons_fit_together(self, full_year) -> None:
        _conversations, held = demo()
        registrations = Registration.objects.filter(conversation__origin="demo")
        assert registrations.count() == held.count()
        empty = registrations.filter(topics__isnull=True, results__isnull=True)
        assert not empty.exists()
        assert not registrations.exclude(operator=F("conversation__operator")).exists()
        broke_off = registrations.filter(results__code="broke_off")
        reasons = Counter(broke_off.values_list("conversation__end_reason", flat=True))
        assert reasons["broke_off"] / sum(reasons.values()) > 0.75

    def test_operators(self, full_year) -> None:
        accounts = User.objects.filter(username__startswith="demo-")
        assert accounts.count() == 180
        assert not accounts.filter(is_active=True).exists()
        assert not [u for u in accounts if u.has_usable_password()]
        disciplines = Counter(accounts.values_list("discipline", flat=True))
        assert disciplines == {
            "psycho_pedagogue": 86,
            "social_worker": 60,
            "nurse": 32,
            "doctor": 2,
        }
        _conversations, held = demo()
        per_operator = Counter(held.values_list("operator__username", flat=True))
        assert None not in per_operator
        assert len(per_operator) >= 170
        assert held.count() / 180 == pytest.approx(42, abs=1)

    def test_events_like_a_live_chat(self, full_year) -> None:
        conversations, held = demo()
        kinds = Counter(
            ConversationEvent.objects.filter(conversation__origin="demo").values_list(
                "kind", flat=True
            )
        )
        assert kinds["queued"] == kinds["ended"] == conversations.count()
        assert kinds["accepted"] == kinds["registered"] == held.count()
        assert kinds["rated"] == held.filter(rating__isnull=False).count()

    def test_a_year_holding_demo_data_is_refused(self, full_year) -> None:
        run = run_command("demo", year="2024-2025", seed=8)
        assert not run.ok
        assert "holds demo conversations already" in run.error
