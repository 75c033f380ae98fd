"""Registering a chat after it ended: save, correct, validate, and the to-do list."""

from __future__ import annotations

import pytest

from onthaal.chat import services as chat_services
from onthaal.chat.models import ConversationEvent, EndReason
from onthaal.registration.models import Domain, Registration, Result, Topic

pytestmark = pytest.mark.django_db


def topic(name: str) -> int:
    return Topic.objects.get(name=name).pk


def result(code: str) -> int:
    return Result.objects.get(code=code).pk


def put_registration(client, conversation_id: int, payload):
    return client.put(
        f"/api/v1/conversations/{conversation_id}/registration",
        payload,
        content_type="application/json",
    )


def registration_payload(**overrides):
    payload = {
        "topic_ids": [topic("pesten / cyberpesten"), topic("depressie")],
        "result_ids": [result("support"), result("referral_clb")],
        "prank_suspected": False,
        "note": "Doorverwezen naar het eigen CLB.",
    }
    payload.update(overrides)
    return payload


def test_save_then_correct_a_registration(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    payload = registration_payload()

    saved = put_registration(operator_client, conversation.pk, payload)

    assert saved.status_code == 200
    body = saved.json()
    assert body["conversation_id"] == conversation.pk
    assert body["topic_ids"] == sorted(payload["topic_ids"])
    assert body["result_ids"] == sorted(payload["result_ids"])
    assert (body["prank_suspected"], body["note"]) == (False, "Doorverwezen naar het eigen CLB.")
    assert (
        operator_client.get(f"/api/v1/conversations/{conversation.pk}/registration").json() == body
    )

    corrected = put_registration(
        operator_client,
        conversation.pk,
        registration_payload(
            topic_ids=[topic("verliefdheid")], result_ids=[], prank_suspected=True
        ),
    )

    assert corrected.status_code == 200
    again = corrected.json()
    assert (again["topic_ids"], again["result_ids"], again["prank_suspected"]) == (
        [topic("verliefdheid")],
        [],
        True,
    )
    assert again["created_at"] == body["created_at"]
    assert again["updated_at"] >= body["updated_at"]
    registration = Registration.objects.get()
    assert registration.operator == operator
    assert list(registration.topics.values_list("name", flat=True)) == ["verliefdheid"]
    events = ConversationEvent.objects.filter(conversation=conversation, kind="registered")
    assert [e.data for e in events.order_by("pk")] == [{"correction": False}, {"correction": True}]


def test_nothing_registered_yet_is_not_registered(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    response = operator_client.get(f"/api/v1/conversations/{conversation.pk}/registration")
    assert response.status_code == 404
    assert response.json()["code"] == "not_registered"


def test_a_coordinator_corrects_an_operators_registration(
    make_ended_conversation, operator, operator_client, coordinator, coordinator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    put_registration(operator_client, conversation.pk, registration_payload())

    response = put_registration(
        coordinator_client, conversation.pk, registration_payload(prank_suspected=True)
    )

    assert response.status_code == 200
    registration = Registration.objects.get()
    assert registration.prank_suspected is True
    assert registration.operator == operator  # still the operator who held the chat
    last = ConversationEvent.objects.filter(kind="registered").order_by("pk").last()
    assert last.actor == coordinator


def test_a_retired_topic_is_refused_for_a_new_registration(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    retired = topic("vaccinatie")
    Topic.objects.filter(pk=retired).update(is_active=False)

    response = put_registration(
        operator_client, conversation.pk, registration_payload(topic_ids=[retired])
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_choice"
    assert response.json()["details"]["fields"]["topic_ids"] == [retired]
    assert not Registration.objects.exists()


def test_a_correction_keeps_a_topic_retired_since(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    kept = topic("vaccinatie")
    put_registration(operator_client, conversation.pk, registration_payload(topic_ids=[kept]))
    Topic.objects.filter(pk=kept).update(is_active=False)

    response = put_registration(
        operator_client, conversation.pk, registration_payload(topic_ids=[kept], note="aangevuld")
    )

    assert response.status_code == 200
    assert response.json()["topic_ids"] == [kept]
    assert response.json()["note"] == "aangevuld"


def test_a_topic_of_a_retired_domain_is_refused(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    Domain.objects.filter(code="PGZ").update(is_active=False)

    response = put_registration(
        operator_client, conversation.pk, registration_payload(topic_ids=[topic("vaccinatie")])
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_choice"


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"topic_ids": [999_999]}, 400, "unknown_choice"),
        ({"result_ids": [999_999]}, 400, "unknown_choice"),
        ({"topic_ids": [], "result_ids": []}, 400, "registration_empty"),
        ({"topic_ids": "pesten"}, 400, "invalid"),
        ({"topic_ids": ["a"]}, 400, "invalid"),
        ({"result_ids": None}, 400, "invalid"),
        ({"prank_suspected": "misschien"}, 400, "invalid"),
        ({"note": "x" * 2001}, 400, "note_too_long"),
    ],
)
def test_invalid_registrations_are_refused(
    make_ended_conversation, operator, operator_client, chat_open, overrides, status, code
) -> None:
    conversation, _ = make_ended_conversation(operator)

    response = put_registration(operator_client, conversation.pk, registration_payload(**overrides))

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Registration.objects.exists()


def test_unknown_choices_are_named(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    response = put_registration(
        operator_client,
        conversation.pk,
        registration_payload(topic_ids=[topic("motivatie"), 999_998], result_ids=[999_997]),
    )
    assert response.json()["details"]["fields"] == {"topic_ids": [999_998], "result_ids": [999_997]}


def test_an_empty_body_is_registration_empty(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    response = put_registration(operator_client, conversation.pk, {})
    assert (response.status_code, response.json()["code"]) == (400, "registration_empty")


def test_a_malformed_body_is_a_400(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    response = put_registration(operator_client, conversation.pk, "{oops")
    assert (response.status_code, response.json()["code"]) == (400, "http_error")


def test_an_active_or_missed_chat_is_not_registrable(
    make_active_conversation,
    make_conversation,
    operator,
    operator_client,
    coordinator_client,
    chat_open,
) -> None:
    active, _ = make_active_conversation(operator)
    missed, _ = make_conversation()
    chat_services.conversation_end(conversation=missed, reason=EndReason.VISITOR_ENDED)

    response = put_registration(operator_client, active.pk, registration_payload())
    assert (response.status_code, response.json()["code"]) == (409, "not_registrable")
    # A missed chat was never anyone's; only a coordinator can even reach it.
    response = put_registration(coordinator_client, missed.pk, registration_payload())
    assert (response.status_code, response.json()["code"]) == (409, "not_registrable")
    assert not Registration.objects.exists()


def test_a_control_character_in_the_note_is_refused(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)

    response = put_registration(
        operator_client, conversation.pk, registration_payload(note="a\x00b")
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_character"
    assert list(response.json()["details"]["fields"]) == ["note"]
    assert not Registration.objects.exists()


# --- the to-do list ------------------------------------------------------------------------


def test_an_ended_chat_stays_on_the_todo_list_until_registered(
    make_active_conversation,
    make_ended_conversation,
    operator,
    other_operator,
    operator_client,
    chat_open,
) -> None:
    active, _ = make_active_conversation(operator)
    ended, _ = make_ended_conversation(operator)
    make_ended_conversation(other_operator)  # a colleague's: not on my list

    mine = operator_client.get("/api/v1/operator/conversations").json()
    assert [c["id"] for c in mine["active"]] == [active.pk]
    assert [c["id"] for c in mine["todo"]] == [ended.pk]
    assert mine["todo"][0]["end_reason"] == "operator_ended"

    chat_services.conversation_end(conversation=active, reason=EndReason.VISITOR_ENDED)
    mine = operator_client.get("/api/v1/operator/conversations").json()
    assert mine["active"] == []
    assert [c["id"] for c in mine["todo"]] == [ended.pk, active.pk]  # by end time

    put_registration(operator_client, ended.pk, registration_payload())
    mine = operator_client.get("/api/v1/operator/conversations").json()
    assert [c["id"] for c in mine["todo"]] == [active.pk]
