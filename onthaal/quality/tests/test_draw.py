"""Drawing a chat scan: per-operator counts, a reproducible sample, and only
finished chats of others with their transcript still there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import make_staff
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, EndReason, Message, Origin
from onthaal.quality.models import ChatScan, ScanReview
from onthaal.quality.tests.helpers import at_noon, chat_day, draw
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


def drawn(response: Any) -> dict[int, list[int]]:
    """operator id → drawn conversation ids, from a draw's response."""
    assert response.status_code == 201, response.content
    result: dict[int, list[int]] = {}
    for review in response.json()["reviews"]:
        result.setdefault(review["operator"]["id"], []).append(review["conversation_id"])
    return {k: sorted(v) for k, v in result.items()}


@pytest.fixture
def team(finished_chat: Any) -> dict[User, list[int]]:
    """Three operators with 6, 1 and 3 finished chats on the same day."""
    chats: dict[User, list[int]] = {}
    for name, count in [("An", 6), ("Bo", 1), ("Cas", 3)]:
        user = make_staff(username=name.lower(), pseudonym=name)
        chats[user] = [finished_chat(user).pk for _ in range(count)]
    return chats


def test_draws_the_asked_number_per_operator_or_all_they_have(
    team: dict[User, list[int]], coordinator_client: Client
) -> None:
    response = draw(coordinator_client, per_operator=2)

    sample = drawn(response)
    assert {user.pk: len(sample[user.pk]) for user in team} == {
        user.pk: min(2, len(chats)) for user, chats in team.items()
    }
    for user, chats in team.items():
        assert set(sample[user.pk]) <= set(chats)
    body = response.json()
    assert body["per_operator"] == 2
    assert isinstance(body["seed"], int)
    assert all(r["status"] == "open" and r["has_transcript"] for r in body["reviews"])
    listed = coordinator_client.get("/api/v1/quality/scans").json()["scans"]
    assert [(s["id"], s["review_count"], s["open_count"]) for s in listed] == [(body["id"], 5, 5)]


def test_the_same_seed_and_data_give_the_same_sample(
    team: dict[User, list[int]], coordinator_client: Client
) -> None:
    first = drawn(draw(coordinator_client, seed=20260901))
    # Undo the draw (a chat is drawn only once), then draw again.
    ChatScan.objects.all().delete()
    again = drawn(draw(coordinator_client, seed=20260901))
    assert again == first

    # An operator's pick does not depend on who else is in the draw.
    an = next(u for u in team if u.pseudonym == "An")
    ChatScan.objects.all().delete()
    only_an = drawn(draw(coordinator_client, seed=20260901, operator_ids=[an.pk]))
    assert only_an == {an.pk: first[an.pk]}

    # Other seeds pick other chats (15 ways to pick 2 of An's 6).
    picks = set()
    for seed in range(1, 11):
        ChatScan.objects.all().delete()
        picks.add(tuple(drawn(draw(coordinator_client, seed=seed))[an.pk]))
    assert len(picks) > 1


def test_limited_to_some_operators(team: dict[User, list[int]], coordinator_client: Client) -> None:
    bo, cas = (next(u for u in team if u.pseudonym == n) for n in ("Bo", "Cas"))
    sample = drawn(draw(coordinator_client, operator_ids=[bo.pk, cas.pk], per_operator=3))
    assert sample == {bo.pk: team[bo], cas.pk: sorted(team[cas])}


def test_never_the_reviewers_own_chats(
    finished_chat: Any, coordinator: User, operator: User, coordinator_client: Client
) -> None:
    own = [finished_chat(coordinator).pk for _ in range(3)]
    theirs = finished_chat(operator).pk

    sample = drawn(draw(coordinator_client, per_operator=5))
    assert sample == {operator.pk: [theirs]}

    # Not even when the coordinator names themselves.
    ChatScan.objects.all().delete()
    response = draw(coordinator_client, operator_ids=[coordinator.pk])
    assert response.status_code == 409
    assert response.json()["code"] == "no_chats"
    assert not ScanReview.objects.filter(conversation_id__in=own).exists()


