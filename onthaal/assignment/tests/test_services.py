"""Automatic assignment: who gets an offer, time-outs, answers, and races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections

from onthaal.assignment import services
from onthaal.assignment.models import Offer, Outcome
from onthaal.chat import selectors as chat_selectors
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, ConversationEvent, EndReason, Status
from onthaal.errors import Conflict, NotFound
from onthaal.staff.models import Availability, Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto(settings):
    settings.ONTHAAL_ASSIGNMENT = "auto"
    settings.ONTHAAL_OFFER_TIMEOUT_SECONDS = 30
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    return settings


def open_offers() -> list[tuple[int, int]]:
    """(conversation id, operator id) of every open offer."""
    return list(
        Offer.objects.filter(outcome=Outcome.OPEN)
        .order_by("pk")
        .values_list("conversation_id", "operator_id")
    )


def set_availability(user: User, availability: str) -> None:
    user.availability = availability
    user.save(update_fields=["availability"])


# --- mode -----------------------------------------------------------------------


def test_manual_mode_makes_no_offers(make_conversation, operator, school_tuesday_evening) -> None:
    make_conversation(now=school_tuesday_evening)

    assert services.offers_assign(now=school_tuesday_evening) == 0
    assert not Offer.objects.exists()


# --- who gets the offer -----------------------------------------------------------


def test_the_least_loaded_operator_gets_the_offer(
    auto, make_conversation, make_active_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    busy, free = staff_factory(), staff_factory()
    make_active_conversation(busy, now=t)
    waiting, _ = make_conversation(now=t)

    assert services.offers_assign(now=t) == 1

    offer = Offer.objects.get()
    assert (offer.conversation_id, offer.operator_id) == (waiting.pk, free.pk)
    assert (offer.offered_at, offer.expires_at) == (t, t + timedelta(seconds=30))
    # The visitor is still in the queue, in their place, while the offer is open.
    waiting.refresh_from_db()
    assert (waiting.status, waiting.queued_at) == (Status.QUEUED, t)


def test_an_open_offer_counts_as_load(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    first_op, second_op = staff_factory(), staff_factory()
    first, _ = make_conversation(now=t)
    second, _ = make_conversation(now=t + timedelta(seconds=1))

    assert services.offers_assign(now=t + timedelta(seconds=2)) == 2

    # Oldest visitor first; each operator one offer, not both to the first.
    assert open_offers() == [(first.pk, first_op.pk), (second.pk, second_op.pk)]


def test_a_tie_goes_to_whoever_has_been_idle_longest(
    auto, make_conversation, make_ended_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    recent, idle_longer = staff_factory(), staff_factory()
    make_ended_conversation(recent, now=t - timedelta(minutes=5))
    make_ended_conversation(idle_longer, now=t - timedelta(minutes=60))
    waiting, _ = make_conversation(now=t)

    services.offers_assign(now=t)

    assert open_offers() == [(waiting.pk, idle_longer.pk)]

    # Someone who has not chatted at all today counts as idle longest.
    newcomer = staff_factory()
    other, _ = make_conversation(now=t)
    Offer.objects.all().delete()
    services.offers_assign(now=t)
    assert open_offers()[0] == (waiting.pk, newcomer.pk)
    assert open_offers()[1][0] == other.pk


def test_offers_respect_the_maximum_per_operator(
    auto, make_conversation, make_active_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    auto.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    make_active_conversation(operator, now=t)
    first, _ = make_conversation(now=t)
    make_conversation(now=t)

    assert services.offers_assign(now=t) == 1
    assert open_offers() == [(first.pk, operator.pk)]
    # Full (one chat + one offer): later rounds add nothing.
    assert services.offers_assign(now=t + timedelta(seconds=5)) == 0


def test_only_operators_who_can_take_a_chat_get_offers(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    staff_factory(availability=Availability.PAUSED)
    staff_factory(availability=Availability.OFFLINE)
    staff_factory(role=Role.ANALYST)
    staff_factory(pseudonym="")
    gone = staff_factory()
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    make_conversation(now=t)

    assert services.offers_assign(now=t) == 0

    coordinator = staff_factory(role=Role.COORDINATOR)
    assert services.offers_assign(now=t) == 1
    assert open_offers()[0][1] == coordinator.pk


def test_an_offered_chat_is_not_offered_twice(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    staff_factory(), staff_factory()
    conversation, _ = make_conversation(now=t)

    services.offers_assign(now=t)
    services.offers_assign(now=t + timedelta(seconds=1))

    assert Offer.objects.filter(conversation=conversation).count() == 1


def test_the_database_refuses_a_second_open_offer(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    from django.db import IntegrityError, transaction

    t = school_tuesday_evening
    one, two = staff_factory(), staff_factory()
    conversation, _ = make_conversation(now=t)
    Offer.objects.create(conversation=conversation, operator=one, offered_at=t, expires_at=t)

    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.create(conversation=conversation, operator=two, offered_at=t, expires_at=t)


# --- time-out ---------------------------------------------------------------------


def test_an_unanswered_offer_expires_and_goes_to_someone_else(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    first_op, second_op = staff_factory(), staff_factory()
    ahead, _ = make_conversation(now=t - timedelta(minutes=1))
    behind, _ = make_conversation(now=t)
    auto.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    services.offers_assign(now=t)
    assert open_offers() == [(ahead.pk, first_op.pk), (behind.pk, second_op.pk)]

    # Just before the time-out nothing changes.
    assert services.offers_assign(now=t + timedelta(seconds=29)) == 0
    services.offers_assign(now=t + timedelta(seconds=30))

    expired = Offer.objects.filter(outcome=Outcome.EXPIRED).order_by("pk")
    assert [o.answered_at for o in expired] == [t + timedelta(seconds=30)] * 2
    # Both are still queued, in their original places ...
    ahead.refresh_from_db()
    assert ahead.status == Status.QUEUED
    assert chat_selectors.queue_position(conversation=ahead) == 1
    assert chat_selectors.queue_position(conversation=behind) == 2
    # ... and each is now offered to the other operator, not the same one again.
    assert open_offers() == [(ahead.pk, second_op.pk), (behind.pk, first_op.pk)]


def test_a_lone_operator_is_asked_again_only_after_another_time_out(
    auto, make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    conversation, _ = make_conversation(now=t)
    services.offers_assign(now=t)

    assert services.offers_assign(now=t + timedelta(seconds=30)) == 0  # expired, not re-offered
    assert services.offers_assign(now=t + timedelta(seconds=59)) == 0
    assert services.offers_assign(now=t + timedelta(seconds=61)) == 1
    assert open_offers() == [(conversation.pk, operator.pk)]


def test_a_younger_visitor_is_not_offered_before_an_older_one(
    auto, make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    make_conversation(now=t)
    services.offers_assign(now=t)
    make_conversation(now=t + timedelta(seconds=10))

    # The older visitor's offer lapsed; the operator is cooling off for it.
    assert services.offers_assign(now=t + timedelta(seconds=30)) == 0
    assert open_offers() == []


# --- answers -------------------------------------------------------------------------


def test_accepting_an_offer_gives_the_chat_to_that_operator(
    auto, make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    conversation, _ = make_conversation(now=t)
    services.offers_assign(now=t)
    offer = Offer.objects.get()

    accepted = services.offer_accept(
        offer_id=offer.pk, operator=operator, now=t + timedelta(seconds=10)
    )

    assert (accepted.pk, accepted.status, accepted.operator_id) == (
        conversation.pk,
        Status.ACTIVE,
        operator.pk,
    )
    offer.refresh_from_db()
    assert (offer.outcome, offer.answered_at) == (Outcome.ACCEPTED, t + timedelta(seconds=10))
    assert list(conversation.events.values_list("kind", flat=True)) == ["queued", "accepted"]


def test_an_expired_offer_cannot_be_accepted(
    auto, make_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    make_conversation(now=t)
    services.offers_assign(now=t)
    offer = Offer.objects.get()

    with pytest.raises(Conflict) as refused:
        services.offer_accept(offer_id=offer.pk, operator=operator, now=t + timedelta(seconds=30))

    assert refused.value.code == "offer_closed"


def test_only_the_operator_offered_can_answer(
    auto, make_conversation, operator, other_operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    make_conversation(now=t)
    set_availability(other_operator, Availability.PAUSED)
    services.offers_assign(now=t)
    offer = Offer.objects.get()
    assert offer.operator_id == operator.pk

    for answer in (services.offer_accept, services.offer_decline):
        with pytest.raises(NotFound):
            answer(offer_id=offer.pk, operator=other_operator, now=t)


def test_declining_returns_the_chat_and_offers_it_to_a_colleague(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    first_op = staff_factory()
    conversation, _ = make_conversation(now=t)
    services.offers_assign(now=t)
    second_op = staff_factory()
    offer = Offer.objects.get()
    assert offer.operator_id == first_op.pk

    services.offer_decline(offer_id=offer.pk, operator=first_op, now=t + timedelta(seconds=3))

    offer.refresh_from_db()
    assert (offer.outcome, offer.answered_at) == (Outcome.DECLINED, t + timedelta(seconds=3))
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED
    services.offers_assign(now=t + timedelta(seconds=4))
    assert open_offers() == [(conversation.pk, second_op.pk)]
    # Declining twice is refused.
    with pytest.raises(Conflict) as refused:
        services.offer_decline(offer_id=offer.pk, operator=first_op, now=t + timedelta(seconds=5))
    assert refused.value.code == "offer_closed"


def test_an_offer_ends_when_the_visitor_leaves_or_the_operator_pauses(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    first_op, second_op = staff_factory(), staff_factory()
    leaving, _ = make_conversation(now=t)
    staying, _ = make_conversation(now=t)
    services.offers_assign(now=t)

    chat_services.conversation_end(
        conversation=leaving, reason=EndReason.VISITOR_ENDED, now=t + timedelta(seconds=5)
    )
    set_availability(second_op, Availability.PAUSED)
    services.offers_expire(now=t + timedelta(seconds=6))

    outcomes = dict(Offer.objects.values_list("conversation_id", "outcome"))
    assert outcomes == {leaving.pk: Outcome.WITHDRAWN, staying.pk: Outcome.WITHDRAWN}
    services.offers_assign(now=t + timedelta(seconds=7))
    assert open_offers() == [(staying.pk, first_op.pk)]


# --- manual taking beside automatic assignment ------------------------------------------


def test_take_next_skips_a_chat_offered_to_a_colleague(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    offered_to = staff_factory()
    offered, _ = make_conversation(now=t)
    services.offers_assign(now=t)
    colleague = staff_factory()
    later, _ = make_conversation(now=t + timedelta(seconds=1))

    taken = chat_services.conversation_accept(
        conversation_id=None, operator=colleague, now=t + timedelta(seconds=2)
    )
    assert taken.pk == later.pk

    with pytest.raises(Conflict) as refused:
        chat_services.conversation_accept(
            conversation_id=offered.pk, operator=colleague, now=t + timedelta(seconds=2)
        )
    assert refused.value.code == "offered_to_colleague"
    with pytest.raises(Conflict) as refused:
        chat_services.conversation_accept(
            conversation_id=None, operator=colleague, now=t + timedelta(seconds=2)
        )
    assert refused.value.code == "all_offered"

    # The operator it is offered to may also take it by hand: the offer is theirs.
    chat_services.conversation_accept(
        conversation_id=offered.pk, operator=offered_to, now=t + timedelta(seconds=3)
    )
    assert Offer.objects.get(conversation=offered).outcome == Outcome.ACCEPTED


def test_a_lapsed_offer_does_not_block_a_colleague(
    auto, make_conversation, staff_factory, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    staff_factory()
    offered, _ = make_conversation(now=t)
    services.offers_assign(now=t)
    colleague = staff_factory()

    taken = chat_services.conversation_accept(
        conversation_id=offered.pk, operator=colleague, now=t + timedelta(seconds=31)
    )

    assert taken.operator_id == colleague.pk


# --- missed chats ------------------------------------------------------------------------


def test_a_missed_chat_keeps_how_long_the_visitor_waited(
    make_conversation, school_tuesday_evening, coordinator
) -> None:
    from onthaal.assignment.selectors import missed_chats

    t = school_tuesday_evening
    gave_up, _ = make_conversation(now=t)
    chat_services.conversation_end(
        conversation=gave_up, reason=EndReason.VISITOR_ENDED, now=t + timedelta(minutes=4)
    )

    event = ConversationEvent.objects.get(conversation=gave_up, kind="ended")
    assert event.data == {"reason": "missed", "waited_seconds": 240}
    figures = missed_chats(
        viewer=coordinator, start=t - timedelta(hours=1), end=t + timedelta(hours=1)
    )
    assert (figures["count"], figures["mean_wait_seconds"]) == (1, 240)
    assert figures["chats"][0]["waited_seconds"] == 240


# --- races (real threads on the database, as in chat's accept races) ------------------------


def _run_at_once(*actions) -> list[object]:
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_rounds_in_several_processes_at_once_never_double_offer(
    make_conversation, staff_factory, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    operators = [staff_factory() for _ in range(3)]
    for _ in range(5):
        make_conversation()
    settings.ONTHAAL_ASSIGNMENT = "auto"

    results = _run_at_once(*[services.offers_assign for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)], results
    offers = open_offers()
    assert len(offers) == 3 == sum(results)  # one per operator: the cap holds
    assert len({conversation for conversation, _ in offers}) == 3
    assert sorted(operator for _, operator in offers) == sorted(o.pk for o in operators)
    # Oldest first: the three who waited longest got them.
    oldest = Conversation.objects.order_by("queued_at", "pk").values_list("pk", flat=True)[:3]
    assert sorted(c for c, _ in offers) == sorted(oldest)


@pytest.mark.django_db(transaction=True)
def test_accepting_an_offer_while_colleagues_take_chats_never_doubles_a_chat(
    make_conversation, staff_factory, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    offered_to = [staff_factory() for _ in range(3)]
    for _ in range(4):
        make_conversation()
    settings.ONTHAAL_ASSIGNMENT = "auto"
    services.offers_assign()
    offers = list(Offer.objects.filter(outcome=Outcome.OPEN))
    assert len(offers) == 3
    takers = [staff_factory() for _ in range(3)]

    results = _run_at_once(
        *[
            (lambda o=offer: services.offer_accept(offer_id=o.pk, operator=o.operator))
            for offer in offers
        ],
        *[
            (lambda t=taker: chat_services.conversation_accept(conversation_id=None, operator=t))
            for taker in takers
        ],
        *[services.offers_expire for _ in range(2)],
    )

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, results
    # Every offer was accepted: nobody else could take an offered chat.
    assert all(isinstance(r, Conversation) for r in results[:3]), results
    # The three offered chats, and the one left for a taker.
    assert Conversation.objects.filter(status=Status.ACTIVE).count() == 4
    accepted = ConversationEvent.objects.filter(kind="accepted")
    assert accepted.count() == 4
    assert accepted.values("conversation").distinct().count() == 4
    for user in [*offered_to, *takers]:
        assert Conversation.objects.filter(operator=user, status=Status.ACTIVE).count() <= 1
    assert set(Offer.objects.values_list("outcome", flat=True)) == {Outcome.ACCEPTED}


def test_offers_respect_an_operator_s_own_maximum(
    auto, make_conversation, make_active_conversation, operator, school_tuesday_evening
) -> None:
    t = school_tuesday_evening
    auto.ONTHAAL_MAX_CHATS_PER_OPERATOR = 3
    operator.max_chats = 1
    operator.save(update_fields=["max_chats"])
    make_active_conversation(operator, now=t)
    make_conversation(now=t)

    # One chat is this operator's whole capacity: no offer, whatever the default.
    assert services.offers_assign(now=t) == 0
    assert open_offers() == []
