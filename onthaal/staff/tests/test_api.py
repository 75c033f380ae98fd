"""The operator's own profile and the queue, through the HTTP API."""

from __future__ import annotations

import pytest

from onthaal.chat.models import Status

pytestmark = pytest.mark.django_db

ME = "/api/v1/operator/me"


def patch(client, payload):
    return client.patch(ME, payload, content_type="application/json")


def test_the_profile(operator, operator_client, settings) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 3
    assert operator_client.get(ME).json() == {
        "id": operator.pk,
        "username": "lotte",
        "pseudonym": "Lotte",
        "availability": "available",
        "discipline": "psycho_pedagogue",
        "role": "operator",
        "max_chats": 3,
    }


def test_available_without_pseudonym_is_a_conflict(staff_factory, client) -> None:
    nameless = staff_factory(pseudonym="", availability="offline")
    client.force_login(nameless)

    response = patch(client, {"availability": "available"})

    assert response.status_code == 409
    assert response.json()["code"] == "pseudonym_required"
    nameless.refresh_from_db()
    assert nameless.availability == "offline"


def test_pseudonym_and_availability_in_one_go(staff_factory, client) -> None:
    nameless = staff_factory(pseudonym="", availability="offline")
    client.force_login(nameless)

    response = patch(client, {"pseudonym": "  Mo  ", "availability": "available"})

    assert response.status_code == 200
    assert (response.json()["pseudonym"], response.json()["availability"]) == ("Mo", "available")
    nameless.refresh_from_db()
    assert (nameless.pseudonym, nameless.availability) == ("Mo", "available")


@pytest.mark.parametrize("availability", ["paused", "offline", "available"])
def test_availability_changes(operator, operator_client, availability) -> None:
    response = patch(operator_client, {"availability": availability})
    assert response.json()["availability"] == availability
    operator.refresh_from_db()
    assert operator.availability == availability


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pseudonym": ""}, "pseudonym"),
        ({"pseudonym": "   "}, "pseudonym"),
        ({"pseudonym": "x" * 41}, "pseudonym"),
        ({"pseudonym": 5}, "pseudonym"),
        ({"availability": "busy"}, "availability"),
        ({"availability": "AVAILABLE"}, "availability"),
        ({"availability": 1}, "availability"),
    ],
)
def test_invalid_profile_changes_are_refused(operator, operator_client, payload, field) -> None:
    response = patch(operator_client, payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]["fields"]
    operator.refresh_from_db()
    assert (operator.pseudonym, operator.availability) == ("Lotte", "available")


def test_a_pseudonym_of_forty_characters_fits(operator, operator_client) -> None:
    response = patch(operator_client, {"pseudonym": "x" * 40})
    assert response.status_code == 200
    operator.refresh_from_db()
    assert operator.pseudonym == "x" * 40


def test_a_malformed_profile_body_is_a_400(operator_client) -> None:
    response = operator_client.patch(ME, "{", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "http_error")


def test_take_the_longest_waiting(make_conversation, operator, operator_client, chat_open) -> None:
    first, _ = make_conversation()
    make_conversation()

    response = operator_client.post("/api/v1/queue/take")

    assert response.status_code == 200
    taken = response.json()["conversation"]
    assert (taken["id"], taken["status"], taken["operator_id"]) == (first.pk, "active", operator.pk)
    assert taken["operator_pseudonym"] == "Lotte"


def test_take_from_an_empty_queue(operator_client) -> None:
    response = operator_client.post("/api/v1/queue/take")
    assert (response.status_code, response.json()["code"]) == (409, "queue_empty")


def test_accept_a_named_visitor(make_conversation, operator_client, chat_open) -> None:
    make_conversation()
    second, _ = make_conversation()

    response = operator_client.post(f"/api/v1/conversations/{second.pk}/accept")

    assert response.json()["conversation"]["id"] == second.pk
    second.refresh_from_db()
    assert second.status == Status.ACTIVE


def test_a_paused_operator_cannot_take(
    make_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_conversation()
    patch(operator_client, {"availability": "paused"})

    response = operator_client.post("/api/v1/queue/take")

    assert (response.status_code, response.json()["code"]) == (409, "operator_not_available")
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED


def test_the_third_chat_is_refused_at_capacity(
    make_conversation, operator_client, chat_open, settings
) -> None:
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 2
    for _ in range(3):
        make_conversation()
    codes = [operator_client.post("/api/v1/queue/take").status_code for _ in range(2)]
    refused = operator_client.post("/api/v1/queue/take")
    assert codes == [200, 200]
    assert (refused.status_code, refused.json()["code"]) == (409, "operator_at_capacity")


def test_a_control_character_in_the_pseudonym_is_refused(operator, operator_client) -> None:
    response = patch(operator_client, {"pseudonym": "Lo\x00tte"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_character"
    assert list(response.json()["details"]["fields"]) == ["pseudonym"]
    operator.refresh_from_db()
    assert operator.pseudonym == "Lotte"
