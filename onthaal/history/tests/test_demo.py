"""``onthaal demo --year 2024-2025``: determinism by seed, and ``--remove``,
which takes away exactly the demo rows. (The calibration is tested at full
scale in test_demo_calibration.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onthaal.chat.models import Conversation, ConversationEvent
from onthaal.history.management.commands.demo import school_year_parse
from onthaal.history.services import demo_year_generate
from onthaal.history.tests.conftest import run_command
from onthaal.registration.models import Registration, Result
from onthaal.registration.services import registration_save
from onthaal.staff.models import User

BRUSSELS = ZoneInfo("Europe/Brussels")


def fingerprint() -> list[tuple]:
    return list(
        Conversation.objects.filter(origin="demo")
        .order_by("queued_at", "end_reason", "audience", "age", "gender", "referral_source", "pk")
        .values_list(
            "queued_at",
            "accepted_at",
            "ended_at",
            "end_reason",
            "audience",
            "age",
            "gender",
            "referral_source",
            "device_class",
            "rating",
            "operator__username",
            "registration__prank_suspected",
        )
    ) + sorted(
        Registration.objects.filter(conversation__origin="demo").values_list(
            "conversation__queued_at", "topics__name", "results__code"
        ),
        key=str,
    )


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_year() -> None:
    assert run_command("demo", year="2023-2024", seed=3, scale=0.05).ok
    first = fingerprint()
    assert len(first) > 300
    assert run_command("demo", remove=True).ok

    assert run_command("demo", year="2023-2024", seed=3, scale=0.05).ok
    assert fingerprint() == first
    assert run_command("demo", remove=True).ok

    assert run_command("demo", year="2023-2024", seed=4, scale=0.05).ok
    assert fingerprint() != first


@pytest.mark.django_db
def test_remove_takes_away_exactly_the_demo_rows(
    chat_open, make_ended_conversation, operator, write_file
) -> None:
    live, _token = make_ended_conversation(operator)
    registration_save(
        conversation=live,
        operator=operator,
        topic_ids=[],
        result_ids=[Result.objects.get(code="support").pk],
        prank_suspected=False,
    )
    csv = write_file(
        "old.csv",
        "external_id,queued_at,accepted_at,operator,results\n"
        "sit-1,2023-10-03T18:00:00+02:00,2023-10-03T18:02:00+02:00,lotte,support\n",
    )
    assert run_command("import", str(csv), quiet=True).ok
    # A real account that happens to start with demo-: it can sign in, so it stays.
    real = User.objects.create_user(username="demo-lead", password="a-real-password-12")
    kept = {
        "conversations": set(Conversation.objects.values_list("pk", flat=True)),
        "registrations": set(Registration.objects.values_list("pk", flat=True)),
        "events": set(ConversationEvent.objects.values_list("pk", flat=True)),
        "users": set(User.objects.values_list("pk", flat=True)),
    }

    generated = run_command("demo", year="2023-2024", scale=0.05)
    assert generated.ok, generated.error
    assert Conversation.objects.filter(origin="demo").count() > 300

    removed = run_command("demo", remove=True)

    assert removed.ok
    assert "demo conversations" in removed.out
    assert "180 demo accounts" in removed.out
    assert set(Conversation.objects.values_list("pk", flat=True)) == kept["conversations"]
    assert set(Registration.objects.values_list("pk", flat=True)) == kept["registrations"]
    assert set(ConversationEvent.objects.values_list("pk", flat=True)) == kept["events"]
    assert set(User.objects.values_list("pk", flat=True)) == kept["users"]
    assert User.objects.filter(pk=real.pk).exists()


@pytest.mark.django_db
def test_a_taken_demo_username_is_refused() -> None:
    User.objects.create_user(username="demo-007", password="a-real-password-12")

    run = run_command("demo", year="2023-2024", scale=0.05)

    assert not run.ok
    assert "demo-007" in run.error
    assert not Conversation.objects.filter(origin="demo").exists()


@pytest.mark.django_db
def test_a_running_year_stops_today() -> None:
    now = datetime(2024, 1, 15, 12, tzinfo=BRUSSELS)
    result = demo_year_generate(school_year=2023, scale=0.1, now=now)

    last = Conversation.objects.filter(origin="demo").order_by("-queued_at").first()
    assert result.conversations > 0
    assert last.queued_at < now
    assert last.queued_at > now - timedelta(days=30)


@pytest.mark.parametrize(
    ("text", "year"), [("2024-2025", 2024), ("2024-25", 2024), ("2024", 2024), ("2019/2020", 2019)]
)
def test_school_year_forms(text, year) -> None:
    assert school_year_parse(text) == year


@pytest.mark.parametrize("text", ["2024-2026", "24-25", "next year"])
def test_bad_school_years(text) -> None:
    with pytest.raises(ValueError, match="school year"):
        school_year_parse(text)


@pytest.mark.django_db
def test_demo_needs_a_year_or_remove() -> None:
    run = run_command("demo")
    assert not run.ok
    assert "--year" in run.error
