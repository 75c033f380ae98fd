"""The conversation state machine: queued → active → ended, and the sweeper."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

import pytest
from django.db import close_old_connections

from onthaal.chat import services
from onthaal.chat.models import Conversation, ConversationEvent, EndReason, Status
from onthaal.errors import Conflict, InvalidInput
from onthaal.staff.models import Availability, User

pytestmark = pytest.mark.django_db

FRIDAY_18H = datetime.fromisoformat("2026-10-09T18:00:00+02:00")  # closed on Fridays


def event_kinds(conversation: Conversation) -> list[str]:
    return list(conversation.events.order_by("pk").values_list("kind", flat=True))


# --- open --------------------------------------------------------------------


def test_open_puts_the_visitor_in_the_queue_with_a_queued_event(
    make_conversation, school_tuesday_evening
) -> None:
    conversation, token = make_conversation(now=school_tuesday_evening)

    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED
    assert conversation.end_reason == ""
    assert conversation.queued_at == school_tuesday_evening
    assert conversation.visitor_seen_at == school_tuesday_evening
    assert conversation.operator is None
    # Only the hash of the token is stored.
    assert conversation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    events = list(conversation.events.values_list("kind", "at", "actor"))
    assert events == [("queued", school_tuesday_evening, None)]


def test_open_is_refused_when_the_chat_is_closed(make_conversation, school_tuesday_evening) -> None:
    with pytest.raises(Conflict) as caught:
        make_conversation(now=FRIDAY_18H)
    assert caught.value.code == "chat_closed"
    assert Conversation.objects.count() == 0


def test_two_tokens_differ(make_conversation, chat_open) -> None:
    _first, token_a = make_conversation()
    _second, token_b = make_conversation()
    assert token_a != token_b


# --- accept ------------------------------------------------------------------


def test_accept_takes_the_longest_waiting_first(
    make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    later, _ = make_conversation(now=t + timedelta(minutes=2))
    earlier, _ = make_conversation(now=t)  # created second, but queued earlier

    taken = services.conversation_accept(conversation_id=None, operator=operator, now=t)

    assert taken.pk == earlier.pk
    assert taken.status == Status.ACTIVE
    assert taken.operator_id == operator.pk
    assert taken.accepted_at == t
    later.refresh_from_db()
    assert later.status == Status.QUEUED


def test_accept_breaks_a_tie_in_queued_at_by_id(
    make_conversation, operator, school_tuesday_evening
) -> None:
    first, _ = make_conversation(now=school_tuesday_evening)
    make_conversation(now=school_tuesday_evening)

    taken = services.conversation_accept(conversation_id=None, operator=operator)

    assert taken.pk == first.pk


def test_accept_a_named_conversation(make_conversation, operator, chat_open) -> None:
    make_conversation()
    second, _ = make_conversation()

    taken = services.conversation_accept(conversation_id=second.pk, operator=operator)

    assert taken.pk == second.pk
    assert event_kinds(taken) == ["queued", "accepted"]
    accepted = taken.events.get(kind="accepted")
    assert accepted.actor == operator


def test_accept_of_a_conversation_not_in_the_queue_is_a_conflict(
    make_ended_conversation, operator, other_operator, chat_open
) -> None:
    ended, _ = make_ended_conversation(other_operator)
    for conversation_id in (ended.pk, ended.pk + 1000):
        with pytest.raises(Conflict) as caught:
            services.conversation_accept(conversation_id=conversation_id, operator=operator)
        assert caught.value.code == "not_in_queue"


def test_accept_from_an_empty_queue(operator) -> None:
    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=None, operator=operator)
    assert caught.value.code == "queue_empty"


def test_the_second_operator_on_the_same_conversation_loses(
    make_conversation, operator, other_operator, chat_open
) -> None:
    conversation, _ = make_conversation()

    services.conversation_accept(conversation_id=conversation.pk, operator=operator)
    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=conversation.pk, operator=other_operator)

    assert caught.value.code == "not_in_queue"
    conversation.refresh_from_db()
    assert conversation.operator_id == operator.pk
    assert event_kinds(conversation) == ["queued", "accepted"]


@pytest.mark.django_db(transaction=True)
def test_two_operators_racing_on_one_conversation_only_one_wins(
    make_conversation, staff_factory, chat_open
) -> None:
    racers = [staff_factory(), staff_factory(), staff_factory(), staff_factory()]
    conversation, _ = make_conversation()
    barrier = threading.Barrier(len(racers))
    outcomes: dict[int, str] = {}

    def take(racer: User) -> None:
        barrier.wait()
        try:
            services.conversation_accept(conversation_id=conversation.pk, operator=racer)
            outcomes[racer.pk] = "won"
        except Conflict as exc:
            outcomes[racer.pk] = exc.code
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["not_in_queue", "not_in_queue", "not_in_queue", "won"]
    winner = next(pk for pk, outcome in outcomes.items() if outcome == "won")
    conversation.refresh_from_db()
    assert conversation.operator_id == winner
    assert ConversationEvent.objects.filter(conversation=conversation, kind="accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_tabs_of_one_operator_cannot_overshoot_the_capacity(
    make_conversation, operator, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    for _ in range(4):
        make_conversation()
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def take() -> None:
        barrier.wait()
        try:
            services.conversation_accept(conversation_id=None, operator=operator)
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["operator_at_capacity"] * 3 + ["won"]
    assert Conversation.objects.filter(operator=operator, status=Status.ACTIVE).count() == 1


def test_a_third_chat_is_refused_at_capacity(
    make_conversation, operator, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    first, _ = make_conversation()
    make_conversation()
    third, _ = make_conversation()
    services.conversation_accept(conversation_id=None, operator=operator)
    services.conversation_accept(conversation_id=None, operator=operator)

    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=None, operator=operator)

    assert caught.value.code == "operator_at_capacity"
    third.refresh_from_db()
    assert third.status == Status.QUEUED

    # Ending one frees the slot.
    services.conversation_end(conversation=first, reason=EndReason.OPERATOR_ENDED, actor=operator)
    assert services.conversation_accept(conversation_id=None, operator=operator).pk == third.pk


def test_capacity_follows_the_setting(make_conversation, operator, chat_open, settings) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    make_conversation()
    make_conversation()
    services.conversation_accept(conversation_id=None, operator=operator)
    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=None, operator=operator)
    assert caught.value.code == "operator_at_capacity"


@pytest.mark.parametrize("availability", [Availability.PAUSED, Availability.OFFLINE])
def test_an_operator_who_is_not_available_cannot_accept(
    make_conversation, staff_factory, chat_open, availability
) -> None:
    conversation, _ = make_conversation()
    paused = staff_factory(availability=availability)

    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=conversation.pk, operator=paused)

    assert caught.value.code == "operator_not_available"
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED


def test_an_operator_without_pseudonym_cannot_accept(
    make_conversation, staff_factory, chat_open
) -> None:
    conversation, _ = make_conversation()
    nameless = staff_factory(pseudonym="")

    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=conversation.pk, operator=nameless)

    assert caught.value.code == "pseudonym_required"
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED


# --- end ---------------------------------------------------------------------


def test_a_visitor_who_stops_waiting_is_a_missed_chat(
    make_conversation, school_tuesday_evening
) -> None:
    conversation, _ = make_conversation(now=school_tuesday_evening)
    at = school_tuesday_evening + timedelta(minutes=3)

    ended = services.conversation_end(
        conversation=conversation, reason=EndReason.VISITOR_ENDED, now=at
    )

    assert (ended.status, ended.end_reason, ended.ended_at) == (Status.ENDED, "missed", at)
    # How long they waited is kept with the event (issue 6: missed chats).
    assert ended.events.get(kind="ended").data == {"reason": "missed", "waited_seconds": 180}


def test_the_operator_ends_an_active_chat(
    make_active_conversation, operator, school_tuesday_evening
) -> None:
    conversation, _ = make_active_conversation(operator, now=school_tuesday_evening)
    at = school_tuesday_evening + timedelta(minutes=20)

    ended = services.conversation_end(
        conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator, now=at
    )

    assert (ended.status, ended.end_reason, ended.ended_at) == (
        Status.ENDED,
        "operator_ended",
        at,
    )
    event = ended.events.get(kind="ended")
    assert (event.actor, event.at, event.data) == (operator, at, {"reason": "operator_ended"})


def test_ending_twice_is_a_no_op(
    make_active_conversation, operator, school_tuesday_evening
) -> None:
    conversation, _ = make_active_conversation(operator, now=school_tuesday_evening)
    first_end = school_tuesday_evening + timedelta(minutes=5)
    services.conversation_end(
        conversation=conversation, reason=EndReason.VISITOR_ENDED, now=first_end
    )

    again = services.conversation_end(
        conversation=conversation,
        reason=EndReason.OPERATOR_ENDED,
        actor=operator,
        now=first_end + timedelta(minutes=1),
    )

    assert (again.end_reason, again.ended_at) == ("visitor_ended", first_end)
    assert event_kinds(again) == ["queued", "accepted", "ended"]


@pytest.mark.parametrize("reason", [EndReason.MISSED, EndReason.CLOSED])
def test_an_active_chat_cannot_end_as_missed_or_closed(
    make_active_conversation, operator, chat_open, reason
) -> None:
    conversation, _ = make_active_conversation(operator)

    with pytest.raises(Conflict) as caught:
        services.conversation_end(conversation=conversation, reason=reason)

    assert caught.value.code == "invalid_transition"
    conversation.refresh_from_db()
    assert conversation.status == Status.ACTIVE
    assert event_kinds(conversation) == ["queued", "accepted"]


def test_each_transition_appends_an_event(
    make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    conversation, _ = make_conversation(now=t)
    services.conversation_accept(
        conversation_id=conversation.pk, operator=operator, now=t + timedelta(minutes=4)
    )
    services.conversation_end(
        conversation=conversation, reason=EndReason.VISITOR_ENDED, now=t + timedelta(minutes=24)
    )
    services.conversation_rate(conversation=conversation, rating=5, now=t + timedelta(minutes=25))

    rows = list(conversation.events.order_by("pk").values_list("kind", "at", "actor", "data"))
    assert rows == [
        ("queued", t, None, {}),
        ("accepted", t + timedelta(minutes=4), operator.pk, {}),
        ("ended", t + timedelta(minutes=24), None, {"reason": "visitor_ended"}),
        ("rated", t + timedelta(minutes=25), None, {"rating": 5}),
    ]


# --- the sweeper ---------------------------------------------------------------


def test_sweep_ends_chats_whose_visitor_is_gone(
    make_conversation, make_active_conversation, operator, school_tuesday_evening, settings
) -> None:
    settings.ONTHAAL_RECONNECT_GRACE_SECONDS = 60
    t = school_tuesday_evening
    active, _ = make_active_conversation(operator, now=t)
    queued, _ = make_conversation(now=t)
    still_here, _ = make_conversation(now=t)
    services.conversation_visitor_seen(conversation_id=still_here.pk, now=t + timedelta(seconds=30))
    sweep_at = t + timedelta(seconds=61)

    assert services.conversations_sweep(now=sweep_at) == 2

    active.refresh_from_db()
    queued.refresh_from_db()
    still_here.refresh_from_db()
    assert (active.status, active.end_reason, active.ended_at) == ("ended", "broke_off", sweep_at)
    assert (queued.status, queued.end_reason) == ("ended", "missed")
    assert (still_here.status, still_here.end_reason) == ("queued", "")
    # Nothing left to do: a second sweep ends nothing.
    assert services.conversations_sweep(now=sweep_at) == 0


def test_sweep_leaves_a_visitor_seen_within_the_grace(
    make_active_conversation, operator, school_tuesday_evening, settings
) -> None:
    settings.ONTHAAL_RECONNECT_GRACE_SECONDS = 60
    active, _ = make_active_conversation(operator, now=school_tuesday_evening)

    assert services.conversations_sweep(now=school_tuesday_evening + timedelta(seconds=60)) == 0

    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_sweep_at_closing_time_closes_the_queue_but_not_active_chats(
    make_conversation, make_active_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening  # 18:00; closes at 21:00
    queued, _ = make_conversation(now=t)
    active, _ = make_active_conversation(operator, now=t)
    just_before_closing = t + timedelta(hours=2, minutes=59, seconds=30)
    for conversation in (queued, active):
        services.conversation_visitor_seen(conversation_id=conversation.pk, now=just_before_closing)

    assert services.conversations_sweep(now=t + timedelta(hours=2, minutes=59)) == 0
    assert services.conversations_sweep(now=t + timedelta(hours=3)) == 1

    queued.refresh_from_db()
    active.refresh_from_db()
    assert (queued.status, queued.end_reason) == ("ended", "closed")
    assert active.status == Status.ACTIVE


# --- rating ------------------------------------------------------------------


def test_a_rating_is_stored_once(make_ended_conversation, operator, chat_open) -> None:
    conversation, _ = make_ended_conversation(operator)

    rated = services.conversation_rate(conversation=conversation, rating=4, comment="  Dank je!  ")
    assert (rated.rating, rated.rating_comment) == (4, "Dank je!")

    with pytest.raises(Conflict) as caught:
        services.conversation_rate(conversation=conversation, rating=1)
    assert caught.value.code == "already_rated"
    conversation.refresh_from_db()
    assert conversation.rating == 4
    assert conversation.events.filter(kind="rated").count() == 1


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.5, None])
def test_a_rating_is_one_to_five_stars(
    make_ended_conversation, operator, chat_open, rating
) -> None:
    conversation, _ = make_ended_conversation(operator)

    with pytest.raises(InvalidInput) as caught:
        services.conversation_rate(conversation=conversation, rating=rating)

    assert caught.value.code == "invalid_rating"
    conversation.refresh_from_db()
    assert conversation.rating is None


@pytest.mark.parametrize("rating", [1, 5])
def test_the_bounds_of_a_rating_are_accepted(
    make_ended_conversation, operator, chat_open, rating
) -> None:
    conversation, _ = make_ended_conversation(operator)
    assert services.conversation_rate(conversation=conversation, rating=rating).rating == rating


def test_only_an_accepted_ended_chat_can_be_rated(
    make_conversation, make_active_conversation, operator, chat_open
) -> None:
    queued, _ = make_conversation()
    active, _ = make_active_conversation(operator)
    missed, _ = make_conversation()
    services.conversation_end(conversation=missed, reason=EndReason.VISITOR_ENDED)

    for conversation in (queued, active, missed):
        with pytest.raises(Conflict) as caught:
            services.conversation_rate(conversation=conversation, rating=5)
        assert caught.value.code == "not_ratable"
    assert not ConversationEvent.objects.filter(kind="rated").exists()


def test_an_operator_s_own_maximum_overrides_the_service_default(
    make_conversation, operator, other_operator, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    operator.max_chats = 1
    operator.save(update_fields=["max_chats"])
    for _ in range(3):
        make_conversation()
    services.conversation_accept(conversation_id=None, operator=operator)
    with pytest.raises(Conflict) as caught:
        services.conversation_accept(conversation_id=None, operator=operator)
    assert caught.value.code == "operator_at_capacity"
    # A colleague without a maximum of their own keeps the default.
    assert other_operator.chat_limit == 2
    services.conversation_accept(conversation_id=None, operator=other_operator)
    services.conversation_accept(conversation_id=None, operator=other_operator)
