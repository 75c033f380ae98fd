"""Supervision's services and selectors on a real database: presence, the
overview, support, reading along, whispers, takeover and transfer, with the
races that matter (two coordinators taking over, a transfer to the last free
place, a transfer against the end of the chat)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from onthaal.audit.models import Action, AuditEntry
from onthaal.chat import services as chat_services
from onthaal.chat.models import Conversation, ConversationEvent, EndReason, Sender, Status
from onthaal.chat.retention import transcripts_purge
from onthaal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onthaal.staff.models import Availability, Discipline, Role, User
from onthaal.supervision import selectors, services
from onthaal.supervision.models import ConsoleConnection, ReadAlong, StaffNote

pytestmark = pytest.mark.django_db


def online(user: User, name: str | None = None) -> None:
    services.presence_open(user=user, channel_name=name or f"test.{user.pk}")


def kinds(conversation: Conversation) -> list[str]:
    return list(
        ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True)
    )


# --- presence and the overview -------------------------------------------------------


def test_overview_shows_online_staff_queue_chats_and_missed(
    staff_factory, coordinator, make_conversation, make_active_conversation, chat_open
):
    nurse = staff_factory(pseudonym="Noor", discipline=Discipline.NURSE)
    social = staff_factory(pseudonym="Sam", availability=Availability.PAUSED)
    staff_factory(pseudonym="Niet online")
    online(nurse)
    online(social)
    active, _ = make_active_conversation(nurse)
    make_conversation(now=timezone.now() - timedelta(minutes=3))
    missed, _ = make_conversation()
    chat_services.conversation_end(conversation=missed, reason=EndReason.VISITOR_ENDED)

    data = selectors.overview(viewer=coordinator)

    assert [(o["pseudonym"], o["chats"], o["availability"]) for o in data["online"]] == [
        ("Noor", 1, "available"),
        ("Sam", 0, "paused"),
    ]
    assert data["medical_online"] is True
    assert data["warnings"] == []
    assert data["queue"]["length"] == 1
    assert data["queue"]["longest_wait_seconds"] >= 180
    assert [(c["id"], c["operator_pseudonym"]) for c in data["active"]] == [(active.pk, "Noor")]
    assert data["missed_today"] == 1


def test_overview_warns_when_no_medical_operator_is_online(staff_factory, coordinator):
    online(staff_factory(discipline=Discipline.SOCIAL_WORKER))
    staff_factory(discipline=Discipline.DOCTOR)  # has no console open

    data = selectors.overview(viewer=coordinator)

    assert data["medical_online"] is False
    assert [w["code"] for w in data["warnings"]] == ["no_medical_online"]


def test_a_console_that_stopped_pinging_is_not_online(staff_factory, coordinator):
    user = staff_factory()
    online(user, "a")
    ConsoleConnection.objects.filter(channel_name="a").update(
        seen_at=timezone.now() - timedelta(minutes=2)
    )
    assert selectors.overview(viewer=coordinator)["online"] == []

    services.presence_touch(channel_name="a")
    assert [o["id"] for o in selectors.overview(viewer=coordinator)["online"]] == [user.pk]

    services.presence_close(channel_name="a")
    assert selectors.overview(viewer=coordinator)["online"] == []


def test_two_consoles_of_one_operator_count_once_and_until_both_close(staff_factory, coordinator):
    user = staff_factory()
    online(user, "one")
    online(user, "two")
    assert len(selectors.overview(viewer=coordinator)["online"]) == 1
    services.presence_close(channel_name="one")
    assert len(selectors.overview(viewer=coordinator)["online"]) == 1
    services.presence_close(channel_name="two")
    assert selectors.overview(viewer=coordinator)["online"] == []


def test_overview_compares_online_with_scheduled(staff_factory, coordinator):
    from onthaal.shifts.models import ShiftBlock, ShiftSignup

    here = staff_factory(pseudonym="Hier")
    away = staff_factory(pseudonym="Weg")
    online(here)
    now = timezone.now()
    block = ShiftBlock.objects.create(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1), created_at=now
    )
    for user in (here, away):
        ShiftSignup.objects.create(block=block, operator=user, created_at=now)

    data = selectors.overview(viewer=coordinator)

    assert [(s["pseudonym"], s["online"]) for s in data["scheduled_now"]] == [
        ("Hier", True),
        ("Weg", False),
    ]
    assert data["online"][0]["scheduled"] is True


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ANALYST])
def test_only_coordinators_see_the_overview(staff_factory, role):
    with pytest.raises(PermissionDenied):
        selectors.overview(viewer=staff_factory(role=role))


# --- support, reading along, whispers ------------------------------------------------


def test_support_read_along_and_whisper(operator, coordinator, make_active_conversation, chat_open):
    conversation, _ = make_active_conversation(operator)

    services.support_request(conversation_id=conversation.pk, operator=operator)
    again = services.support_request(conversation_id=conversation.pk, operator=operator)
    assert selectors.overview(viewer=coordinator)["support_requests"][0]["conversation_id"] == (
        conversation.pk
    )

    services.read_along_start(conversation_id=conversation.pk, coordinator=coordinator)
    services.read_along_start(conversation_id=conversation.pk, coordinator=coordinator)

    assert AuditEntry.objects.filter(
        action=Action.TRANSCRIPT_OPENED, actor=coordinator, target=f"conversation:{conversation.pk}"
    ).exists()
    assert selectors.readers_of(conversation_id=conversation.pk) == [
        {"id": coordinator.pk, "pseudonym": "Coördinator"}
    ]
    again.refresh_from_db()
    assert again.answered_by == coordinator
    assert selectors.overview(viewer=coordinator)["support_requests"] == []
    assert kinds(conversation).count("support_requested") == 1

    note = services.whisper_post(
        conversation_id=conversation.pk, author=coordinator, body="Vraag naar de school."
    )
    assert selectors.staff_notes(conversation=conversation)[0]["body"] == "Vraag naar de school."
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM supervision_staffnote WHERE id = %s", [note.pk])
        assert "school" not in cursor.fetchone()[0]

    services.read_along_stop(conversation_id=conversation.pk, coordinator=coordinator)
    assert selectors.readers_of(conversation_id=conversation.pk) == []


def test_only_the_chats_operator_asks_support(
    operator, other_operator, coordinator, make_active_conversation, chat_open
):
    conversation, _ = make_active_conversation(operator)
    with pytest.raises(NotFound):
        services.support_request(conversation_id=conversation.pk, operator=other_operator)
    with pytest.raises(PermissionDenied):
        services.support_request(conversation_id=conversation.pk, operator=coordinator)


def test_an_operator_cannot_read_along_or_whisper_in_a_colleagues_chat(
    operator, other_operator, make_active_conversation, chat_open
):
    conversation, _ = make_active_conversation(operator)
    with pytest.raises(PermissionDenied):
        services.read_along_start(conversation_id=conversation.pk, coordinator=other_operator)
    with pytest.raises(NotFound):
        services.whisper_post(conversation_id=conversation.pk, author=other_operator, body="Hoi")


def test_whisper_refuses_empty_and_ended(
    operator, coordinator, make_ended_conversation, make_active_conversation, chat_open
):
    active, _ = make_active_conversation(operator)
    with pytest.raises(InvalidInput):
        services.whisper_post(conversation_id=active.pk, author=coordinator, body="   ")
    ended, _ = make_ended_conversation(operator)
    with pytest.raises(Conflict):
        services.whisper_post(conversation_id=ended.pk, author=coordinator, body="Hoi")


def test_whispers_are_purged_with_the_transcript(
    operator, coordinator, make_active_conversation, chat_open, settings
):
    conversation, _ = make_active_conversation(operator)
    services.whisper_post(conversation_id=conversation.pk, author=coordinator, body="Geheim")
    chat_services.conversation_end(
        conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator
    )
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 1

    assert transcripts_purge(now=timezone.now() + timedelta(days=2)) == 1
    assert not StaffNote.objects.filter(conversation=conversation).exists()


# --- takeover ------------------------------------------------------------------------


def test_a_coordinator_takes_over(operator, coordinator, make_active_conversation, chat_open):
    conversation, _ = make_active_conversation(operator)
    chat_services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Hallo", client_id="v1"
    )
    services.read_along_start(conversation_id=conversation.pk, coordinator=coordinator)

    taken = services.conversation_take_over(
        conversation_id=conversation.pk, coordinator=coordinator, from_operator_id=operator.pk
    )

    assert taken.operator == coordinator
    assert taken.status == Status.ACTIVE
    assert kinds(conversation)[-1] == "taken_over"
    assert ReadAlong.objects.get().ended_at is not None
    # The new operator writes; the old one no longer can.
    chat_services.message_post(
        conversation=taken, sender=Sender.OPERATOR, author=coordinator, body="Ik", client_id="c1"
    )
    with pytest.raises(PermissionDenied):
        chat_services.message_post(
            conversation=taken, sender=Sender.OPERATOR, author=operator, body="Nee", client_id="o"
        )
    assert taken.messages.count() == 2


def test_an_operator_cannot_take_over(
    operator, other_operator, make_active_conversation, chat_open
):
    conversation, _ = make_active_conversation(operator)
    with pytest.raises(PermissionDenied):
        services.conversation_take_over(conversation_id=conversation.pk, coordinator=other_operator)


def test_a_second_coordinator_does_not_take_the_chat_from_the_first(
    operator, coordinator, staff_factory, make_active_conversation, chat_open
):
    second = staff_factory(role=Role.COORDINATOR, pseudonym="Tweede")
    conversation, _ = make_active_conversation(operator)
    services.conversation_take_over(
        conversation_id=conversation.pk, coordinator=coordinator, from_operator_id=operator.pk
    )
    with pytest.raises(Conflict) as caught:
        services.conversation_take_over(
            conversation_id=conversation.pk, coordinator=second, from_operator_id=operator.pk
        )
    assert caught.value.code == "conversation_changed"
    conversation.refresh_from_db()
    assert conversation.operator == coordinator


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_taking_over_at_once_only_one_wins(
    operator, staff_factory, make_active_conversation, chat_open
):
    racers = [
        staff_factory(role=Role.COORDINATOR),
        staff_factory(role=Role.ADMINISTRATOR),
        staff_factory(role=Role.COORDINATOR),
    ]
    conversation, _ = make_active_conversation(operator)
    barrier = threading.Barrier(len(racers))
    outcomes: dict[int, str] = {}

    def take(racer: User) -> None:
        barrier.wait()
        try:
            services.conversation_take_over(
                conversation_id=conversation.pk, coordinator=racer, from_operator_id=operator.pk
            )
            outcomes[racer.pk] = "won"
        except Conflict as exc:
            outcomes[racer.pk] = exc.code
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take, args=(r,)) for r in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conversation_changed", "conversation_changed", "won"]
    winner = next(pk for pk, outcome in outcomes.items() if outcome == "won")
    conversation.refresh_from_db()
    assert conversation.operator_id == winner
    assert kinds(conversation).count("taken_over") == 1


# --- transfer ------------------------------------------------------------------------


def test_transfer_with_a_note(operator, other_operator, make_active_conversation, chat_open):
    online(other_operator)
    conversation, _ = make_active_conversation(operator)
    assert [
        t["id"]
        for t in selectors.transfer_targets(viewer=operator, conversation_id=conversation.pk)
    ] == [other_operator.pk]

    moved = services.conversation_transfer(
        conversation_id=conversation.pk,
        actor=operator,
        to_operator_id=other_operator.pk,
        note="Vraag over studiekeuze",
    )

    assert moved.operator == other_operator
    event = ConversationEvent.objects.filter(conversation=conversation).last()
    assert (event.kind, event.actor, event.data["from_operator_id"]) == (
        "transferred",
        operator,
        operator.pk,
    )
    assert [n["body"] for n in selectors.staff_notes(conversation=conversation)] == [
        "Vraag over studiekeuze"
    ]
    # The former operator no longer reaches the chat.
    with pytest.raises(NotFound):
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=operator.pk
        )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"availability": Availability.PAUSED}, "target_not_available"),
        ({"role": Role.ANALYST}, "target_cannot_chat"),
    ],
)
def test_transfer_refused_to_an_unavailable_target(
    operator, other_operator, make_active_conversation, chat_open, change, code
):
    online(other_operator)
    User.objects.filter(pk=other_operator.pk).update(**change)
    conversation, _ = make_active_conversation(operator)
    with pytest.raises((Conflict, InvalidInput)) as caught:
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
        )
    assert caught.value.code == code
    conversation.refresh_from_db()
    assert conversation.operator == operator


def test_transfer_refused_to_a_target_without_a_console(
    operator, other_operator, make_active_conversation, chat_open
):
    conversation, _ = make_active_conversation(operator)
    with pytest.raises(Conflict) as caught:
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
        )
    assert caught.value.code == "target_not_online"


def test_transfer_refused_to_a_target_at_capacity(
    operator, other_operator, make_active_conversation, chat_open, settings
):
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    online(other_operator)
    make_active_conversation(other_operator)
    conversation, _ = make_active_conversation(operator)
    assert selectors.transfer_targets(viewer=operator, conversation_id=conversation.pk) == []
    with pytest.raises(Conflict) as caught:
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
        )
    assert caught.value.code == "target_at_capacity"


def test_transfer_of_an_ended_chat_is_refused(
    operator, other_operator, make_ended_conversation, chat_open
):
    online(other_operator)
    conversation, _ = make_ended_conversation(operator)
    with pytest.raises(Conflict):
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
        )


@pytest.mark.django_db(transaction=True)
def test_two_transfers_to_the_last_free_place_only_one_lands(
    staff_factory, make_active_conversation, chat_open, settings
):
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    target = staff_factory(pseudonym="Doel")
    online(target)
    senders = [staff_factory(), staff_factory(), staff_factory()]
    chats = [make_active_conversation(s)[0] for s in senders]
    barrier = threading.Barrier(len(senders))
    outcomes: list[str] = []

    def transfer(sender: User, chat: Conversation) -> None:
        barrier.wait()
        try:
            services.conversation_transfer(
                conversation_id=chat.pk, actor=sender, to_operator_id=target.pk
            )
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=transfer, args=pair) for pair in zip(senders, chats, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["target_at_capacity"] * 2 + ["won"]
    assert Conversation.objects.filter(operator=target, status=Status.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_transfer_racing_the_end_of_the_chat(
    operator, other_operator, make_active_conversation, chat_open
):
    online(other_operator)
    conversation, _ = make_active_conversation(operator)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def transfer() -> None:
        barrier.wait()
        try:
            services.conversation_transfer(
                conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
            )
            outcomes["transfer"] = "won"
        except Conflict as exc:
            outcomes["transfer"] = exc.code
        finally:
            close_old_connections()

    def end() -> None:
        barrier.wait()
        try:
            chat_services.conversation_end(
                conversation=conversation, reason=EndReason.VISITOR_ENDED
            )
            outcomes["end"] = "done"
        finally:
            close_old_connections()

    threads = [threading.Thread(target=transfer), threading.Thread(target=end)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    conversation.refresh_from_db()
    assert conversation.status == Status.ENDED
    assert outcomes["end"] == "done"
    history = kinds(conversation)
    if outcomes["transfer"] == "won":
        # Transferred first, then ended: it ended in the new operator's hands.
        assert history.index("transferred") < history.index("ended")
        assert conversation.operator == other_operator
    else:
        # SQLite serialises the two; PostgreSQL may let the transfer read the
        # chat active and then lose the conditional UPDATE.
        assert outcomes["transfer"] in {"conversation_not_active", "conversation_changed"}
        assert "transferred" not in history
        assert conversation.operator == operator


def test_the_overview_costs_the_same_queries_for_more_operators_and_chats(
    staff_factory, coordinator, make_active_conversation, chat_open
):
    from django.test.utils import CaptureQueriesContext

    def add_operators(n: int) -> None:
        for _ in range(n):
            user = staff_factory()
            online(user)
            chat, _ = make_active_conversation(user)
            services.support_request(conversation_id=chat.pk, operator=user)
            services.read_along_start(conversation_id=chat.pk, coordinator=coordinator)

    add_operators(1)
    with CaptureQueriesContext(connection) as few:
        selectors.overview(viewer=coordinator)
    add_operators(4)
    with CaptureQueriesContext(connection) as many:
        data = selectors.overview(viewer=coordinator)
    assert len(data["active"]) == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_transfer_respects_the_target_s_own_maximum(
    operator, other_operator, make_active_conversation, chat_open, settings
):
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 3
    other_operator.max_chats = 1
    other_operator.save(update_fields=["max_chats"])
    online(other_operator)
    make_active_conversation(other_operator)
    conversation, _ = make_active_conversation(operator)
    assert selectors.transfer_targets(viewer=operator, conversation_id=conversation.pk) == []
    with pytest.raises(Conflict) as caught:
        services.conversation_transfer(
            conversation_id=conversation.pk, actor=operator, to_operator_id=other_operator.pk
        )
    assert caught.value.code == "target_at_capacity"