def test_only_finished_accepted_chats_in_the_period_with_their_transcript(
    finished_chat: Any,
    make_conversation: Any,
    make_active_conversation: Any,
    operator: User,
    other_operator: User,
    coordinator_client: Client,
) -> None:
    good = finished_chat(operator)
    finished_chat(operator, messages=False)  # nothing to read
    purged = finished_chat(operator)
    Message.objects.filter(conversation=purged).delete()  # retention took it
    finished_chat(operator, ended_at=at_noon(chat_day(40)))  # outside the period
    imported = finished_chat(operator)
    Conversation.objects.filter(pk=imported.pk).update(origin=Origin.DEMO)
    make_conversation()  # still queued
    make_active_conversation(other_operator)  # still going
    missed, _ = make_conversation()
    chat_services.conversation_end(conversation=missed, reason=EndReason.MISSED)

    period = {"period_start": chat_day(10).isoformat(), "period_end": chat_day(0).isoformat()}
    sample = drawn(draw(coordinator_client, per_operator=10, **period))
    assert sample == {operator.pk: [good.pk]}

    # A chat is drawn once: the next draw finds nothing left.
    again = draw(coordinator_client, per_operator=10, **period)
    assert again.status_code == 409
    assert again.json()["code"] == "no_chats"


def test_the_period_counts_whole_days_in_brussels(
    finished_chat: Any, operator: User, coordinator_client: Client
) -> None:
    day = chat_day()
    first_minute = finished_chat(operator, ended_at=at_noon(day) - timedelta(hours=12))
    last_minute = finished_chat(operator, ended_at=at_noon(day) + timedelta(hours=11, minutes=59))
    finished_chat(operator, ended_at=at_noon(day) + timedelta(hours=12))  # the next day
    sample = drawn(draw(coordinator_client, per_operator=5))
    assert sample == {operator.pk: sorted([first_minute.pk, last_minute.pk])}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"period_start": "2026-05-31", "period_end": "2026-05-01"}, "invalid_period"),
        ({"period_start": "2024-01-01", "period_end": "2026-01-01"}, "invalid_period"),
        ({"per_operator": 0}, "invalid_count"),
        ({"per_operator": 11}, "invalid_count"),
        ({"seed": -1}, "invalid_seed"),
        ({"seed": 2**53}, "invalid_seed"),
        ({"operator_ids": [999999]}, "unknown_operator"),
        ({"period_start": "mei"}, "invalid"),
    ],
)
def test_invalid_draws_are_refused(
    coordinator_client: Client, payload: dict[str, Any], code: str
) -> None:
    response = draw(coordinator_client, **payload)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not ChatScan.objects.exists()


def test_an_analyst_is_no_operator_to_draw_for(coordinator_client: Client, analyst: User) -> None:
    response = draw(coordinator_client, operator_ids=[analyst.pk])
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_operator"


def test_draw_through_the_page(
    finished_chat: Any, operator: User, coordinator_client: Client
) -> None:
    chat = finished_chat(operator)
    page = coordinator_client.get("/kwaliteit/")
    assert page.status_code == 200
    assert "Nieuwe trekking" in page.text

    day = chat_day().isoformat()
    response = coordinator_client.post(
        "/kwaliteit/",
        {"period_start": day, "period_end": day, "per_operator": 2, "seed": 7},
    )
    scan = ChatScan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/kwaliteit/chatscans/{scan.pk}/"
    assert scan.seed == 7
    detail = coordinator_client.get(response["Location"])
    assert f"Gesprek {chat.pk}" in detail.text
    assert "Lotte" in detail.text
    assert "Chatscan getrokken." in detail.text

    # Nothing left to draw: the form says why, and nothing is stored.
    again = coordinator_client.post(
        "/kwaliteit/", {"period_start": day, "period_end": day, "per_operator": 2}
    )
    assert again.status_code == 200
    assert "geen afgeronde chats" in again.text
    assert ChatScan.objects.count() == 1
